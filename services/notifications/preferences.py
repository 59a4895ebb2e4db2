"""A user's own settings: which channels carry which kind, quiet hours, the
language, how robots @ them, their Web Push subscriptions; and the VAPID
public key their browser subscribes with.

Defaults (a user who saved nothing, or a kind they did not set): every kind
reaches the inbox, Web Push and the store's robots; escalations and the
daily digest also email. The inbox always carries everything: it is the
record, and it is silent (quiet hours do not hold it).
"""
import hashlib

from sqlalchemy import delete, func, select

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from dealerflow.notification_contracts import KINDS
from services.notifications import crypto
from services.notifications.exceptions import InvalidNotification, NotAllowed
from services.notifications.messages import DEFAULT_LANGUAGE
from services.notifications.models import Preference, PushSubscription, UserCopy

DEFAULT_CHANNELS = {kind: ["inapp", "webpush", "robot"] for kind in KINDS}
for _kind in ("escalation", "daily_digest"):
    DEFAULT_CHANNELS[_kind] = ["inapp", "webpush", "email", "robot"]


def channels_of(saved: dict | None) -> dict[str, list[str]]:
    """Every kind's channels: the saved choice, else the default; the inbox always."""
    saved = saved or {}
    return {kind: ["inapp", *[c for c in saved[kind] if c != "inapp"]] if kind in saved else list(DEFAULT_CHANNELS[kind])
            for kind in KINDS}


def language_for(preference: Preference | None, user: UserCopy | None) -> str:
    """The recipient's language: their choice, else their default, else Chinese."""
    if preference is not None and preference.language:
        return preference.language
    return user.language if user is not None else DEFAULT_LANGUAGE


def own(actor: Actor) -> str:
    """The user whose settings these are: only a person has them."""
    if not actor.is_user:
        raise NotAllowed("Only staff have notification preferences.")
    return actor.user_id


def push_devices(session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(PushSubscription)
                          .where(PushSubscription.user_id == user_id))


def get(session, actor: Actor) -> dict:
    """What applies to the actor now, defaults filled in."""
    user_id = own(actor)
    preference, user = session.get(Preference, user_id), session.get(UserCopy, user_id)
    return {"language": language_for(preference, user),
            "channels": channels_of(preference.channels if preference else None),
            "quiet_start": preference.quiet_start if preference else None,
            "quiet_end": preference.quiet_end if preference else None,
            "mention": preference.mention if preference else None,
            "email": user.email if user else None,
            "push_devices": push_devices(session, user_id)}


def save(session, actor: Actor, data: dict) -> dict:
    """Change what was given; the rest stays. Quiet hours are set or cleared together."""
    user_id = own(actor)
    preference = session.get(Preference, user_id, with_for_update=True)
    if preference is None:
        preference = Preference(user_id=user_id, channels={})
        session.add(preference)
    if "language" in data:
        preference.language = data["language"]
    if "channels" in data:
        preference.channels = dict(preference.channels or {}, **{
            kind: sorted(set(chosen) | {"inapp"}) for kind, chosen in data["channels"].items()})
    if "quiet_start" in data or "quiet_end" in data:
        start, end = data.get("quiet_start"), data.get("quiet_end")
        preference.quiet_start, preference.quiet_end = (start, end) if start and end and start != end else (None, None)
    if "mention" in data:
        preference.mention = data["mention"] or None
    preference.updated_at = utcnow()
    session.commit()
    return get(session, actor)


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscribe(session, actor: Actor, data: dict) -> dict:
    """Keep a browser's subscription (the same endpoint again: the same
    row, now this user's: a shared device signed in as someone else)."""
    user_id = own(actor)
    keys = data["keys"]
    if not keys.get("p256dh") or not keys.get("auth"):
        raise InvalidNotification("A push subscription needs its keys.", {"keys": ["p256dh and auth"]})
    row_id = subscription_id(data["endpoint"])
    row = session.get(PushSubscription, row_id, with_for_update=True)
    if row is None:
        row = PushSubscription(id=row_id, endpoint=data["endpoint"], created_at=utcnow())
        session.add(row)
    row.user_id, row.p256dh, row.auth = user_id, keys["p256dh"][:200], keys["auth"][:100]
    session.commit()
    return {"push_devices": push_devices(session, user_id)}


def unsubscribe(session, actor: Actor, endpoint: str) -> dict:
    user_id = own(actor)
    session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id(endpoint or ""),
                                                   PushSubscription.user_id == user_id))
    session.commit()
    return {"push_devices": push_devices(session, user_id)}


def vapid_public_key(session) -> dict:
    return {"public_key": crypto.public_key(crypto.vapid_private_key(session))}
