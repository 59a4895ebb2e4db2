"""The notifications service's delivery engine on SQLite and PostgreSQL,
against local fakes of WeCom, DingTalk, Feishu, a webhook receiver, a Web
Push service (real HTTP on loopback) and an SMTP server (aiosmtpd): the
handlers and the timers are called directly, the delivery timer as two
replicas at once.

Each channel delivers once; a failing robot is retried, then succeeds, or
is given up on after eight failures; a robot takes twenty a minute and the
twenty-first waits, none lost; the circuit opens after five failures and
a probe closes it; quiet hours hold a message and let an urgent one through
where the store allows; the same event handled twice (or by two replicas)
is delivered once; a dead letter is listed and resent; a channel's test
message answers what the receiver said; a push subscription that is gone
is forgotten; test drives an hour away and the daily digest are told once.
"""
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update

from dealerflow.actor import Actor
from dealerflow.contracts import (
    NOTIFICATION_CREATED,
    CustomerErased,
    FollowupReminder,
    LeadAssigned,
    LeadChanged,
    StoreSaved,
    TestDriveBooked,
    TestDriveChanged,
    UserSaved,
    schema,
)
from dealerflow.db import utcnow
from services.notifications import (
    dead_letters,
    engine,
    handlers,
    inbox,
    preferences,
    schedules,
    store_channels,
)
from services.notifications.exceptions import NotAllowed, NotificationNotFound
from services.notifications.models import (
    Delivery,
    InboxMessage,
    OutboxMessage,
    PushSubscription,
    StoreChannel,
)
from tests.support import fake_receivers
from tests.support.replicas import race

pytestmark = pytest.mark.integration
receivers, smtp_sink = fake_receivers.receivers, fake_receivers.smtp_sink  # the fixtures

STORE, OTHER_STORE = "SH-PUDONG", "BJ-CHAOYANG"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CONSULTANT = Actor(kind="user", stores=(STORE,), user_id="c-1", role="consultant")
MANAGER = Actor(kind="user", stores=(STORE,), user_id="m-1", role="manager")
STRANGER = Actor(kind="user", stores=(OTHER_STORE,), user_id="m-9", role="manager")
MOBILE = "13800001111"


def event(schema_cls, **fields) -> dict:
    fields.setdefault("occurred_at", utcnow().isoformat())
    return schema(schema_cls).load(dict(fields, event_id=fields.pop("event_id", str(uuid.uuid4()))))


def assigned(lead_id: str | None = None, **fields) -> dict:
    return event(LeadAssigned, **{
        "lead_id": lead_id or str(uuid.uuid4()), "store_code": STORE, "consultant_id": "c-1",
        "assigned_at": utcnow().isoformat(), "customer_name": "王磊", "phone": "+8613800138000",
        "source": "autohome", "interest": {"brand": "BYD", "model": "Han EV"},
        "first_contact_due_at": (utcnow() + timedelta(minutes=15)).isoformat(), **fields})


def user(user_id: str, role: str, stores=(STORE,), **fields) -> dict:
    return event(UserSaved, **{"user_id": user_id, "username": user_id, "display_name": f"Name of {user_id}",
                               "role": role, "stores": list(stores), "email": f"{user_id}@example.com",
                               "languages": ["zh"], "active": True, "revision": 1, **fields})


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("NOTIFICATIONS_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.delenv("NOTIFICATIONS_VAPID_PRIVATE_KEY", raising=False)


@pytest.fixture
def notifications(service_db):
    db = service_db("notifications")
    with db() as session:
        handlers.save_store(session, event(StoreSaved, code=STORE, name="浦东店", timezone="Asia/Shanghai",
                                           response_minutes=15, active=True, revision=1))
        for made in (user("c-1", "consultant"), user("c-2", "consultant"), user("m-1", "manager"),
                     user("m-9", "manager", stores=(OTHER_STORE,))):
            handlers.save_user(session, made)
    return db


def add_channel(session, kind: str, url: str | None = None, secret: str | None = None, **data) -> dict:
    return store_channels.create(session, MANAGER, STORE, {"type": kind, "name": f"{kind} of the store", "url": url,
                                                           "secret": secret, "settings": data.pop("settings", {}),
                                                           "kinds": data.pop("kinds", ["lead_assigned", "sla_warning",
                                                                                       "escalation", "reminder",
                                                                                       "test_drive", "daily_digest",
                                                                                       "lead_update"]),
                                                           "enabled": True, **data})


def wants(session, actor: Actor, kind: str = "lead_assigned", channels=("webpush", "email", "robot"), **more):
    preferences.save(session, actor, {"channels": {kind: list(channels)}, "mention": MOBILE, **more})


def deliver_all(db, now=None, replicas: int = 2) -> None:
    """Tick the delivery timer as two replicas at once until nothing is due at ``now``."""
    for _ in range(20):
        race(db, lambda session: engine.deliver_due(session, owner=str(uuid.uuid4()), now=now), replicas=replicas)
        with db() as session:
            if not session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.next_attempt_at <= (now or utcnow()))):
                return
    raise AssertionError("deliveries stayed due")


