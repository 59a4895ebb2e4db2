"""Use cases of the notifications service: what each event tells whom, and
the copies of the gateway's stores and users it keeps.

Every event that tells someone something becomes ``Notice``s and goes
through ``fanout.tell`` in the event's transaction; the dedupe keys make a
redelivered event change nothing. What tells whom:

| event | kind | to |
|---|---|---|
| lead_assigned (routing, claim by someone else, manual) | lead_assigned | the consultant |
| lead_assigned (reroute) | lead_rerouted | the new consultant |
| lead_assigned (escalation) | escalation | the manager it went to |
| lead_changed sla_warning | sla_warning | those it names (the owner) |
| lead_changed sla_breached | escalation | those it names (the owner and the managers) |
| lead_changed loss_requested | loss_approval | those it names (the managers) |
| lead_changed, any other change | lead_update | those it names (owner, managers, the people mentioned) |
| followup_reminder | reminder | the task's owner |
| followup_overdue | escalation | the owner and the managers |
| test_drive_booked | test_drive | the consultant and the specialist; the customer by the store's email, with the invitation (``invite_customer``) |
| (timer) a test drive in an hour | test_drive | the consultant |
| (timer) 08:30 in the store | daily_digest | the store's managers |

Nobody is told what they did themselves (a lead they claimed, a test drive
they booked): the leads service already leaves the actor out of ``tell``.
"""
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from dealerflow.db import utcnow
from dealerflow.notification_contracts import LANGUAGES
from dealerflow.once import forget_replies
from dealerflow.outbox import first_delivery, forget_sent, insert_or_ignore, save_copy
from services.notifications.fanout import Notice, delivery, insert_new, mailer_of, store_in, tell
from services.notifications.messages import Word, language_of, render
from services.notifications.models import (
    Delivery,
    DigestFact,
    InboxMessage,
    OutboxMessage,
    ProcessedMessage,
    StoreCopy,
    TestDriveAlert,
    UserCopy,
)

log = logging.getLogger(__name__)

TEST_DRIVE_NOTICE = timedelta(minutes=60)  # how long before a test drive its consultant is told


# -- copies of the gateway's stores and users ----------------------------------------

def default_language(languages: list[str]) -> str:
    """The language a user reads when they chose none: Chinese, unless the
    languages they speak (routing's) leave it out and include another we have."""
    if not languages or "zh" in languages:
        return "zh"
    return next((language for language in languages if language in LANGUAGES), "zh")


def save_store(session, store: dict) -> None:
    if first_delivery(session, ProcessedMessage, store["event_id"], "save_store"):
        save_copy(session, StoreCopy, {"code": store["code"]}, store["revision"], name=store["name"],
                  timezone=store["timezone"], active=store["active"])
    session.commit()


def save_user(session, user: dict) -> None:
    if first_delivery(session, ProcessedMessage, user["event_id"], "save_user"):
        save_copy(session, UserCopy, {"user_id": user["user_id"]}, user["revision"], username=user["username"],
                  display_name=user["display_name"], role=user["role"], stores=list(user["stores"]),
                  email=user.get("email"), language=default_language(user["languages"]), active=user["active"])
    session.commit()


def name_of(session, user_id: str | None):
    """A colleague's name as messages show it."""
    user = session.get(UserCopy, user_id) if user_id else None
    return user.display_name if user is not None else Word("fallback", "colleague")


def managers_of(session, store_code: str) -> list[str]:
    """The store's active managers, as the copies know them."""
    return sorted(user.user_id for user in session.scalars(
        select(UserCopy).where(UserCopy.role == "manager", UserCopy.active.is_(True)))
        if store_code in (user.stores or ()))


# -- what the digest counts -----------------------------------------------------------

def count_for_digest(session, event: dict, what: str, stores: dict) -> None:
    """Keep one fact for the store's daily digest, on the store's local
    date. ``stores``: those the event's handler read (``stores_of``); the
    store is added if it was not, for ``tell`` to use."""
    day = event["occurred_at"].astimezone(store_in(session, stores, event["store_code"]).zone).date().isoformat()
    insert_or_ignore(session, DigestFact, event_id=event["event_id"], store_code=event["store_code"], day=day,
                     what=what)


# -- leads ---------------------------------------------------------------------------------

def customer(name: str | None):
    return name or Word("fallback", "customer")


def minutes_left(due: datetime | None, now) -> int | None:
    return None if due is None else max(0, round((due - now).total_seconds() / 60))


def link_to(lead_id: str | None) -> str | None:
    return f"/leads/{lead_id}" if lead_id else None


