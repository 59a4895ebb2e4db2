"""What a lead's fan-out reads and writes (``fanout.tell``), on SQLite: a
new lead's notice costs six statements; everything the service knows of a
recipient or a store applies, whichever tables have a row for it."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from dealerflow.contracts import LeadAssigned, schema
from dealerflow.db import utcnow
from services.notifications import handlers
from services.notifications.fanout import Notice, tell
from services.notifications.models import (
    Base,
    Delivery,
    InboxMessage,
    Preference,
    PushSubscription,
    StoreChannel,
    StoreCopy,
    UserCopy,
)
from tests.support.service_db import fresh_sqlite

STORE = "SH-PUDONG"


@pytest.fixture
def db(tmp_path):
    with fresh_sqlite(tmp_path / "notifications.db", Base) as made:
        yield made


def channel(kind: str, made_at, **columns) -> StoreChannel:
    return StoreChannel(id=str(uuid.uuid4()), store_code=STORE, type=kind, name=kind, url="http://hook.example",
                        settings={}, kinds=["lead_assigned"], enabled=True, created_at=made_at, updated_at=made_at,
                        **columns)


def assigned(consultant_id: str) -> dict:
    now = utcnow()
    return schema(LeadAssigned).load({
        "event_id": str(uuid.uuid4()), "occurred_at": now.isoformat(), "lead_id": str(uuid.uuid4()),
        "store_code": STORE, "consultant_id": consultant_id, "assigned_at": now.isoformat(),
        "first_contact_due_at": (now + timedelta(minutes=15)).isoformat(), "customer_name": "王磊",
        "source": "autohome"})


def test_a_new_lead_is_told_in_six_statements(db):
    engine, Session = db
    with Session() as session:
        session.add(StoreCopy(code=STORE, name="浦东店", timezone="Asia/Shanghai", active=True, revision=1))
        session.add(UserCopy(user_id="c-1", username="c-1", display_name="C", role="consultant", stores=[STORE],
                             email=None, language="zh", active=True, revision=1))
        session.commit()
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session() as session:
        [message] = handlers.notify_assigned(session, assigned("c-1"))
    assert message["title"] == "新线索：王磊"
    # BEGIN; the store, the digest's fact, the recipient, the inbox message, its announcement
    assert len(statements) == 6, statements


def test_a_recipient_and_a_store_the_service_has_no_copy_of_keep_their_devices_and_channels(db):
    _, Session = db
    now = utcnow()
    with Session() as session:
        hook, mailer = channel("webhook", now), channel("email", now)
        session.add_all([hook, mailer, channel("email", now + timedelta(seconds=1)),
                         PushSubscription(id="device-1", user_id="c-9", endpoint="https://push.example/1",
                                          p256dh="k", auth="a", created_at=now)])
        session.add(Preference(user_id="c-9", channels={"lead_assigned": ["webpush", "email"]}, updated_at=now))
        session.commit()
        tell(session, "e-1", [Notice("c-9", "lead_assigned", STORE, {"customer": "王磊"})], now)
        session.commit()
        routes = set(session.scalars(select(Delivery.dedupe_key)))
        assert routes == {"e-1:c-9:webpush:device-1", f"e-1:webhook:{hook.id}"}  # no copy: no address to email
        assert session.scalar(select(InboxMessage.user_id)) == "c-9"


def test_the_first_email_channel_is_the_oldest(db):
    _, Session = db
    now = utcnow()
    with Session() as session:
        newer, older = channel("email", now + timedelta(seconds=1)), channel("email", now)
        session.add_all([newer, older])  # the newer one first: the order the rows were written does not decide
        session.add(UserCopy(user_id="c-1", username="c-1", display_name="C", role="consultant", stores=[STORE],
                             email="c-1@example.com", language="zh", active=True, revision=1))
        session.add(Preference(user_id="c-1", channels={"lead_assigned": ["email"]}, updated_at=now))
        session.commit()
        tell(session, "e-1", [Notice("c-1", "lead_assigned", None, {"customer": "王磊"})], now)
        session.commit()
        assert session.scalar(select(Delivery.channel_id).where(Delivery.channel == "email")) == older.id
