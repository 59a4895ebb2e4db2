"""The customer import and search give the same answers on PostgreSQL as
on SQLite: PostgreSQL's multi-row inserts go through psycopg2's
``execute_values`` with each column's own bind processing (JSON, UTC
times), SQLite's through SQLAlchemy; a name's page is read by its ids and
sort values first, then in full."""
import base64
from datetime import datetime, timezone

from sqlalchemy import func, select

from dealerflow.actor import Actor
from services.customers import imports, profiles, search
from services.customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTerm, ImportRow, Trait

MANAGER = Actor(kind="user", user_id="m-sh", role="manager", stores=("SH-PUDONG",))
CSV = ("姓名,手机,邮箱,品牌,标签,备注,登记日期\n"
       "王磊,138 0013 8000,WL@Example.com,比亚迪,\"VIP,老客户\",想了解贷款和置换 it's \\\"ok\\\",2025-03-01 10:30\n"
       "李娜,13912345678,,,,,\n"
       "坏号码,12345,,,,,\n"
       "王丽,+86 136-0013-6000,,特斯拉,,,\n"
       "重复,13912345678,,,,,\n")


def test_an_import_and_a_search_on_each_backend(service_db, monkeypatch):
    session = service_db("customers")()
    job = imports.start(session, MANAGER, "SH-PUDONG", "list.csv", base64.b64encode(CSV.encode()).decode())
    assert imports.advance(session, "worker")
    assert imports.get(session, MANAGER, job["id"])["total"] == 5
    imports.check(session, MANAGER, job["id"], {"0": "name", "1": "phone", "2": "email", "3": "brand", "4": "tags",
                                                "5": "notes", "6": "created_at"})
    assert imports.advance(session, "worker")
    checked = imports.get(session, MANAGER, job["id"], rows=None)
    assert (checked["created"], checked["matched"], checked["rejected"]) == (3, 1, 1)
    rejected = {row.row: row for row in checked["rows"]}
    assert rejected[4].errors == {"phone": ["12345 is not a real phone number."]} and rejected[4].fields is None
    assert rejected[6].matched_by == "row 3" and rejected[6].errors is None  # JSON null reads back as None
    imports.commit(session, MANAGER, job["id"], skip_rejected=True)
    assert imports.advance(session, "worker")
    assert imports.get(session, MANAGER, job["id"])["status"] == "done"

    wang = session.scalars(select(Customer).where(Customer.name == "王磊")).one()
    assert (wang.name_key, wang.initials, wang.tags, wang.preferences) == ("王磊", "wl", ["VIP", "老客户"],
                                                                          {"brands": ["比亚迪"]})
    assert wang.created_at == datetime(2025, 3, 1, 10, 30, tzinfo=timezone.utc)
    assert wang.updated_at.tzinfo is not None and wang.merged_into is None and wang.erased_at is None
    assert session.scalars(select(CustomerEmail.email).where(CustomerEmail.customer_id == wang.id)).all() == \
        ["wl@example.com"]
    assert {(p.e164, p.national, p.reversed, p.extension) for p in session.scalars(select(CustomerPhone))} == {
        ("+8613800138000", "13800138000", "0008310083168", ""), ("+8613912345678", "13912345678", "8765432193168", ""),
        ("+8613600136000", "13600136000", "0006310063168", "")}
    assert session.scalar(select(func.count()).select_from(CustomerTerm)) == 4  # 2 tags, 2 brands
    traits = session.scalars(select(Trait).where(Trait.customer_id == wang.id)).all()
    assert {t.trait for t in traits} == {"finance", "trade_in"} and all(t.evidence and t.weights for t in traits)
    assert {row.customer_id for row in session.scalars(select(ImportRow).where(ImportRow.outcome == "create"))} == \
        set(session.scalars(select(Customer.id)))

    profiles.create_customer(session, MANAGER, {"name": "Wang Lei", "phones": ["13700137000"]})

    def pages(q):
        first = search.search_customers(session, MANAGER, {"q": q, "limit": 2})
        second = search.search_customers(session, MANAGER, {"q": q, "limit": 2, "cursor": first["next_cursor"]})
        assert second["next_cursor"] is None
        return first["items"] + second["items"]
    found = pages("wl")
    assert sorted(item["name"] for item in found) == ["Wang Lei", "王丽", "王磊"]
    assert [(item["phones"], item["tags"]) for item in found if item["name"] == "王磊"] == \
        [([{"e164": "+8613800138000", "extension": None}], ["VIP", "老客户"])]
    monkeypatch.setattr(search, "FEW", 1)  # letters with many matches: walked newest first
    assert pages("wl") == found
    assert sorted(item["name"] for item in search.search_customers(session, MANAGER, {"q": "王"})["items"]) == \
        ["王丽", "王磊"]
    session.close()