def notify_assigned(session, assigned: dict, now=None) -> list[dict]:
    """A lead has a new owner: tell them (not when they claimed it), with
    the response clock and a link to the lead. Routing counts a new lead."""
    now = now or utcnow()
    reason = assigned["reason"]
    stores = {}  # the store, read once for the digest and the fan-out
    if reason == "routing":
        count_for_digest(session, assigned, "new_lead", stores)
    notices = []
    if assigned["actor_id"] != assigned["consultant_id"]:
        kind = {"reroute": "lead_rerouted", "escalation": "escalation"}.get(reason, "lead_assigned")
        interest = assigned.get("interest") or {}
        due = assigned.get("first_contact_due_at")
        values = {"customer": customer(assigned.get("customer_name")), "phone": assigned.get("phone"),
                  "source": assigned["source"], "due": due, "minutes": minutes_left(due, now),
                  "car": " ".join(str(interest[key]) for key in ("brand", "model") if interest.get(key)),
                  "how": Word("how", reason, ""), "by": name_of(session, assigned["actor_id"]),
                  "clock": Word("clock", "running" if due else "none"), "what": Word("escalation", "lead_escalated"),
                  "detail": Word("escalation_detail", "lead_escalated", "")}
        notices.append(Notice(assigned["consultant_id"], kind, assigned["store_code"], values,
                              assigned["lead_id"], link_to(assigned["lead_id"])))
    created = tell(session, assigned["event_id"], notices, now, stores)
    session.commit()
    return created


CHANGE_KINDS = {"sla_warning": "sla_warning", "sla_breached": "escalation", "loss_requested": "loss_approval"}


def when(text: str | None) -> datetime | None:
    """A time an event's ``details`` carry as ISO text."""
    try:
        return datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def notify_change(session, changed: dict, now=None) -> list[dict]:
    """Tell each user the change names, in the kind its change calls for."""
    now = now or utcnow()
    change, details = changed["change"], changed.get("details") or {}
    stores = {}
    if change == "sla_breached":
        count_for_digest(session, changed, "sla_breach", stores)
    elif change == "pooled" and not details.get("previous_consultant_id"):
        count_for_digest(session, changed, "new_lead", stores)  # a new lead with no one to route it to
    kind = CHANGE_KINDS.get(change, "lead_update")
    due = when(details.get("due_at"))
    stage = change == "stage_changed"
    values = {"customer": customer(changed.get("customer_name")), "reason": changed.get("reason"),
              "note": changed.get("reason"), "by": name_of(session, changed.get("actor_id")),
              "due": due, "minutes": minutes_left(due, now),
              "consultant": name_of(session, details.get("consultant_id") or changed.get("consultant_id")),
              "excerpt": details.get("excerpt") or details.get("comments"),
              "lost_reason": Word("lost_reasons", details.get("lost_reason")) if details.get("lost_reason") else None,
              "from": Word("stages", details.get("from")) if stage else details.get("from"),
              "to": Word("stages", details.get("to")) if stage else details.get("to")}
    notices = []
    for user_id in dict.fromkeys(changed["tell"]):
        said = "mention" if change == "comment" and user_id in (details.get("mentions") or ()) else change
        notices.append(Notice(user_id, kind, changed["store_code"], dict(
            values, what=Word("escalation", change) if kind == "escalation" else Word("changes", said),
            detail=Word("escalation_detail" if kind == "escalation" else "change_detail", said, "")),
            changed["lead_id"], link_to(changed["lead_id"])))
    created = tell(session, changed["event_id"], notices, now, stores)
    session.commit()
    return created


# -- follow-ups ----------------------------------------------------------------------------

def notify_task(session, task: dict, overdue: bool, now=None) -> list[dict]:
    """A task's reminder to its owner, or (``overdue``) its escalation to
    them and the managers, which the digest counts."""
    now = now or utcnow()
    stores = {}
    if overdue and task.get("store_code"):
        count_for_digest(session, task, "overdue", stores)
    values = {"customer": customer(task.get("customer_name")), "task": Word("tasks", task["kind"]),
              "due": task["due_at"], "minutes": minutes_left(task["due_at"], now),
              "consultant": name_of(session, task["consultant_id"]),
              "what": Word("escalation", "followup_overdue"),
              "detail": Word("escalation_detail", "followup_overdue", "")}
    notices = [Notice(user_id, "escalation" if overdue else "reminder", task.get("store_code"), values,
                      task["lead_id"], link_to(task["lead_id"])) for user_id in dict.fromkeys(task["tell"])]
    created = tell(session, task["event_id"], notices, now, stores)
    session.commit()
    return created


# -- test drives ---------------------------------------------------------------------------

def test_drive_values(session, booking, what: str, by: str | None, now) -> dict:
    return {"customer": customer(booking["customer_name"]), "time": booking["starts_at"],
            "vehicle": booking["vehicle"], "by": name_of(session, by),
            "minutes": minutes_left(booking["starts_at"], now),
            "what": Word("test_drive", what), "detail": Word("test_drive_detail", what, "")}