def statuses(session) -> dict:
    return dict(session.execute(select(Delivery.channel, Delivery.status)).all())


def only(session, **where) -> Delivery:
    [row] = session.scalars(select(Delivery).filter_by(**where)).all()
    return row


# -- every channel ------------------------------------------------------------------------

def test_a_new_lead_reaches_every_channel_once(notifications, receivers, smtp_sink):
    wecom, dingtalk, feishu = receivers.wecom(), receivers.dingtalk("SECding"), receivers.feishu("fei-secret")
    hook, browser = receivers.webhook("hook-secret"), receivers.push_subscription()
    with notifications() as session:
        for robot in (wecom, dingtalk, feishu):
            add_channel(session, robot.kind, robot.url, robot.secret)
        add_channel(session, "webhook", hook.url, hook.secret)
        add_channel(session, "email", secret="s3cret", settings=smtp_sink.settings())
        wants(session, CONSULTANT)
        preferences.subscribe(session, CONSULTANT, json.loads(browser.subscription))
        lead = assigned()
        [message] = handlers.notify_assigned(session, lead)
        assert message["title"] == "新线索：王磊" and message["link"] == f"/leads/{lead['lead_id']}"
        [announced] = session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.event_type == NOTIFICATION_CREATED)).all()
        assert (announced["id"], announced["user_id"], announced["title"]) == (message["id"], "c-1", "新线索：王磊")
        assert sorted(statuses(session)) == ["dingtalk", "email", "feishu", "webhook", "webpush", "wecom"]

    deliver_all(notifications)

    with notifications() as session:
        assert set(statuses(session).values()) == {"sent"}
    for endpoint in (wecom, dingtalk, feishu, hook, browser):
        assert len(endpoint.received) == 1 and not endpoint.refused, endpoint.kind
    assert browser.received[0].json["title"] == "新线索：王磊"
    assert browser.received[0].json["link"].endswith(f"/leads/{lead['lead_id']}")
    assert MOBILE in json.dumps(wecom.received[0].json)
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ["c-1@example.com"] and mail.message["Subject"] == "新线索：王磊"
    # the delivery's dedupe key (event:user:route) as a well-formed Message-ID: a receiver spots a redelivery
    assert re.fullmatch(r"<[^<>@:\s]+\.c-1\.email@dealerflow>", mail.message["Message-ID"])


# -- retries, rate limits, the circuit -------------------------------------------------------

def test_a_failing_robot_is_tried_again_after_a_back_off_and_then_delivers(notifications, receivers):
    robot = receivers.wecom()
    robot.answer_next(2, status=502, message="bad gateway")
    with notifications() as session:
        add_channel(session, "wecom", robot.url)
        handlers.notify_assigned(session, assigned())
    now = utcnow()
    for attempt in (1, 2):
        engine.deliver_due(notifications(), now=now)
        with notifications() as session:
            row = only(session, channel="wecom")
            assert (row.status, row.attempts) == ("pending", attempt) and "502" in row.last_answer
            assert now <= row.next_attempt_at <= now + timedelta(seconds=2 ** attempt)
            now = row.next_attempt_at
    engine.deliver_due(notifications(), now=now)
    with notifications() as session:
        row = only(session, channel="wecom")
        assert (row.status, row.attempts) == ("sent", 2) and len(robot.received) == 1


def test_a_delivery_that_fails_eight_times_is_a_dead_letter(notifications, receivers):
    hook = receivers.webhook()
    hook.answer_next(8, status=503, message="down")
    with notifications() as session:
        add_channel(session, "webhook", hook.url)
        store_channels.save_settings(session, MANAGER, STORE, {"urgent_breaks_quiet": False})
        handlers.notify_assigned(session, assigned())
        session.execute(update(StoreChannel).values(failures=-100))  # keep the circuit out of this test
        session.commit()
    now = utcnow()
    for _ in range(8):
        engine.deliver_due(notifications(), now=now)
        now += timedelta(minutes=11)  # past any back-off (10 minutes at most)
    with notifications() as session:
        row = only(session, channel="webhook")
        assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 8, None)
    assert len(hook.refused) == 8 and not hook.received


