"""services.customers.imports: a commit makes what a staff-made customer
has (names folded for search, phones with their national and reversed
digits, terms, a timeline entry), batch after batch; a phone taken since the
dry run becomes a match (on a real SQLite database)."""
import base64
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from dealerflow.actor import Actor
from services.customers import imports, profiles, search
from services.customers.models import (
    Customer,
    CustomerPhone,
    CustomerTerm,
    Import,
    ImportRow,
    TimelineEntry,
)

MANAGER = Actor(kind="user", user_id="m-sh", role="manager", stores=("SH-PUDONG",))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def checked(session, csv: str) -> str:
    """An uploaded .csv, dry run done; its import's id."""
    job = imports.start(session, MANAGER, "SH-PUDONG", "list.csv", base64.b64encode(csv.encode()).decode())
    assert imports.advance(session, "worker")
    imports.check(session, MANAGER, job["id"], {"0": "name", "1": "phone", "2": "brand", "3": "notes"})
    assert imports.advance(session, "worker")
    assert imports.get(session, MANAGER, job["id"])["status"] == "checked"
    return job["id"]


def test_an_import_commits_batch_after_batch_what_staff_made_customers_have(session, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)  # three batches and a bit, each after the last
    import_id = checked(session, "姓名,手机,品牌,备注\n"
                                 "王磊,138 0013 8000,比亚迪,想了解贷款\n"
                                 "李四,13912345678,,\n"
                                 "王磊,13600136000,特斯拉,\n"
                                 "坏号码,12345,,\n"
                                 "Anna Lee,+49 171 1234567,,\n"
                                 "赵六,13700137000,,\n"
                                 "钱七,13500135000,,\n")
    # someone gets the sixth row's phone between the dry run and the import
    taken = profiles.create_customer(session, MANAGER, {"name": "赵六", "phones": ["13700137000"]})
    imports.commit(session, MANAGER, import_id, skip_rejected=True)
    assert imports.advance(session, "worker")

    job = imports.get(session, MANAGER, import_id, rows=None)
    assert (job["status"], job["created"], job["matched"], job["rejected"]) == ("done", 5, 1, 1)
    decided = {row.row: row for row in session.scalars(select(ImportRow).where(ImportRow.import_id == import_id))}
    assert all(row.fields is None for row in decided.values())  # dropped once imported
    sixth = [row for row in decided.values() if row.outcome == "match"]
    assert [(row.customer_id, row.matched_by) for row in sixth] == [(taken.id, "phone")]
    created = {row.customer_id for row in decided.values() if row.outcome == "create"}
    assert created == set(session.scalars(select(Customer.id).where(Customer.import_id == import_id)))

    wang = session.scalars(select(Customer).where(Customer.import_id == import_id, Customer.name == "王磊")
                           .order_by(Customer.created_at)).all()
    assert [(c.name_key, c.initials, c.lifecycle, c.store_code, c.revision) for c in wang] == \
        [("王磊", "wl", "potential", "SH-PUDONG", 1)] * 2
    phones = {p.e164: (p.national, p.reversed, p.extension) for p in session.scalars(select(CustomerPhone))}
    assert phones["+8613800138000"] == ("13800138000", "0008310083168", "")
    assert phones["+491711234567"] == ("1711234567", "765432117194", "")
    assert {(t.kind, t.value) for t in session.scalars(select(CustomerTerm))} == {("brand", "比亚迪"), ("brand", "特斯拉")}
    assert count(session, TimelineEntry) == 5 + 1  # one "imported" each, and the staff-made one's "created"
    for q, names in (("wl", ["王磊", "王磊"]), ("8000", ["王磊"]), ("anna", ["Anna Lee"]), ("al", ["Anna Lee"])):
        assert [item["name"] for item in search.search_customers(session, MANAGER, {"q": q})["items"]] == names, q


def test_an_import_whose_lease_is_lost_mid_batch_stops_and_is_resumed_where_it_was(session, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)
    import_id = checked(session, "姓名,手机,品牌,备注\n" + "".join(f"客户{n},1380013{n:04d},,\n" for n in range(7)))
    imports.commit(session, MANAGER, import_id, skip_rejected=False)
    real_renew, renewed = imports.renew, []

    def renew(session, job, worker):  # another worker takes the import while its second batch is stored
        renewed.append(job.processed)
        if len(renewed) == 2:
            session.execute(update(Import).where(Import.id == job.id).values(
                leased_by="other", lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
        return real_renew(session, job, worker)

    monkeypatch.setattr(imports, "renew", renew)
    assert imports.advance(session, "worker")
    job = imports.get(session, MANAGER, import_id)
    assert (job["status"], job["created"]) == ("importing", 2)       # the second batch was rolled back
    assert count(session, Customer) == 2
    monkeypatch.setattr(imports, "renew", real_renew)
    session.expire_all()
    assert imports.advance(session, "worker")                        # the lease ran out: resumed
    job = imports.get(session, MANAGER, import_id)
    assert (job["status"], job["created"], job["matched"]) == ("done", 7, 0)
    assert count(session, Customer) == 7 and count(session, TimelineEntry) == 7