def notify_test_drive(session, booked: dict, now=None) -> list[dict]:
    """Tell the consultant and the specialist (not the one who booked it),
    and keep the booking to tell the consultant an hour before."""
    now = now or utcnow()
    remind_at = booked["starts_at"] - TEST_DRIVE_NOTICE
    insert_or_ignore(session, TestDriveAlert, booking_id=booked["booking_id"], lead_id=booked["lead_id"],
                     store_code=booked["store_code"], consultant_id=booked.get("consultant_id"),
                     vehicle=booked["vehicle"][:300], customer_name=booked.get("customer_name"),
                     starts_at=booked["starts_at"], status="booked",
                     remind_at=remind_at if remind_at > booked["booked_at"] else None)
    values = test_drive_values(session, booked, "booked", booked.get("actor_id"), now)
    people = [user for user in (booked.get("consultant_id"), booked.get("specialist_id"))
              if user and user != booked.get("actor_id")]
    notices = [Notice(user_id, "test_drive", booked["store_code"], values, booked["lead_id"],
                      link_to(booked["lead_id"])) for user_id in dict.fromkeys(people)]
    stores = {}
    created = tell(session, booked["event_id"], notices, now, stores)
    invite_customer(session, booked, now, stores)
    session.commit()
    return created


def invite_customer(session, booked: dict, now, stores: dict) -> None:
    """The customer's confirmation, in their language, with the calendar
    invitation attached, by the store's email: when the booking has their
    address and the store an email channel carrying test drives (else the
    consultant sends the invitation from the booking's page). ``stores``:
    those read for the booking (``tell``)."""
    if not booked.get("customer_email"):
        return
    shop = store_in(session, stores, booked["store_code"])
    mailer = mailer_of(shop.channels, "test_drive")
    if mailer is None:
        log.info("test drive %s: store %s has no email channel for test drives; the customer is not emailed",
                 booked["booking_id"], booked["store_code"])
        return
    store = session.get(StoreCopy, booked["store_code"])
    language = language_of(booked.get("language"))
    title, body = render("test_drive_invitation", language, {
        "customer": customer(booked.get("customer_name")), "time": booked["starts_at"],
        "vehicle": booked["vehicle"], "store": store.name if store else booked["store_code"]}, shop.zone)
    insert_new(session, Delivery, [delivery(
        now, dedupe_key=f"{booked['event_id']}:customer:email", store_code=booked["store_code"],
        lead_id=booked["lead_id"], channel="email", channel_id=mailer.id, address=booked["customer_email"],
        calendar=booked["ics"], kind="test_drive", language=language, title=title, body=body)])


def follow_test_drive(session, changed: dict) -> None:
    """A booking shown, not shown or cancelled: nobody is told an hour
    before any more (if this arrives before the booking, the booking finds
    its row made and stays untold)."""
    insert_or_ignore(session, TestDriveAlert, booking_id=changed["booking_id"], lead_id=changed["lead_id"],
                     store_code=changed["store_code"], consultant_id=changed.get("consultant_id"),
                     vehicle=None, customer_name=None, starts_at=changed["starts_at"], status=changed["status"],
                     remind_at=None)
    session.execute(update(TestDriveAlert).where(TestDriveAlert.booking_id == changed["booking_id"])
                    .values(status=changed["status"], remind_at=None))
    session.commit()


# -- erasure -------------------------------------------------------------------------------

ERASED = "(erased on the customer's request)"


def forget_customer(session, erased: dict) -> None:
    """Messages and deliveries about the erased customer's leads keep their
    place, not their words; those not sent yet are not sent."""
    if not first_delivery(session, ProcessedMessage, erased["event_id"], "forget_customer"):
        return
    for chunk in range(0, len(erased["lead_ids"]), 500):
        lead_ids = erased["lead_ids"][chunk:chunk + 500]
        session.execute(update(InboxMessage).where(InboxMessage.lead_id.in_(lead_ids))
                        .values(title=ERASED, body=""))
        session.execute(update(Delivery).where(Delivery.lead_id.in_(lead_ids)).values(
            title=ERASED, body="", address=None, calendar=None))
        session.execute(update(Delivery).where(Delivery.lead_id.in_(lead_ids), Delivery.status == "pending")
                        .values(status="dead", next_attempt_at=None, last_answer="the customer's data was erased"))
        session.execute(update(TestDriveAlert).where(TestDriveAlert.lead_id.in_(lead_ids))
                        .values(customer_name=None))
    forget_sent(session, OutboxMessage, erased["lead_ids"])  # notification_created carried the titles
    forget_replies(session)  # RPC replies may quote them
    session.commit()
