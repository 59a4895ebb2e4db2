"""The organisation the gateway owns: stores, users, API keys.

Every change commits with a ``store_saved`` / ``user_saved`` event in the
outbox, so the services' copies (rosters, calendars) follow it.
"""
import re
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from dealerflow.contracts import STORE_SAVED, USER_SAVED
from dealerflow.db import utcnow
from dealerflow.outbox import record
from services.gateway.auth import hash_api_key, hash_password, new_api_key
from services.gateway.models import ApiKey, OutboxMessage, Store, User, UserStore

ROLES = ("consultant", "manager", "group_admin")
STORE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class OrgError(ValueError):
    """Bad input to an organisation change; the message says what to fix."""


def create_store(session, code: str, name: str, timezone: str = "Asia/Shanghai",
                 response_minutes: int = 15) -> Store:
    if not STORE_CODE.fullmatch(code or ""):
        raise OrgError(f"store code {code!r} must be 2-32 characters of A-Z, 0-9 and '-'")
    if session.get(Store, code) is not None:
        raise OrgError(f"store {code} exists already")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise OrgError(f"unknown time zone {timezone!r} (use an IANA name such as Asia/Shanghai)")
    if not 1 <= response_minutes <= 1440:
        raise OrgError("response minutes must be between 1 and 1440")
    store = Store(code=code, name=name or code, timezone=timezone,
                  response_minutes=response_minutes, active=True, revision=1,
                  created_at=utcnow())
    session.add(store)
    record(session, OutboxMessage, STORE_SAVED, code=store.code, name=store.name,
           timezone=store.timezone, response_minutes=store.response_minutes,
           active=store.active, revision=store.revision)
    return store


def create_user(session, username: str, password: str, role: str, stores: list[str],
                display_name: str | None = None, email: str | None = None) -> User:
    if not USERNAME.fullmatch(username or ""):
        raise OrgError(f"username {username!r} must be 2-64 characters of a-z, 0-9, '.', '_', '-'")
    if session.scalar(select(User.id).where(User.username == username)):
        raise OrgError(f"user {username} exists already")
    if role not in ROLES:
        raise OrgError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < 8:
        raise OrgError("password must have at least 8 characters")
    unknown = [code for code in stores if session.get(Store, code) is None]
    if unknown:
        raise OrgError(f"unknown store(s): {', '.join(unknown)}")
    if role != "group_admin" and not stores:
        raise OrgError(f"a {role} needs at least one store")
    user = User(id=str(uuid.uuid4()), username=username, display_name=display_name or username,
                email=email, role=role, password_hash=hash_password(password), active=True,
                revision=1, created_at=utcnow(),
                store_links=[UserStore(store_code=code) for code in sorted(set(stores))])
    session.add(user)
    announce_user(session, user)
    return user


def announce_user(session, user: User) -> None:
    record(session, OutboxMessage, USER_SAVED, user_id=user.id, username=user.username,
           display_name=user.display_name, role=user.role, stores=user.stores,
           email=user.email, active=user.active, revision=user.revision)


def create_api_key(session, stores: list[str], platform: str,
                   rate_limit: int = 100) -> tuple[ApiKey, str]:
    """A new key of the named ``platform`` for ``stores``; returns the row and
    the key (shown once). A platform's keys share its idempotency and
    ``(source, external_id)`` namespace; no two platforms ever do."""
    if not PLATFORM.fullmatch(platform or ""):
        raise OrgError(f"platform {platform!r} must be 2-64 characters of a-z, 0-9, '.', '_', '-'")
    if not stores:
        raise OrgError("an API key needs at least one store (--store CODE)")
    unknown = [code for code in stores if session.get(Store, code) is None]
    if unknown:
        raise OrgError(f"unknown store(s): {', '.join(unknown)}")
    if rate_limit < 0:
        raise OrgError("rate limit must be 0 (none) or a positive number of requests per second")
    key = new_api_key()
    row = ApiKey(id=str(uuid.uuid4()), prefix=key[:12], key_hash=hash_api_key(key),
                 platform=platform, stores=sorted(set(stores)), rate_limit=rate_limit,
                 created_at=utcnow())
    session.add(row)
    return row, key


def revoke_api_key(session, key_or_id: str) -> ApiKey:
    """Revoke by the key itself, its id, or its printed prefix."""
    row = (session.get(ApiKey, key_or_id)
           or session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key_or_id))))
    if row is None:
        matches = session.scalars(select(ApiKey).where(ApiKey.prefix == key_or_id)).all()
        if len(matches) > 1:
            raise OrgError(f"prefix {key_or_id} matches {len(matches)} keys; give the key id")
        row = matches[0] if matches else None
    if row is None:
        raise OrgError(f"no API key {key_or_id!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