def test_a_robot_takes_twenty_a_minute_and_the_twenty_first_waits_none_lost(notifications, receivers):
    robot = receivers.wecom()  # the fake refuses a 21st message within a rolling minute, as WeCom does
    with notifications() as session:
        add_channel(session, "wecom", robot.url)
        for _ in range(21):
            handlers.notify_assigned(session, assigned())
    now = utcnow()
    deliver_all(notifications, now)  # twenty go; the last waits for the others to be counted
    with notifications() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent")) == 20
        assert only(session, status="pending").next_attempt_at == now + engine.PROBE_WAIT
    deliver_all(notifications, now + engine.PROBE_WAIT)  # then until the first of them is a minute old
    with notifications() as session:
        waiting = only(session, status="pending")
        first = session.scalar(select(func.min(Delivery.sent_at)))
        assert waiting.attempts == 0 and waiting.next_attempt_at == first + timedelta(seconds=60)
    assert len(robot.received) == 20 and not robot.refused
    robot.limit()  # a minute later for the robot too
    deliver_all(notifications, waiting.next_attempt_at)
    with notifications() as session:
        assert set(statuses(session).values()) == {"sent"}
    assert len(robot.received) == 21 and not robot.refused


def test_a_robot_that_says_too_many_holds_its_channel_without_using_attempts(notifications, receivers):
    robot = receivers.dingtalk()
    robot.answer_next(code=130101, message="send too fast, exceed 20 times per minute")
    with notifications() as session:
        channel = add_channel(session, "dingtalk", robot.url)
        handlers.notify_assigned(session, assigned())
    now = utcnow()
    engine.deliver_due(notifications(), now=now)
    with notifications() as session:
        handlers.notify_assigned(session, assigned())
        row = session.scalars(select(Delivery).order_by(Delivery.created_at)).first()
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at == now + timedelta(minutes=10)  # DingTalk throttles for ten minutes
        assert session.get(StoreChannel, channel["id"]).paused_until == row.next_attempt_at
    engine.deliver_due(notifications(), now=now + timedelta(minutes=1))
    assert not robot.received  # the second one waits for the pause too
    deliver_all(notifications, now + timedelta(minutes=10))
    assert len(robot.received) == 2


def test_the_circuit_opens_after_five_failures_rests_and_a_probe_closes_it(notifications, receivers):
    hook = receivers.webhook()
    hook.answer_next(5, status=503, message="down")
    with notifications() as session:
        channel_id = add_channel(session, "webhook", hook.url)["id"]
        for _ in range(5):
            handlers.notify_assigned(session, assigned())
    now = utcnow()
    engine.deliver_due(notifications(), now=now)
    with notifications() as session:
        [channel] = store_channels.list_channels(session, MANAGER, STORE)
        assert channel["circuit"]["state"] == "open" and channel["circuit"]["failures"] == 5
        for _ in range(3):
            handlers.notify_assigned(session, assigned())
    engine.deliver_due(notifications(), now=now + timedelta(seconds=30))
    with notifications() as session:  # all wait for the circuit, the new ones with no attempt used
        assert len(hook.refused) == 5 and not hook.received
        rows = session.scalars(select(Delivery)).all()
        assert {row.next_attempt_at for row in rows} == {now + engine.CIRCUIT_OPEN}
        assert sorted(row.attempts for row in rows) == [0, 0, 0, 1, 1, 1, 1, 1]
    hook.answer_next(1, status=503, message="still down")
    later = now + engine.CIRCUIT_OPEN
    engine.deliver_due(notifications(), now=later)  # half open: one probe, which fails
    with notifications() as session:
        channel = session.get(StoreChannel, channel_id)
        assert (channel.circuit, channel.open_until) == ("open", later + engine.CIRCUIT_OPEN)
    assert len(hook.refused) == 6
    later += engine.CIRCUIT_OPEN
    engine.deliver_due(notifications(), now=later)  # the next probe gets through and closes it
    with notifications() as session:
        assert session.get(StoreChannel, channel_id).circuit == "closed"
    assert len(hook.received) == 1
    deliver_all(notifications, later + timedelta(minutes=11))
    assert len(hook.received) == 8


# -- quiet hours ---------------------------------------------------------------------------

