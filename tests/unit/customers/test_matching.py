"""services.customers: a lead finds its customer (or makes one), two
customers behind one lead are listed, a merge keeps everything, search reads
``q`` by its shape, and an erasure keeps only what counts need (on a real
SQLite database)."""
import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dealerflow.actor import Actor
from dealerflow.contracts import LeadReceived, schema
from services.customers import handlers, merging, privacy, profiles, search
from services.customers.exceptions import ContactTaken, CustomerNotFound, NotAllowed
from services.customers.models import (
    Customer,
    CustomerEmail,
    CustomerLead,
    CustomerPhone,
    CustomerTerm,
    DuplicatePair,
    OutboxMessage,
    TimelineEntry,
    Trait,
)

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
MANAGER = Actor(kind="user", user_id="m-sh", role="manager", stores=("SH-PUDONG",))
CONSULTANT = Actor(kind="user", user_id="c-sh1", role="consultant", stores=("SH-PUDONG",))
BJ_MANAGER = Actor(kind="user", user_id="m-bj", role="manager", stores=("BJ-CHAOYANG",))


def received(customer: dict, store="SH-PUDONG", **fields) -> dict:
    """A ``lead_received`` as the handler gets it: loaded with its schema."""
    return schema(LeadReceived).load(dict({
        "event_id": str(uuid.uuid4()), "occurred_at": T0.isoformat(), "lead_id": str(uuid.uuid4()),
        "store_code": store, "source": "autohome", "channel": "third_party", "customer": customer,
        "phone_e164": None, "phone_extension": None, "interest": None, "comments": None}, **fields))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_new_person_becomes_a_customer_with_the_leads_store_and_source(session):
    customer = session.get(Customer, handlers.match_lead_customer(session, received(
        {"name": "王磊", "phone": "13800138000", "email": "WL@Example.com"}, interest={"brand": "BYD", "model": "Han"},
        comments="考虑贷款，担心续航")))
    assert (customer.store_code, customer.source, customer.lifecycle) == ("SH-PUDONG", "autohome", "potential")
    assert session.scalars(select(CustomerEmail.email)).all() == ["wl@example.com"]
    assert customer.preferences == {"brands": ["BYD"], "models": ["Han"]}
    assert {trait.trait for trait in session.scalars(select(Trait))} >= {"finance", "concern:range"}
    assert count(session, TimelineEntry) == 1
    assert count(session, OutboxMessage) == 0  # the lead's customer is this service's to know: nothing to announce


def test_a_leads_customer_is_answered_to_who_may_see_them(session):
    event = received({"name": "王磊", "phone": "13800138000"})
    with pytest.raises(CustomerNotFound):  # not matched yet
        profiles.lead_customer(session, MANAGER, event["lead_id"])
    customer_id = handlers.match_lead_customer(session, event)
    assert profiles.lead_customer(session, MANAGER, event["lead_id"])["id"] == customer_id
    with pytest.raises(CustomerNotFound):  # another store's manager
        profiles.lead_customer(session, BJ_MANAGER, event["lead_id"])


def test_the_same_message_twice_changes_nothing(session):
    event = received({"name": "王磊", "phone": "13800138000"})
    handlers.match_lead_customer(session, event)
    assert handlers.match_lead_customer(session, event) is None
    assert (count(session, Customer), count(session, CustomerLead)) == (1, 1)


def test_a_known_phone_brings_the_lead_to_its_customer_and_adds_a_new_email(session):
    first = handlers.match_lead_customer(session, received({"name": "王磊", "phone": "13800138000"}))
    second = handlers.match_lead_customer(session, received({"phone": "+86 138-0013-8000", "email": "wl@x.cn"}))
    assert second == first
    assert session.scalars(select(CustomerEmail.customer_id)).all() == [first]


def test_a_known_customers_lead_adds_what_it_asks_for_and_an_owner_only_where_there_is_none(session):
    def lead(phone, consultant_id=None, **interest):
        assigned = {"consultant_id": consultant_id, "assigned_at": T0.isoformat()} if consultant_id else {}
        return handlers.match_lead_customer(session, received({"phone": phone}, interest=interest, **assigned))

    def seen(customer_id):  # read as columns: the rows as they are now, not an object the session holds
        return session.execute(select(Customer.owner_id, Customer.preferences, Customer.updated_at)
                               .where(Customer.id == customer_id)).one()

    owned = lead("13800138000", "c-1", brand="BYD")
    before = seen(owned)
    assert lead("+86 138 0013 8000", "c-2", brand="BYD", model="Han") == owned
    after = seen(owned)
    assert (after.owner_id, after.preferences) == ("c-1", {"brands": ["BYD"], "models": ["Han"]})
    assert after.updated_at > before.updated_at
    assert {tuple(row) for row in session.execute(select(CustomerTerm.kind, CustomerTerm.value))} == {
        ("brand", "byd"), ("model", "han")}
    assert sorted(session.execute(select(CustomerLead.consultant_id)).scalars()) == ["c-1", "c-2"]
    assert sorted(session.scalars(select(TimelineEntry.kind))) == ["assigned", "assigned", "lead", "lead"]
    assert lead("13800138000", brand="BYD") == owned and seen(owned)[:2] == after[:2]  # nothing new: as it was

    unowned = lead("13900139000")
    assert seen(unowned).owner_id is None
    lead("13900139000", "c-3")
    assert seen(unowned).owner_id == "c-3"


