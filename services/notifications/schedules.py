"""What the service tells on its own clock, in every replica and each once:

- a test drive an hour away, to its consultant (``remind_test_drives``):
  the bookings due are taken with ``FOR UPDATE SKIP LOCKED`` (on SQLite,
  one writer at a time), marked told and told in one transaction;
- the daily digest, to each store's managers at 08:30 in the store's time
  (``send_digests``): yesterday's new leads, SLA breaches and missed
  follow-ups (the facts kept from the events this service receives) and
  today's test drives. Whichever replica inserts the store's ``DigestSent``
  row for the day sends it, in the same transaction. A replica that starts
  later in the morning still sends it until 11:30; after that the day's
  digest is skipped, as old news.
"""
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, func, select

from dealerflow.db import utcnow
from dealerflow.outbox import insert_or_ignore
from services.notifications.fanout import Notice, tell, zone_of
from services.notifications.handlers import link_to, managers_of, test_drive_values
from services.notifications.models import DigestFact, DigestSent, StoreCopy, TestDriveAlert

BATCH = 200
DIGEST_AT, DIGEST_UNTIL = time(8, 30), time(11, 30)
KEEP_FACTS = timedelta(days=3)


def remind_test_drives(session, now=None) -> int:
    """Tell the consultants of the test drives an hour away; how many were told."""
    now = now or utcnow()
    alerts = session.scalars(select(TestDriveAlert).where(TestDriveAlert.remind_at <= now)
                             .order_by(TestDriveAlert.remind_at).limit(BATCH).with_for_update(skip_locked=True)).all()
    told = 0
    for alert in alerts:
        alert.remind_at = None
        if alert.status == "booked" and alert.consultant_id and alert.starts_at > now:
            booking = {"customer_name": alert.customer_name, "starts_at": alert.starts_at, "vehicle": alert.vehicle}
            tell(session, f"td:{alert.booking_id}", [Notice(
                alert.consultant_id, "test_drive", alert.store_code, test_drive_values(session, booking, "upcoming",
                                                                                       None, now),
                alert.lead_id, link_to(alert.lead_id))], now)
            told += 1
    session.commit()
    return told


def day_span(day: date, zone) -> tuple[datetime, datetime]:
    """A local day as UTC instants, [start, end)."""
    start = datetime.combine(day, time(), tzinfo=zone)
    return start.astimezone(timezone.utc), datetime.combine(day + timedelta(days=1), time(),
                                                            tzinfo=zone).astimezone(timezone.utc)


def digest_values(session, store: StoreCopy, today: date, zone) -> dict:
    yesterday = (today - timedelta(days=1)).isoformat()
    counts = dict(session.execute(select(DigestFact.what, func.count()).where(
        DigestFact.store_code == store.code, DigestFact.day == yesterday).group_by(DigestFact.what)).all())
    start, end = day_span(today, zone)
    drives = session.scalar(select(func.count()).select_from(TestDriveAlert).where(
        TestDriveAlert.store_code == store.code, TestDriveAlert.starts_at >= start, TestDriveAlert.starts_at < end,
        TestDriveAlert.status != "cancelled"))
    return {"store": store.name, "date": today.isoformat(), "new_leads": counts.get("new_lead", 0),
            "sla_breaches": counts.get("sla_breach", 0), "overdue": counts.get("overdue", 0), "test_drives": drives}


def send_digests(session, now=None) -> int:
    """Send the digests due now (08:30 to 11:30 in each store, once a day); how many stores'."""
    now = now or utcnow()
    sent = 0
    for store in session.scalars(select(StoreCopy).where(StoreCopy.active.is_(True))).all():
        zone = zone_of(session, store.code)
        local = now.astimezone(zone)
        day = local.date().isoformat()
        if not DIGEST_AT <= local.time() < DIGEST_UNTIL or session.get(DigestSent, (store.code, day)):
            continue
        if insert_or_ignore(session, DigestSent, store_code=store.code, day=day, sent_at=now):
            values = digest_values(session, store, local.date(), zone)
            yesterday = (local.date() - timedelta(days=1)).isoformat()
            figures = f"/analytics?store_code={store.code}&from={yesterday}&to={yesterday}"  # the day's dashboard
            tell(session, f"digest:{store.code}:{day}", [Notice(manager, "daily_digest", store.code, values, None,
                                                                figures)
                                                         for manager in managers_of(session, store.code)], now)
            session.execute(delete(DigestFact).where(DigestFact.store_code == store.code,
                                                     DigestFact.day < (local.date() - KEEP_FACTS).isoformat()))
            sent += 1
        session.commit()
    session.commit()
    return sent