def test_quiet_hours_hold_a_message_and_an_urgent_one_breaks_through_where_the_store_allows(notifications, receivers):
    robot = receivers.wecom()
    night = datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI).astimezone(timezone.utc)
    morning = datetime(2026, 12, 1, 7, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
    with notifications() as session:
        add_channel(session, "wecom", robot.url)
        wants(session, CONSULTANT, quiet_start="22:00", quiet_end="07:00")
        [held] = handlers.notify_assigned(session, assigned(), now=night)
        warning = dict(lead_id=str(uuid.uuid4()), store_code=STORE, change="sla_warning", status="assigned",
                       stage="initial_contact", grade="H", customer_name="李娜", tell=["c-1"],
                       details={"due_at": (night + timedelta(minutes=5)).isoformat()})
        handlers.notify_change(session, event(LeadChanged, **warning), now=night)
        store_channels.save_settings(session, MANAGER, STORE, {"urgent_breaks_quiet": True})
        handlers.notify_change(session, event(LeadChanged, **dict(warning, customer_name="赵强")), now=night)
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 3  # the inbox at once, always
        by_title = {row.title: row.next_attempt_at for row in session.scalars(select(Delivery))}
        assert by_title == {held["title"]: morning, "即将超时：请尽快联系李娜": morning,
                            "即将超时：请尽快联系赵强": night}
    deliver_all(notifications, night)
    assert [json.dumps(r.json, ensure_ascii=False).count("赵强") > 0 for r in robot.received] == [True]
    deliver_all(notifications, morning)
    assert len(robot.received) == 3


# -- dedupe ----------------------------------------------------------------------------------

def test_the_same_event_handled_twice_and_by_two_replicas_is_told_once(notifications, receivers):
    hook, robot = receivers.webhook(), receivers.wecom()
    with notifications() as session:
        add_channel(session, "webhook", hook.url)
        add_channel(session, "wecom", robot.url)
    lead = assigned()
    race(notifications, lambda session: handlers.notify_assigned(session, dict(lead)))
    with notifications() as session:
        assert handlers.notify_assigned(session, dict(lead)) == []  # redelivered later: nothing new
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event_type == NOTIFICATION_CREATED)) == 1
        assert sorted(statuses(session)) == ["webhook", "wecom"]
    deliver_all(notifications)
    race(notifications, lambda session: handlers.notify_assigned(session, dict(lead)))
    deliver_all(notifications)
    assert len(hook.received) == 1 and len(robot.received) == 1


def test_a_webhook_hears_of_an_event_once_however_many_people_it_tells(notifications, receivers):
    hook, robot = receivers.webhook(), receivers.wecom()
    with notifications() as session:
        add_channel(session, "webhook", hook.url)
        add_channel(session, "wecom", robot.url)
        handlers.notify_task(session, event(FollowupReminder, task_id="t-1", lead_id="l-1", consultant_id="c-1",
                                            kind="call", due_at=utcnow().isoformat(), store_code=STORE,
                                            tell=["c-1", "m-1"]), overdue=True)
        assert sorted(session.scalars(select(Delivery.channel))) == ["webhook", "wecom", "wecom"]  # @ each
    deliver_all(notifications)
    assert len(hook.received) == 1 and len(robot.received) == 2


# -- dead letters, channels, devices -------------------------------------------------------

def test_a_dead_letter_is_listed_for_the_stores_managers_and_resent_once_fixed(notifications, receivers):
    robot = receivers.wecom()
    with notifications() as session:
        channel = add_channel(session, "wecom", robot.url.replace(robot.key, "not-a-robot-key-0000"))
        handlers.notify_assigned(session, assigned())
    deliver_all(notifications)
    with notifications() as session:
        [dead] = dead_letters.listed(session, MANAGER, STORE)
        assert (dead["status"], dead["channel_name"], dead["recipient"]) == ("dead", "wecom of the store", "Name of c-1")
        assert "93000" in dead["last_answer"] and dead["attempts"] == 0
        assert dead_letters.listed(session, STRANGER) == []
        with pytest.raises(NotificationNotFound):
            dead_letters.listed(session, STRANGER, STORE)
        with pytest.raises(NotAllowed):
            dead_letters.listed(session, CONSULTANT, STORE)
        assert dead_letters.resend(session, STRANGER, [dead["id"]]) == {"resent": 0}
        store_channels.change(session, MANAGER, channel["id"], {"url": robot.url})
        assert dead_letters.resend(session, MANAGER, [dead["id"]]) == {"resent": 1}
    deliver_all(notifications)
    with notifications() as session:
        assert only(session, channel="wecom").status == "sent" and dead_letters.listed(session, MANAGER) == []
    assert len(robot.received) == 1