def test_a_known_customers_traits_gain_new_evidence_only_and_a_removed_one_stays_removed(session):
    from services.customers.derived import decide, learn_from_text
    customer_id = handlers.match_lead_customer(session, received({"phone": "13800138000"}, comments="考虑贷款"))
    [finance] = session.scalars(select(Trait)).all()
    assert (finance.trait, finance.status, len(finance.evidence)) == ("finance", "inferred", 1)
    decide(session, MANAGER, customer_id, "finance", "removed")

    def traits():  # read as columns: the rows as they are now
        return {row.trait: row for row in session.execute(
            select(Trait.trait, Trait.status, Trait.weights, Trait.evidence, Trait.confidence))}
    learned = dict(source="consultant_note", at=T0, ref="lead-2")
    assert learn_from_text(session, customer_id, "担心续航，想置换", **learned) == ["concern:range", "trade_in"]
    assert learn_from_text(session, customer_id, "担心续航，想置换", **learned) == []  # the same text: no news
    assert learn_from_text(session, customer_id, "续航是个问题，贷款也行", **dict(learned, ref="lead-3")) == [
        "concern:range"]
    session.commit()
    now = traits()
    assert (now["finance"].status, len(now["finance"].evidence)) == ("removed", 1)
    assert (len(now["concern:range"].evidence), len(now["concern:range"].weights), len(now["trade_in"].evidence)) \
        == (2, 2, 1)
    assert now["concern:range"].confidence > now["trade_in"].confidence


def test_the_phone_decides_and_a_clash_with_the_email_is_listed_not_merged(session):
    by_phone = handlers.match_lead_customer(session, received({"name": "张伟", "phone": "13900139000"}))
    by_email = handlers.match_lead_customer(session, received({"name": "张伟", "email": "zw@x.cn"}))
    third = handlers.match_lead_customer(session, received({"phone": "13900139000", "email": "zw@x.cn"}))
    assert third == by_phone and count(session, Customer) == 2
    [pair] = session.scalars(select(DuplicatePair)).all()
    assert {pair.customer_id, pair.other_id} == {by_phone, by_email} and pair.status == "open"
    handlers.match_lead_customer(session, received({"phone": "13900139000", "email": "zw@x.cn"}))
    assert count(session, DuplicatePair) == 1  # listed once


def test_a_switchboards_extensions_are_two_customers(session):
    one = handlers.match_lead_customer(session, received({"phone": "021-5888 8888"}, phone_e164="+862158888888",
                                                         phone_extension="301"))
    two = handlers.match_lead_customer(session, received({"phone": "021-5888 8888"}, phone_e164="+862158888888",
                                                         phone_extension="302"))
    assert one != two


def test_staff_cannot_give_a_customer_someone_elses_phone(session):
    first = profiles.create_customer(session, MANAGER, {"name": "甲", "phones": ["13800138000"]})
    with pytest.raises(ContactTaken) as taken:
        profiles.create_customer(session, MANAGER, {"name": "乙", "phones": ["+86 138 0013 8000"]})
    assert taken.value.errors["customer_ids"] == [first.id]
    with pytest.raises(ContactTaken) as hidden:  # not visible to the other store: its id is not told
        profiles.create_customer(session, BJ_MANAGER, {"name": "丙", "phones": ["13800138000"]})
    assert hidden.value.errors["customer_ids"] == []


def test_a_merge_keeps_everything_of_both(session):
    kept = session.get(Customer, handlers.match_lead_customer(session, received(
        {"name": "李娜", "phone": "13700137000"}, comments="想置换")))
    other = session.get(Customer, handlers.match_lead_customer(session, received(
        {"name": "李娜", "email": "ln@x.cn"}, interest={"brand": "Tesla", "model": "Model Y"}, comments="想置换，贷款")))
    profiles.update_customer(session, MANAGER, other.id, {"tags": ["VIP"], "wechat_id": "lina88"})
    with pytest.raises(NotAllowed):
        merging.merge(session, CONSULTANT, kept.id, other.id, "same")
    other_lead = session.scalar(select(CustomerLead.lead_id).where(CustomerLead.customer_id == other.id))
    merge = merging.merge(session, MANAGER, kept.id, other.id, "same person")
    assert profiles.lead_customer(session, MANAGER, other_lead)["id"] == kept.id
    assert merge.moved["leads"] == 1 and merge.moved["phones"] == 0 and merge.moved["emails"] == 1
    session.refresh(kept)
    assert (kept.tags, kept.wechat_id, kept.preferences["models"]) == (["VIP"], "lina88", ["Model Y"])
    assert set(session.scalars(select(CustomerLead.customer_id))) == {kept.id}
    trade_in = session.get(Trait, (kept.id, "trade_in"))
    assert len(trade_in.evidence) == 2  # both customers' evidence
    assert session.get(Trait, (kept.id, "finance")) is not None
    with pytest.raises(CustomerNotFound):
        profiles.visible_customer(session, MANAGER, other.id)
    assert [row.kept_id for row in merging.list_merges(session, MANAGER, {"limit": 10})["items"]] == [kept.id]


