"""From "tell these people this" to rows: one in-app message per recipient
and one delivery per recipient and other channel.

Every row has a ``dedupe_key``, ``<event id>:<user id>:<route>`` (the route:
``inapp``, ``email``, ``webpush:<subscription>``, ``robot:<channel>``,
``webhook:<channel>``), unique in its table, and is inserted with ``ON
CONFLICT DO NOTHING``: the same event handled twice, or by two replicas at
once, makes each row once, and only the handler whose insert made the inbox
message announces it (``notification_created``, through the outbox, so the
message and its announcement commit together).

This runs inside the event's transaction and never calls a receiver: the
deliveries are sent by the delivery timer (``engine``). A new lead costs a
handful of reads (the recipient's copy, preferences, devices, the store's
channels and settings) and three inserts.

Routes by channel, for a recipient of a message of kind K in store S:
``webpush``, one per subscribed device; ``email``, to the user's address
through S's first enabled email channel carrying K; ``robot``, through each
of S's enabled robots carrying K, mentioning the user as they said; and each
of S's enabled webhooks carrying K, whatever the user chose, once per
event however many people it tells (a webhook is the store's integration,
not a person: its dedupe key has no user, and it speaks the first
recipient's language). A channel S does not have is no
route. A message in the recipient's quiet hours (their store's time) waits
until they end, on every route but the inbox and webhooks, unless its kind
is urgent (``URGENT_KINDS``) and S lets urgent kinds break through.
"""
import logging
import uuid
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from dealerflow.contracts import NOTIFICATION_CREATED
from dealerflow.db import utcnow
from dealerflow.metrics import count_on_commit
from dealerflow.notification_contracts import ROBOT_TYPES, URGENT_KINDS
from dealerflow.outbox import record
from services.notifications import engine, timing
from services.notifications.messages import render
from services.notifications.models import (
    Delivery,
    InboxMessage,
    OutboxMessage,
    Preference,
    PushSubscription,
    StoreChannel,
    StoreCopy,
    StoreSetting,
    UserCopy,
)
from services.notifications.preferences import channels_of, language_for

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Asia/Shanghai"
NO_ROUTE = {"channel_id": None, "subscription_id": None, "address": None, "mention": None,
            "calendar": None}  # a row's route columns


@dataclass
class Notice:
    """Tell ``user_id`` a message of ``kind`` about the store ``store_code``
    (None: the user's own store), rendered from ``values`` in their language."""
    user_id: str
    kind: str
    store_code: str | None
    values: dict = field(default_factory=dict)
    lead_id: str | None = None
    link: str | None = None