def test_a_channel_keeps_its_secret_sealed_and_its_test_shows_the_receivers_answer(notifications, receivers):
    robot = receivers.dingtalk("SECright")
    with notifications() as session:
        made = add_channel(session, "dingtalk", robot.url, "SECright")
        assert made["has_secret"] and robot.key not in made["url"] and "****" in made["url"]
        assert "SECright" not in session.scalar(select(StoreChannel.secret))
        assert store_channels.test(session, MANAGER, made["id"])["ok"]
        store_channels.change(session, MANAGER, made["id"], {"secret": "SECwrong", "url": made["url"]})
        answered = store_channels.test(session, MANAGER, made["id"])
        assert (answered["ok"], answered["outcome"]) == (False, "refused") and "sign not match" in answered["answer"]
        [listed] = store_channels.list_channels(session, MANAGER, STORE)
        assert "sign not match" in listed["last_answer"]
    [received] = robot.received
    assert "测试消息" in json.dumps(received.json, ensure_ascii=False)


def test_a_push_subscription_that_is_gone_is_forgotten(notifications, receivers):
    browser = receivers.push_subscription()
    browser.answer_next(status=410, message="gone")
    with notifications() as session:
        assert preferences.subscribe(session, CONSULTANT, json.loads(browser.subscription)) == {"push_devices": 1}
        handlers.notify_assigned(session, assigned())
    deliver_all(notifications)
    with notifications() as session:
        assert only(session, channel="webpush").status == "dead"
        assert session.scalar(select(func.count()).select_from(PushSubscription)) == 0


# -- the inbox ---------------------------------------------------------------------------------

def test_the_inbox_pages_counts_unread_and_marks_read(notifications):
    with notifications() as session:
        leads = [assigned() for _ in range(5)]
        for lead in leads:
            handlers.notify_assigned(session, lead)
        first = inbox.page(session, CONSULTANT, limit=3)
        assert len(first["items"]) == 3 and first["unread"] == 5 and first["next_cursor"]
        rest = inbox.page(session, CONSULTANT, cursor=first["next_cursor"], limit=3)
        assert len(rest["items"]) == 2 and rest["next_cursor"] is None
        assert [m.lead_id for m in first["items"] + rest["items"]] == [lead["lead_id"] for lead in reversed(leads)]
        assert inbox.mark_read(session, CONSULTANT, [first["items"][0].id]) == {"unread": 4}
        assert inbox.page(session, MANAGER)["items"] == []  # everyone sees their own only
        assert inbox.mark_read(session, MANAGER) == {"unread": 0}
        assert inbox.page(session, CONSULTANT, unread_only=True)["unread"] == 4
        assert inbox.mark_read(session, CONSULTANT) == {"unread": 0}


# -- what the timers tell ----------------------------------------------------------------------

def test_a_test_drive_is_told_when_booked_and_again_an_hour_before_once(notifications):
    starts = utcnow() + timedelta(hours=3)
    booking = dict(lead_id=str(uuid.uuid4()), store_code=STORE, vehicle_id="v-1", vehicle="BYD Han EV (SH-001)",
                   consultant_id="c-1", specialist_id="c-2", starts_at=starts.isoformat(),
                   ends_at=(starts + timedelta(minutes=30)).isoformat(), customer_name="王磊", ics="BEGIN:VCALENDAR",
                   actor_id="c-1", booked_at=utcnow().isoformat())
    cancelled = dict(booking, lead_id=str(uuid.uuid4()))
    with notifications() as session:
        [told] = handlers.notify_test_drive(session, event(TestDriveBooked, booking_id="b-1", **booking))
        assert told["user_id"] == "c-2" and told["title"].startswith("新试驾预约：王磊")  # not who booked it
        handlers.notify_test_drive(session, event(TestDriveBooked, booking_id="b-2", **cancelled))
        handlers.follow_test_drive(session, event(TestDriveChanged, booking_id="b-2", status="cancelled",
                                                  at=utcnow().isoformat(), **{k: cancelled[k] for k in (
                                                      "lead_id", "store_code", "vehicle_id", "consultant_id",
                                                      "starts_at")}))
    soon = starts - timedelta(minutes=59)
    assert schedules.remind_test_drives(notifications(), now=starts - timedelta(minutes=61)) == 0
    race(notifications, lambda session: schedules.remind_test_drives(session, now=soon))
    with notifications() as session:
        upcoming = session.scalars(select(InboxMessage).where(InboxMessage.title.startswith("试驾即将开始"))).all()
        assert [(m.user_id, m.lead_id) for m in upcoming] == [("c-1", booking["lead_id"])]
        assert "还有约 59 分钟" in upcoming[0].body


