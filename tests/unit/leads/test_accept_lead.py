"""services.leads.handlers.accept_lead on a real SQLite database: a new
lead is written by Core INSERTs, not the ORM's flush, yet it is stored as
the ORM stored it and stays the session's object; and a lead's intake
keeps to its budget of statements."""
import uuid

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import sessionmaker

from dealerflow.actor import Actor
from dealerflow.contracts import LeadSubmitted, schema
from dealerflow.db import make_engine, utcnow
from services.leads import changes, handlers
from services.leads.models import Base, Lead, LeadEvent, OutboxMessage, RosterMember, StoreSettings
from tests.conftest import make_lead

STORE = "SH-PUDONG"
ALL_HOURS = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/leads.db")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        session.add(StoreSettings(code=STORE, timezone="Asia/Shanghai", response_minutes=15, revision=1))
        session.add(RosterMember(user_id="m-1", store_code=STORE, display_name="M", role="manager",
                                 active=True, revision=1))
        session.commit()
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def staff(sessions, *consultants, active=True):
    with sessions() as session:
        session.add_all(RosterMember(user_id=user, store_code=STORE, display_name=user, role="consultant",
                                     active=active, revision=1, shift=ALL_HOURS) for user in consultants)
        session.commit()


def submitted(**overrides) -> dict:
    lead = make_lead(**overrides)
    lead.pop("store_code")
    lead["phone_e164"] = "+86" + lead["customer"]["phone"]
    return schema(LeadSubmitted).load({
        "id": str(uuid.uuid4()), "platform": "p1", "api_key_id": "k1", "store_code": STORE,
        "submitted_at": utcnow().isoformat(), "format": "json", "lead": lead})


def history(session, lead_id):
    return list(session.scalars(select(LeadEvent.change).where(LeadEvent.lead_id == lead_id)
                                .order_by(LeadEvent.at, LeadEvent.id)))


def test_a_routed_lead_is_written_with_its_owner_and_stays_the_sessions_object(sessions):
    staff(sessions, "c-1", "c-2")
    with sessions() as session:
        lead = handlers.accept_lead(session, submitted())
        assert session.scalar(select(Lead).where(Lead.id == lead.id)) is lead
        assert (lead.status, lead.consultant_id, lead.closed_at, lead.vehicle) == ("assigned", "c-1", None, None)
        owner = Actor(kind="user", user_id="c-1", role="consultant", stores=(STORE,))
        changes.change_stage(session, owner, lead.id, "needs_confirmed", None)
        assert lead.status == "contacted"  # the change went through this very object
    with sessions() as session:
        stored = session.get(Lead, lead.id)
        assert (stored.status, stored.consultant_id, stored.grade, stored.stage) == (
            "contacted", "c-1", lead.grade, "needs_confirmed")
        assert stored.first_contact_due_at == lead.first_contact_due_at
        # the columns it was not given are SQL NULL, as the ORM left them (a JSON column too)
        assert session.scalar(text("SELECT count(*) FROM leads WHERE vehicle IS NULL AND closed_at IS NULL")) == 1
        assert history(session, lead.id) == ["graded", "first_contact", "stage_changed"]


def test_a_pooled_lead_is_graded_before_it_is_pooled(sessions):
    staff(sessions, "c-1", active=False)
    with sessions() as session:
        lead = handlers.accept_lead(session, submitted())
        assert lead.status == "pooled" and session.scalar(select(Lead.status).where(Lead.id == lead.id)) == "pooled"
        assert history(session, lead.id) == ["graded", "pooled"]


def test_a_lead_waits_for_the_stores_first_consultant_and_a_second_inquiry_joins_it(sessions):
    with sessions() as session:
        first = handlers.accept_lead(session, submitted())
        assert first.status == "accepted" and first.consultant_id is None
        again = make_lead()
        again["customer"] = dict(first.customer)
        joined = handlers.accept_lead(session, submitted(customer=again["customer"]))
        assert joined.status == "joined" and joined.duplicate_of == first.id
        assert session.scalar(select(Lead.duplicate_of).where(Lead.id == joined.id)) == first.id
        assert history(session, first.id) == ["graded", "inquiry"] and history(session, joined.id) == []
        assert handlers.accept_lead(session, submitted(external_id=None)) is not None
        received = session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.event_type == "lead_received")).all()
        assert [event["joined_lead_id"] for event in received] == [None, first.id, None]


def test_a_lead_is_stored_and_routed_in_twelve_statements(sessions):
    staff(sessions, *(f"c-{n}" for n in range(20)))
    with sessions() as session:
        handlers.accept_lead(session, submitted())  # the store's first: its rotation row is created
    statements = []
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sessions() as session:
        lead = handlers.accept_lead(session, submitted())
    assert lead.consultant_id == "c-1"
    assert len(statements) == 12, statements  # BEGIN, 6 reads, 5 writes