def test_search_reads_q_by_its_shape(session):
    wang = profiles.create_customer(session, MANAGER, {"name": "王磊", "phones": ["13800138000"],
                                                       "emails": ["wl@example.com"], "tags": ["VIP"]})
    profiles.create_customer(session, MANAGER, {"name": "李四", "phones": ["13912345678"]})

    def ids(**query):
        return [item["id"] for item in search.search_customers(session, MANAGER, query)["items"]]
    for q in ("王", "王磊", "wl", "WL", "8000", "138 0013", "+86 138", "wl@ex", "WL@EXAMPLE.COM"):
        assert ids(q=q) == [wang.id], q
    assert ids(q="0013") == []  # the middle of a number is no fragment we look for
    assert ids(tag="vip") == [wang.id]
    assert search.search_customers(session, BJ_MANAGER, {"q": "王"})["items"] == []


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_any_q_searches_without_error(q):
    from services.customers.search import matching_ids
    matching_ids(q or "x")  # builds a query for anything a user types


def test_erase_keeps_only_what_counts_need(session):
    customer = session.get(Customer, handlers.match_lead_customer(session, received(
        {"name": "欧阳", "phone": "13600136000", "email": "oy@x.cn"}, comments="想置换")))
    with pytest.raises(NotAllowed):
        privacy.erase_customer(session, CONSULTANT, customer.id)
    lead_ids = privacy.erase_customer(session, MANAGER, customer.id)
    assert len(lead_ids) == 1
    for model in (CustomerPhone, CustomerEmail, Trait, TimelineEntry):
        assert count(session, model) == 0
    session.refresh(customer)
    assert (customer.name, customer.name_key, customer.initials, customer.preferences) == (None, None, None, {})
    assert count(session, CustomerLead) == 1  # the anonymous counts stay
    with pytest.raises(CustomerNotFound):
        profiles.visible_customer(session, MANAGER, customer.id)


def test_a_common_q_is_filtered_by_a_subquery_with_the_same_answer(session, monkeypatch):
    for name, phone in (("王一", "13800138001"), ("王二", "13800138002"), ("李三", "13800138003")):
        profiles.create_customer(session, MANAGER, {"name": name, "phones": [phone]})

    def names(q):
        return sorted(item["name"] for item in search.search_customers(session, MANAGER, {"q": q})["items"])
    few = names("王"), names("138 0013")
    monkeypatch.setattr(search, "FEW", 1)  # more matches than FEW: the lookup becomes a subquery
    assert (names("王"), names("138 0013")) == few == (["王一", "王二"], ["李三", "王一", "王二"])


def test_an_import_past_the_row_limit_fails_its_dry_run_and_keeps_nothing(session, monkeypatch):
    import base64

    from services.customers import imports
    from services.customers.models import ImportRow
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    monkeypatch.setattr(imports, "BATCH", 2)
    rows = "".join(f"客户{n},1390013{n:04d}\n" for n in range(5))
    job = imports.start(session, MANAGER, "SH-PUDONG", "list.csv",
                        base64.b64encode(f"姓名,手机\n{rows}".encode()).decode())
    assert imports.advance(session, "worker") and imports.get(session, MANAGER, job["id"])["status"] == "uploaded"
    imports.check(session, MANAGER, job["id"], {"0": "name", "1": "phone"})
    assert imports.advance(session, "worker")
    failed = imports.get(session, MANAGER, job["id"])
    assert failed["status"] == "failed" and "more than 3 rows" in failed["error"]
    assert count(session, ImportRow) == 0 and count(session, Customer) == 0
    with pytest.raises(NotAllowed):
        imports.get(session, CONSULTANT, job["id"])


def test_a_behaviour_with_too_many_details_is_refused(session):
    from services.customers.behaviours import record_behaviour
    from services.customers.exceptions import InvalidCustomer
    behaviour = {"phone": "13800138000", "kind": "model_viewed", "occurred_at": "2026-11-28T10:00:00+08:00",
                 "details": {f"k{n}": n for n in range(31)}}
    with pytest.raises(InvalidCustomer) as refused:
        record_behaviour(session, MANAGER, behaviour)
    assert "details" in refused.value.errors
    record_behaviour(session, MANAGER, dict(behaviour, details={"brand": "BYD"}))  # 30 or fewer: taken
