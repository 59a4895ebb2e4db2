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
deliveries are sent by the delivery timer (``engine``). A new lead costs two
reads, each one statement built once and run as Core on the session's
connection (``RECIPIENTS``: the recipients' copies, preferences and devices;
``STORES``: the stores' time zones, settings and channels), and three
inserts; statements built at each call, and ORM objects for rows only read
or only inserted, made the fan-out half of the service's CPU.

Routes by channel, for a recipient of a message of kind K in store S:
``webpush``, one per subscribed device; ``email``, to the user's address
through S's oldest enabled email channel carrying K; ``robot``, through each
of S's enabled robots carrying K, mentioning the user as they said; and each
of S's enabled webhooks carrying K, whatever the user chose, once per
event however many people it tells (a webhook is the store's integration,
not a person: its dedupe key has no user, and it speaks the first
recipient's language). A channel S does not have is no
route. A message in the recipient's quiet hours (their store's time) waits
until they end, on every route but the inbox and webhooks, unless its kind
is urgent (``URGENT_KINDS``) and S lets urgent kinds break through.
"""
import functools
import logging
import uuid
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, union
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


def zone_named(name: str | None) -> ZoneInfo:
    """The time zone of that name (Shanghai for none, or one unknown here)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(DEFAULT_ZONE)


def zone_of(session, store_code: str | None) -> ZoneInfo:
    """The store's time zone (Shanghai for a store the service has not heard of)."""
    store = session.get(StoreCopy, store_code) if store_code else None
    return zone_named(store.timezone if store else None)


def delivery(now, **columns) -> dict:
    """A new delivery row: pending from ``now``, no route, ``columns`` over that."""
    return {**NO_ROUTE, "id": str(uuid.uuid4()), "user_id": None, "lead_id": None, "link": None,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_owner": None,
            "last_answer": None, "sent_at": None, "created_at": now, **columns}


# -- what fan-out reads: two statements, built once -------------------------------------

def known_in(columns, keys):
    """The keys (``keys``, an expanding parameter) found in any of these
    key columns: what the reads below start from, so that each table's part
    is found whether or not the others have a row."""
    return union(*(select(column.label("key")).where(column.in_(keys)) for column in columns)).subquery("known")


ASKED_USERS = bindparam("user_ids", expanding=True)
KNOWN_USERS = known_in((UserCopy.user_id, Preference.user_id, PushSubscription.user_id), ASKED_USERS)
# each recipient's copy, preferences and Web Push devices (a row per device)
RECIPIENTS = (
    select(KNOWN_USERS.c.key.label("user_id"), UserCopy.user_id.label("copy"), UserCopy.active, UserCopy.stores,
           UserCopy.email, UserCopy.language, Preference.user_id.label("preference"),
           Preference.language.label("chosen_language"), Preference.channels, Preference.quiet_start,
           Preference.quiet_end, Preference.mention, PushSubscription.id.label("device"))
    .select_from(KNOWN_USERS)
    .outerjoin(UserCopy, UserCopy.user_id == KNOWN_USERS.c.key)
    .outerjoin(Preference, Preference.user_id == KNOWN_USERS.c.key)
    .outerjoin(PushSubscription, PushSubscription.user_id == KNOWN_USERS.c.key))

ASKED_STORES = bindparam("store_codes", expanding=True)
KNOWN_STORES = known_in((StoreCopy.code, StoreSetting.store_code, StoreChannel.store_code), ASKED_STORES)
# each store's time zone, urgent policy and channels (a row per channel, the oldest first)
STORES = (
    select(KNOWN_STORES.c.key.label("code"), StoreCopy.timezone, StoreSetting.urgent_breaks_quiet, StoreChannel.id,
           StoreChannel.type, StoreChannel.enabled, StoreChannel.kinds)
    .select_from(KNOWN_STORES)
    .outerjoin(StoreCopy, StoreCopy.code == KNOWN_STORES.c.key)
    .outerjoin(StoreSetting, StoreSetting.store_code == KNOWN_STORES.c.key)
    .outerjoin(StoreChannel, StoreChannel.store_code == KNOWN_STORES.c.key)
    .order_by(StoreChannel.created_at, StoreChannel.id))


@dataclass
class Recipient:
    """What fan-out knows of a user: their copy (``active``, ``stores``,
    ``email``, ``language``) and preferences (``language``, ``channels``,
    quiet hours, ``mention``), None where it has none, and their devices."""
    user: SimpleNamespace | None
    preference: SimpleNamespace | None
    devices: list[str] = field(default_factory=list)  # push subscription ids


def recipients_of(session, user_ids) -> dict[str, Recipient]:
    """The users the service knows anything of, by id, in one statement."""
    found: dict[str, Recipient] = {}
    if not user_ids:
        return found
    for row in session.connection().execute(RECIPIENTS, {"user_ids": list(user_ids)}):
        recipient = found.get(row.user_id)
        if recipient is None:
            recipient = found[row.user_id] = Recipient(
                SimpleNamespace(active=row.active, stores=row.stores, email=row.email, language=row.language)
                if row.copy is not None else None,
                SimpleNamespace(language=row.chosen_language, channels=row.channels, quiet_start=row.quiet_start,
                                quiet_end=row.quiet_end, mention=row.mention)
                if row.preference is not None else None)
        if row.device is not None:
            recipient.devices.append(row.device)
    return found


@dataclass
class Store:
    """What fan-out needs of a store: its time zone, whether urgent kinds
    break its people's quiet hours, its channels (rows with ``id``, ``type``,
    ``enabled``, ``kinds``). A store it knows nothing of has the defaults."""
    zone: ZoneInfo = field(default_factory=lambda: zone_named(None))
    urgent_breaks_quiet: bool = False
    channels: list = field(default_factory=list)


def stores_of(session, store_codes) -> dict[str | None, Store]:
    """Every store asked (None too: no store), in one statement. An event's
    handler keeps what it read in one dict (``store_in``) and hands it to
    ``tell``: a store is read once per event."""
    stores = {code: Store() for code in store_codes}
    if stores.keys() - {None}:
        for row in session.connection().execute(STORES, {"store_codes": list(stores.keys() - {None})}):
            store = stores[row.code]
            store.zone, store.urgent_breaks_quiet = zone_named(row.timezone), bool(row.urgent_breaks_quiet)
            if row.id is not None:
                store.channels.append(row)
    return stores


def store_in(session, stores: dict, store_code: str | None) -> Store:
    """The store from those an event's handler read (``stores``), read
    now and kept there if it was not."""
    if store_code not in stores:
        stores.update(stores_of(session, {store_code}))
    return stores[store_code]


@functools.cache
def inserting_new(dialect_name: str, table):
    """``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` into ``table``, built once."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[dialect_name]
    return dialect.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)


def insert_new(session, model, rows: list[dict]) -> set[str]:
    """Insert the rows whose ``dedupe_key`` is new, in one statement (Core,
    on the session's connection); the ids inserted."""
    if not rows:
        return set()
    connection = session.connection()
    return set(connection.scalars(inserting_new(connection.dialect.name, model.__table__), rows))


def mailer_of(channels: list, kind: str):
    """The store's first enabled email channel that carries ``kind``."""
    return next((channel for channel in channels
                 if channel.type == "email" and channel.enabled and kind in (channel.kinds or ())), None)


def routes(kind: str, chosen: list[str], recipient: Recipient, channels: list) -> list[dict]:
    """Where a message of ``kind`` goes besides the inbox: ``(route, columns, holds)``."""
    user, preference = recipient.user, recipient.preference
    carrying = [channel for channel in channels if channel.enabled and kind in (channel.kinds or ())]
    found = []
    if "webpush" in chosen:
        found += [(f"webpush:{device}", {"channel": "webpush", "subscription_id": device}, True)
                  for device in recipient.devices]
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


def tell(session, event_id: str, notices: list[Notice], now=None, stores: dict | None = None) -> list[dict]:
    """Add the notices' inbox messages and deliveries to the session's
    transaction (the caller commits); the inbox messages that are new.
    ``stores``: those the caller read already (``stores_of``), to which
    the others are added."""
    now = now or utcnow()
    recipients = recipients_of(session, {notice.user_id for notice in notices if notice.user_id})
    told = [(notice, recipients.get(notice.user_id) or Recipient(None, None)) for notice in notices
            if notice.user_id]
    told = [(notice, recipient) for notice, recipient in told if getattr(recipient.user, "active", True)]
    if not told:
        return []
    for notice, recipient in told:  # a message about no store is about the user's own
        home = recipient.user
        notice.store_code = notice.store_code or (home.stores[0] if home and home.stores else None)
    stores = {} if stores is None else stores
    stores.update(stores_of(session, {notice.store_code for notice, _ in told} - stores.keys()))

    messages, deliveries = [], []
    for notice, recipient in told:
        preference, store = recipient.preference, stores[notice.store_code]
        language = language_for(preference, recipient.user)
        title, body = render(notice.kind, language, notice.values, store.zone)
        common = dict(kind=notice.kind, title=title, body=body, link=notice.link, lead_id=notice.lead_id,
                      created_at=now)
        messages.append(dict(common, id=str(uuid.uuid4()), user_id=notice.user_id, read_at=None,
                             dedupe_key=f"{event_id}:{notice.user_id}:inapp"))
        wanted = channels_of(preference.channels if preference else None)[notice.kind]
        breaks = notice.kind in URGENT_KINDS and store.urgent_breaks_quiet
        quiet_end = None if breaks or preference is None else timing.quiet_until(
            now, preference.quiet_start, preference.quiet_end, store.zone)
        for route, columns, holds in routes(notice.kind, wanted, recipient, store.channels):
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
