"""A store's channels and notification settings, managed by its managers
and the group's admins.

A channel's secret is sealed at rest (``crypto``) and never answered:
``has_secret`` says whether there is one. Its URL is answered masked,
since a robot's key is in its URL (WeCom's ``key=``, DingTalk's
``access_token=``, Feishu's hook id): every query value and every path
segment of 16 characters or more keep their first 4 characters. A change
that sends the masked URL back keeps the stored one.

"Send a test message" goes through the real sender at once and answers
what the receiver said; it uses no delivery row, so it is neither retried
nor rate-limited (a robot that answers "too many" says so).
"""
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select, update

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from dealerflow.notification_contracts import ROBOT_TYPES
from services.notifications import channels, crypto, engine, fanout
from services.notifications.channels import Message, Outcome, Target
from services.notifications.exceptions import InvalidNotification, NotificationNotFound
from services.notifications.messages import language_of, phrase
from services.notifications.models import (
    Delivery,
    Preference,
    StoreChannel,
    StoreCopy,
    StoreSetting,
    UserCopy,
)
from services.notifications.preferences import language_for
from services.notifications.scoping import managed_store

MASK_FROM = 16  # path segments this long are keys


def mask(text: str) -> str:
    return text[:4] + "****" if text else text


def mask_url(url: str | None) -> str | None:
    """The URL with its keys hidden (see the module's doc)."""
    if not url:
        return url
    parts = urlsplit(url)
    path = "/".join(mask(segment) if len(segment) >= MASK_FROM else segment for segment in parts.path.split("/"))
    query = urlencode([(name, mask(value)) for name, value in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def out(channel: StoreChannel, now=None) -> dict:
    """A channel as admins read it: no secret, the URL masked, its health."""
    now = now or utcnow()
    return {"id": channel.id, "store_code": channel.store_code, "type": channel.type, "name": channel.name,
            "url": mask_url(channel.url), "has_secret": channel.secret is not None,
            "settings": channel.settings or {}, "kinds": channel.kinds or [], "enabled": channel.enabled,
            "rate_per_minute": engine.rate_of(channel.type),
            "circuit": {"state": engine.circuit_state(channel, now), "failures": channel.failures,
                        "open_until": channel.open_until},
            "last_answer": channel.last_answer}


def invalid(field: str, why: str) -> InvalidNotification:
    return InvalidNotification(f"{field}: {why}", {field: [why]})


def check(channel_type: str, url: str | None, settings: dict) -> None:
    """What each type needs: robots and webhooks an http(s) URL, email an SMTP host and a sender."""
    if channel_type in (*ROBOT_TYPES, "webhook"):
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise invalid("url", "an http(s) address is needed")
    if channel_type == "email":
        if not isinstance(settings.get("host"), str) or not settings["host"]:
            raise invalid("settings.host", "the SMTP server's host name is needed")
        if not isinstance(settings.get("sender"), str) or "@" not in settings["sender"]:
            raise invalid("settings.sender", "the address mail is sent from is needed")
        port = settings.get("port", 587)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise invalid("settings.port", "a port number")
        for flag in ("starttls", "ssl"):
            if not isinstance(settings.get(flag, False), bool):
                raise invalid(f"settings.{flag}", "true or false")


def channel_of(session, actor: Actor, channel_id: str, lock: bool = False) -> StoreChannel:
    channel = session.get(StoreChannel, channel_id, with_for_update=lock)
    if channel is None:
        raise NotificationNotFound(f"No channel {channel_id}.")
    managed_store(actor, channel.store_code)
    return channel


def list_channels(session, actor: Actor, store_code: str) -> list[dict]:
    managed_store(actor, store_code)
    return [out(channel) for channel in session.scalars(
        select(StoreChannel).where(StoreChannel.store_code == store_code).order_by(StoreChannel.created_at))]


def create(session, actor: Actor, store_code: str, data: dict) -> dict:
    managed_store(actor, store_code)
    check(data["type"], data.get("url"), data["settings"])
    now = utcnow()
    channel = StoreChannel(id=str(uuid.uuid4()), store_code=store_code, type=data["type"], name=data["name"],
                           url=data.get("url"), secret=crypto.seal(data.get("secret") or None),
                           settings=data["settings"], kinds=sorted(set(data["kinds"])), enabled=data["enabled"],
                           circuit="closed", failures=0, created_at=now, updated_at=now)
    session.add(channel)
    session.commit()
    return out(channel)


def change(session, actor: Actor, channel_id: str, data: dict) -> dict:
    """Change what was given (the type stays: a new type is a new channel);
    a secret absent is kept, null removes it; the masked URL sent back keeps the URL."""
    channel = channel_of(session, actor, channel_id, lock=True)
    if data.get("type", channel.type) != channel.type:
        raise invalid("type", "a channel keeps its type; add a new channel instead")
    if "url" in data and data["url"] != mask_url(channel.url):
        channel.url = data["url"]
    if "secret" in data:
        channel.secret = crypto.seal(data["secret"] or None)
    for name in ("name", "settings", "enabled"):
        if name in data:
            setattr(channel, name, data[name])
    if "kinds" in data:
        channel.kinds = sorted(set(data["kinds"]))
    check(channel.type, channel.url, channel.settings or {})
    if "url" in data or "secret" in data or data.get("enabled"):  # fixed or turned on: try it afresh
        channel.circuit, channel.failures, channel.open_until, channel.paused_until = "closed", 0, None, None
    channel.updated_at = utcnow()
    session.commit()
    return out(channel)


def remove(session, actor: Actor, channel_id: str) -> None:
    """Delete the channel; what waited to go through it becomes dead letters."""
    channel = channel_of(session, actor, channel_id, lock=True)
    engine.bury(session, (Delivery.channel_id == channel.id) & (Delivery.status == "pending"),
                "the channel was deleted")
    session.delete(channel)
    session.commit()


def test(session, actor: Actor, channel_id: str, send=None) -> dict:
    """Send a test message through the channel now (no transaction open
    meanwhile); the receiver's answer, kept as the channel's last."""
    channel = channel_of(session, actor, channel_id)
    user = session.get(UserCopy, actor.user_id)
    preference = session.get(Preference, actor.user_id)
    store = session.get(StoreCopy, channel.store_code)
    language = language_of(language_for(preference, user))
    values = {"store": store.name if store else channel.store_code, "channel": channel.name,
              "by": user.display_name if user else actor.user_id}
    zone = fanout.zone_of(session, channel.store_code)
    message = Message(kind="lead_update", language=language,
                      title=phrase("test_message", "title", language, values, zone),
                      body=phrase("test_message", "body", language, values, zone),
                      link=engine.app_url("/"), mention=preference.mention if preference else None,
                      event_id=f"test:{uuid.uuid4()}")
    try:
        target = Target(url=channel.url, secret=crypto.unseal(channel.secret), settings=dict(channel.settings or {}),
                        to=(user.email if user and user.email else (channel.settings or {}).get("sender")))
    except crypto.SecretUnreadable as exc:
        outcome = Outcome(channels.REFUSED, str(exc))
    else:
        session.rollback()  # nothing held while the receiver answers
        outcome = engine.attempt(send or channels.send, engine.Job(channel.id, channel.type, target, message))
    session.execute(update(StoreChannel).where(StoreChannel.id == channel.id)
                    .values(last_answer=(outcome.answer or "")[:500]))
    session.commit()
    return {"ok": outcome.ok, "outcome": outcome.status, "answer": outcome.answer}


# -- the store's settings -------------------------------------------------------------

def get_settings(session, actor: Actor, store_code: str) -> dict:
    managed_store(actor, store_code)
    row = session.get(StoreSetting, store_code)
    return {"store_code": store_code, "urgent_breaks_quiet": bool(row and row.urgent_breaks_quiet)}


def save_settings(session, actor: Actor, store_code: str, data: dict) -> dict:
    managed_store(actor, store_code)
    row = session.get(StoreSetting, store_code, with_for_update=True)
    if row is None:
        row = StoreSetting(store_code=store_code)
        session.add(row)
    row.urgent_breaks_quiet, row.updated_at = data["urgent_breaks_quiet"], utcnow()
    session.commit()
    return get_settings(session, actor, store_code)