def zone_of(session, store_code: str | None) -> ZoneInfo:
    """The store's time zone (Shanghai for a store the service has not heard of)."""
    store = session.get(StoreCopy, store_code) if store_code else None
    try:
        return ZoneInfo(store.timezone if store else DEFAULT_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(DEFAULT_ZONE)


def delivery(now, **columns) -> dict:
    """A new delivery row: pending from ``now``, no route, ``columns`` over that."""
    return {**NO_ROUTE, "id": str(uuid.uuid4()), "user_id": None, "lead_id": None, "link": None,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_owner": None,
            "last_answer": None, "sent_at": None, "created_at": now, **columns}


def by_key(session, model, column, keys) -> dict:
    keys = {key for key in keys if key}
    return {getattr(row, column.key): row for row in session.scalars(select(model).where(column.in_(keys)))} \
        if keys else {}


def insert_new(session, model, rows: list[dict]) -> set[str]:
    """Insert the rows whose ``dedupe_key`` is new, in one statement; the ids inserted."""
    if not rows:
        return set()
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[session.get_bind().dialect.name]
    statement = dialect.insert(model).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(model.id)
    return set(session.scalars(statement, rows))  # the rows as parameters: the statement compiles once


def mailer_of(channels: list[StoreChannel], kind: str) -> StoreChannel | None:
    """The store's first enabled email channel that carries ``kind``."""
    return next((channel for channel in channels
                 if channel.type == "email" and channel.enabled and kind in (channel.kinds or ())), None)


def routes(kind: str, chosen: list[str], user: UserCopy | None, preference: Preference | None,
           channels: list[StoreChannel], devices: list[PushSubscription]) -> list[dict]:
    """Where a message of ``kind`` goes besides the inbox: ``(route, columns, holds)``."""
    carrying = [channel for channel in channels if channel.enabled and kind in (channel.kinds or ())]
    found = []
    if "webpush" in chosen:
        found += [(f"webpush:{device.id}", {"channel": "webpush", "subscription_id": device.id}, True)
                  for device in devices]
    mailer = mailer_of(channels, kind)
    if "email" in chosen and mailer is not None and user is not None and user.email:
        found.append(("email", {"channel": "email", "channel_id": mailer.id, "address": user.email}, True))
    if "robot" in chosen:
        found += [(f"robot:{channel.id}", {"channel": channel.type, "channel_id": channel.id,
                                           "mention": preference.mention if preference else None}, True)
                  for channel in carrying if channel.type in ROBOT_TYPES]
    found += [(f"webhook:{channel.id}", {"channel": "webhook", "channel_id": channel.id}, False)
              for channel in carrying if channel.type == "webhook"]
    return found


def tell(session, event_id: str, notices: list[Notice], now=None) -> list[dict]:
    """Add the notices' inbox messages and deliveries to the session's
    transaction (the caller commits); the inbox messages that are new."""
    now = now or utcnow()
    users = by_key(session, UserCopy, UserCopy.user_id, (notice.user_id for notice in notices))
    notices = [notice for notice in notices if notice.user_id and getattr(users.get(notice.user_id), "active", True)]
    if not notices:
        return []
    preferences = by_key(session, Preference, Preference.user_id, users)
    for notice in notices:  # a message about no store is about the user's own
        home = users.get(notice.user_id)
        notice.store_code = notice.store_code or (home.stores[0] if home and home.stores else None)
    stores = {notice.store_code for notice in notices}
    settings = by_key(session, StoreSetting, StoreSetting.store_code, stores)
    channels: dict[str, list] = {}
    for channel in session.scalars(select(StoreChannel).where(StoreChannel.store_code.in_(stores - {None}))):
        channels.setdefault(channel.store_code, []).append(channel)
    pushing = {notice.user_id for notice in notices
               if "webpush" in channels_of(getattr(preferences.get(notice.user_id), "channels", None))[notice.kind]}
    devices: dict[str, list] = {}
    if pushing:
        for device in session.scalars(select(PushSubscription).where(PushSubscription.user_id.in_(pushing))):
            devices.setdefault(device.user_id, []).append(device)

    messages, deliveries = [], []
    for notice in notices:
        user, preference = users.get(notice.user_id), preferences.get(notice.user_id)
        language, zone = language_for(preference, user), zone_of(session, notice.store_code)
        title, body = render(notice.kind, language, notice.values, zone)
        common = dict(kind=notice.kind, title=title, body=body, link=notice.link, lead_id=notice.lead_id,
                      created_at=now)
        messages.append(dict(common, id=str(uuid.uuid4()), user_id=notice.user_id, read_at=None,
                             dedupe_key=f"{event_id}:{notice.user_id}:inapp"))
        wanted = channels_of(preference.channels if preference else None)[notice.kind]
        store_setting = settings.get(notice.store_code)
        breaks = notice.kind in URGENT_KINDS and store_setting is not None and store_setting.urgent_breaks_quiet
        quiet_end = None if breaks or preference is None else timing.quiet_until(
            now, preference.quiet_start, preference.quiet_end, zone)
        for route, columns, holds in routes(notice.kind, wanted, user, preference,
                                            channels.get(notice.store_code, []), devices.get(notice.user_id, [])):
            personal = not route.startswith("webhook:")  # a webhook hears of the event once, whoever it tells
            deliveries.append(delivery(
                now, **common, **columns, next_attempt_at=quiet_end if holds and quiet_end else now,
                dedupe_key=f"{event_id}:{notice.user_id}:{route}" if personal else f"{event_id}:{route}",
                user_id=notice.user_id if personal else None, store_code=notice.store_code, language=language))
    new = insert_new(session, InboxMessage, messages)
    created = [message for message in messages if message["id"] in new]
    if created:
        count_on_commit(session, partial(engine.NOTIFICATIONS.labels("inapp", "created").inc, len(created)))
    for message in created:
        record(session, OutboxMessage, NOTIFICATION_CREATED,
               **{name: message[name] for name in ("id", "user_id", "kind", "title", "body", "link", "lead_id",
                                                   "created_at", "read_at")})
    queued = insert_new(session, Delivery, list({row["dedupe_key"]: row for row in reversed(deliveries)}.values()))
    log.info("event %s: %d new inbox message(s), %d delivery(ies) queued", event_id, len(created), len(queued))
    return created