def test_the_customer_gets_the_confirmation_with_the_invitation_by_the_stores_email(notifications, smtp_sink):
    starts = utcnow() + timedelta(days=1)
    booking = dict(booking_id="b-1", lead_id="l-1", store_code=STORE, vehicle_id="v-1", vehicle="BYD Han EV",
                   consultant_id="c-1", starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=1)).isoformat(),
                   customer_name="Lei Wang", customer_email="lei.wang@example.com", language="en",
                   ics="BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", booked_at=utcnow().isoformat())
    with notifications() as session:
        handlers.notify_test_drive(session, event(TestDriveBooked, **dict(booking, booking_id="b-0")))
        assert not session.scalar(select(func.count()).select_from(Delivery))  # the store sends no email yet
        add_channel(session, "email", secret="s3cret", settings=smtp_sink.settings(), kinds=["test_drive"])
        booked = event(TestDriveBooked, **booking)
        handlers.notify_test_drive(session, booked)
        handlers.notify_test_drive(session, dict(booked))  # redelivered: still one email
    deliver_all(notifications)
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ["lei.wang@example.com"] and mail.message["Subject"].startswith("Your test drive")
    [invitation] = [part for part in mail.message.walk() if part.get_content_type() == "text/calendar"]
    assert invitation.get_param("method") == "REQUEST" and "METHOD:REQUEST" in invitation.get_content()
    with notifications() as session:  # erased with the customer, once what was announced about it is out
        session.execute(update(OutboxMessage).values(sent_at=utcnow()))
        session.commit()
        handlers.forget_customer(session, event(CustomerErased, customer_id="cu-1", lead_ids=["l-1"]))
        row = only(session, channel="email")
        assert (row.address, row.calendar, row.body) == (None, None, "")
        assert not session.scalar(select(func.count()).select_from(OutboxMessage))  # the titles named them


def test_the_daily_digest_goes_to_the_stores_managers_at_half_past_eight_once(notifications):
    today = datetime(2026, 11, 30, tzinfo=SHANGHAI)
    yesterday = (today - timedelta(hours=6)).astimezone(timezone.utc)  # 18:00 the day before
    with notifications() as session:
        for _ in range(3):
            handlers.notify_assigned(session, assigned(occurred_at=yesterday.isoformat()))
        handlers.notify_assigned(session, assigned(reason="reroute", occurred_at=yesterday.isoformat()))
        handlers.notify_change(session, event(LeadChanged, lead_id="l-9", store_code=STORE, change="sla_breached",
                                              status="assigned", stage="initial_contact", grade="H", tell=["m-1"],
                                              occurred_at=yesterday.isoformat()))
        handlers.notify_task(session, event(FollowupReminder, task_id="t-1", lead_id="l-9", consultant_id="c-1",
                                            kind="call", due_at=yesterday.isoformat(), store_code=STORE,
                                            tell=["c-1", "m-1"], occurred_at=yesterday.isoformat()), overdue=True)
        booked = today.replace(hour=15).astimezone(timezone.utc)
        handlers.notify_test_drive(session, event(TestDriveBooked, booking_id="b-9", lead_id="l-9", store_code=STORE,
                                                  vehicle_id="v-1", vehicle="Han", starts_at=booked.isoformat(),
                                                  ends_at=(booked + timedelta(minutes=30)).isoformat(),
                                                  ics="x", booked_at=yesterday.isoformat()))
    assert schedules.send_digests(notifications(), now=today.replace(hour=8, minute=29)) == 0
    race(notifications, lambda session: schedules.send_digests(session, now=today.replace(hour=8, minute=31)))
    assert schedules.send_digests(notifications(), now=today.replace(hour=9)) == 0
    with notifications() as session:
        [digest] = session.scalars(select(InboxMessage).where(InboxMessage.kind == "daily_digest")).all()
    assert (digest.user_id, digest.title) == ("m-1", "浦东店 每日简报 2026-11-30")
    assert digest.body.splitlines() == ["昨日新线索：3", "昨日超时未联系：1", "昨日逾期跟进：1", "今日试驾：1"]
    assert digest.link == f"/analytics?store_code={STORE}&from=2026-11-29&to=2026-11-29"  # the day's figures
