"""The organisation the gateway owns: stores, teams, users, API keys.

Every change commits with an entry in the audit log (``audit_log``: who,
what, to which target, with which values) and, for stores and users, a
``store_saved`` / ``user_saved`` event in the outbox, so the services'
copies (rosters, calendars) follow it. The command line and the admin API
both change the organisation through these functions, so both check the
same rules; ``by`` says who is changing it (a user id, or ``cli:<login>``).
"""
import re
import uuid
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import select

from dealerflow.actor import ROLES
from dealerflow.contracts import STORE_SAVED, USER_SAVED
from dealerflow.db import utcnow
from dealerflow.outbox import record
from services.gateway.auth import end_sessions, hash_api_key, hash_password, new_api_key
from services.gateway.models import (
    ApiKey,
    AuditEntry,
    AuthSession,
    OutboxMessage,
    Store,
    Team,
    User,
    UserStore,
)

STORE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
HOURS = re.compile(r"([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_HOURS = {day: ["00:00-24:00"] for day in DAYS}
SYSTEM = "system"
MIN_PASSWORD, MAX_PASSWORD = 8, 256


class OrgError(ValueError):
    """Bad input to an organisation change; the message says what to fix,
    ``field`` which input it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Unknown(OrgError):
    """The store, team, user or API key to change does not exist."""


# -- checks: each takes the session and a value, returns it as stored -----------

def text(limit: int, field: str):
    def check(session, value):
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
            raise OrgError(f"{field} must be 1-{limit} characters", field)
        return value.strip()
    return check


def optional_email(session, value):
    if value is not None and (not isinstance(value, str) or "@" not in value or len(value) > 254):
        raise OrgError("email must be an address of at most 254 characters", "email")
    return value


def time_zone(session, value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise OrgError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)",
                       "timezone")
    return value


def country(session, value):
    """An ISO 3166 alpha-2 region with a numbering plan (``CN``, ``US``): a
    phone written without a country code is read in the store's country."""
    region = value.strip().upper() if isinstance(value, str) else None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise OrgError(f"country must be an ISO 3166 code with a phone numbering plan, such as CN or US; "
                       f"not {value!r}", "country")
    return region


def whole(low: int, high: int, field: str, what: str):
    def check(session, value):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise OrgError(f"{what} must be between {low} and {high}", field)
        return value
    return check


def flag(field: str):
    def check(session, value):
        if not isinstance(value, bool):
            raise OrgError(f"{field} must be true or false", field)
        return value
    return check


def weekly_hours(field: str):
    """``{"mon": ["09:00-12:00", "13:00-18:00"], ...}``: hours per weekday,
    local time, in order and not overlapping; a day missing or empty is off."""
    def check(session, value):
        problem = OrgError(f"{field} maps weekdays ({', '.join(DAYS)}) to lists of "
                           "'HH:MM-HH:MM' spans, in order and not overlapping", field)
        if not isinstance(value, dict) or not set(value) <= set(DAYS):
            raise problem
        hours = {}
        for day in DAYS:
            spans = value.get(day) or []
            if not isinstance(spans, list) or not all(
                    isinstance(span, str) and HOURS.fullmatch(span) and span[:5] < span[6:]
                    for span in spans):
                raise problem
            if any(later[:5] < earlier[6:] for earlier, later in zip(spans, spans[1:])):
                raise problem
            if spans:
                hours[day] = spans
        return hours
    return check


def iso_date(value, field: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise OrgError(f"{field}: {value!r} is not a date (YYYY-MM-DD)", field)


def dates(session, value):
    if not isinstance(value, list):
        raise OrgError("holidays must be a list of dates (YYYY-MM-DD)", "holidays")
    return sorted({iso_date(day, "holidays") for day in value})


def leave_periods(session, value):
    """``[{"start": "2026-12-01", "end": "2026-12-05"}]``: local dates, both included."""
    if not isinstance(value, list) or not all(isinstance(p, dict) and set(p) == {"start", "end"}
                                              for p in value):
        raise OrgError("leave must be a list of {start, end} dates", "leave")
    periods = sorted(({"start": iso_date(p["start"], "leave"), "end": iso_date(p["end"], "leave")}
                      for p in value), key=lambda p: p["start"])
    if any(p["end"] < p["start"] for p in periods):
        raise OrgError("a leave period ends before it starts", "leave")
    return periods


def role(session, value):
    if value not in ROLES:
        raise OrgError(f"role must be one of {', '.join(ROLES)}", "role")
    return value


def store_codes(session, value):
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise OrgError("stores must be a list of store codes", "stores")
    unknown = [code for code in value if session.get(Store, code) is None]
    if unknown:
        raise OrgError(f"unknown store(s): {', '.join(unknown)}", "stores")
    return sorted(set(value))


def languages(session, value):
    if not isinstance(value, list) or not value or not all(
            isinstance(code, str) and LANGUAGE.fullmatch(code) for code in value):
        raise OrgError("languages must be a non-empty list of codes such as zh, en", "languages")
    return list(dict.fromkeys(value))


def existing(model, field: str, what: str):
    def check(session, value):
        if value is not None and session.get(model, value) is None:
            raise OrgError(f"no {what} {value!r}", field)
        return value
    return check


STORE_CHECKS = {
    "name": text(200, "name"),
    "timezone": time_zone,
    "country": country,
    "response_minutes": whole(1, 1440, "response_minutes", "response minutes"),
    "business_hours": weekly_hours("business_hours"),
    "holidays": dates,
    "active": flag("active"),
}
TEAM_CHECKS = {
    "name": text(100, "name"),
    "store_code": existing(Store, "store_code", "store"),
    "leader_id": existing(User, "leader_id", "user"),
}
USER_CHECKS = {
    "display_name": text(200, "display_name"),
    "email": optional_email,
    "role": role,
    "stores": store_codes,
    "team_id": existing(Team, "team_id", "team"),
    "languages": languages,
    "shift": weekly_hours("shift"),
    "leave": leave_periods,
    "daily_capacity": whole(0, 1000, "daily_capacity", "daily capacity"),
    "active": flag("active"),
}


def apply(session, row, checks: dict, changes: dict) -> dict:
    """Check every change and set it on ``row``; returns them as stored."""
    unknown = set(changes) - set(checks)
    if unknown:
        raise OrgError(f"cannot change {', '.join(sorted(unknown))}", sorted(unknown)[0])
    stored = {name: checks[name](session, value) for name, value in changes.items()}
    for name, value in stored.items():
        setattr(row, name, value)
    return stored


def audit(session, by: str, action: str, target: str, **details) -> None:
    session.add(AuditEntry(id=str(uuid.uuid4()), at=utcnow(), who=by, action=action,
                           target=target, details=details))


# -- stores --------------------------------------------------------------------

def create_store(session, code: str, name: str, timezone: str = "Asia/Shanghai",
                 response_minutes: int = 15, *, by: str = SYSTEM, **more) -> Store:
    """A new store; ``more``: country (``CN`` unless given), business_hours, holidays."""
    if not STORE_CODE.fullmatch(code or ""):
        raise OrgError(f"store code {code!r} must be 2-32 characters of A-Z, 0-9 and '-'", "code")
    if session.get(Store, code) is not None:
        raise OrgError(f"store {code} exists already", "code")
    store = Store(code=code, business_hours={}, holidays=[], active=True, revision=0,
                  created_at=utcnow())
    changes = dict({"country": "CN"}, **more, name=name or code, timezone=timezone,
                   response_minutes=response_minutes)
    return save_store(session, store, changes, by, "store.create")


def update_store(session, code: str, changes: dict, by: str) -> Store:
    return save_store(session, store_of(session, code), changes, by, "store.update")


def store_of(session, code: str) -> Store:
    store = session.get(Store, code)
    if store is None:
        raise Unknown(f"no store {code!r}", "code")
    return store


def save_store(session, store: Store, changes: dict, by: str, action: str) -> Store:
    stored = apply(session, store, STORE_CHECKS, changes)
    store.revision += 1
    session.add(store)
    announce_store(session, store)
    audit(session, by, action, f"store:{store.code}", **stored)
    return store


def announce_store(session, store: Store) -> None:
    record(session, OutboxMessage, STORE_SAVED, code=store.code, name=store.name,
           timezone=store.timezone, country=store.country, response_minutes=store.response_minutes,
           business_hours=store.business_hours, holidays=store.holidays,
           active=store.active, revision=store.revision)


def announce_all(session) -> int:
    """Announce every store and user again, each as a new revision, so that
    every service's copy is whole after an upgrade that copies more of them."""
    count = 0
    for item, announce in ((Store, announce_store), (User, announce_user)):
        for record_ in session.scalars(select(item)):
            record_.revision += 1
            announce(session, record_)
            count += 1
    return count


# -- teams ---------------------------------------------------------------------

def create_team(session, name: str, store_code: str, leader_id: str | None = None, *,
                by: str = SYSTEM) -> Team:
    team = Team(id=str(uuid.uuid4()), created_at=utcnow())
    return save_team(session, team, {"name": name, "store_code": store_code,
                                     "leader_id": leader_id}, by, "team.create")


def update_team(session, team_id: str, changes: dict, by: str) -> Team:
    return save_team(session, team_of(session, team_id), changes, by, "team.update")


def team_of(session, team_id: str) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise Unknown(f"no team {team_id!r}", "team_id")
    return team


def team_named(session, name: str) -> Team:
    """The team called ``name`` (for the command line; the API uses ids)."""
    teams = session.scalars(select(Team).where(Team.name == name)).all()
    if len(teams) != 1:
        raise Unknown(f"{len(teams) or 'no'} teams called {name!r}" +
                      ("; give the team id" if teams else ""), "team")
    return teams[0]


def save_team(session, team: Team, changes: dict, by: str, action: str) -> Team:
    stored = apply(session, team, TEAM_CHECKS, changes)
    session.add(team)
    audit(session, by, action, f"team:{team.id}", **stored)
    return team


# -- users ---------------------------------------------------------------------

def create_user(session, username: str, password: str, role: str, stores: list[str],
                display_name: str | None = None, email: str | None = None, *,
                by: str = SYSTEM, **more) -> User:
    """A new staff user; ``more``: any field of ``USER_CHECKS``."""
    if not USERNAME.fullmatch(username or ""):
        raise OrgError(f"username {username!r} must be 2-64 characters of a-z, 0-9, '.', '_', '-'",
                       "username")
    if session.scalar(select(User.id).where(User.username == username)):
        raise OrgError(f"user {username} exists already", "username")
    user = User(id=str(uuid.uuid4()), username=username, password_hash=hash_password(
                checked_password(password)), team_id=None, languages=["zh"], shift={}, leave=[],
                daily_capacity=30, active=True, revision=0, created_at=utcnow(), store_links=[])
    changes = dict(more, role=role, stores=stores, display_name=display_name or username,
                   email=email)
    return save_user(session, user, changes, by, "user.create")


def update_user(session, user_id: str, changes: dict, by: str) -> User:
    """Change a user; deactivating one ends their sessions at once."""
    user = save_user(session, user_of(session, user_id), changes, by, "user.update")
    if not user.active:
        end_sessions(session, utcnow(), AuthSession.user_id == user.id)
    return user


def user_of(session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Unknown(f"no user {user_id!r}", "user_id")
    return user


def user_named(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise Unknown(f"no user {username!r}", "username")
    return user


def save_user(session, user: User, changes: dict, by: str, action: str) -> User:
    stored = apply(session, user, USER_CHECKS, {k: v for k, v in changes.items() if k != "stores"})
    if "stores" in changes:
        stored["stores"] = store_codes(session, changes["stores"])
        user.store_links = [UserStore(store_code=code) for code in stored["stores"]]
    if user.role != "group_admin" and not user.store_links:
        raise OrgError(f"a {user.role} needs at least one store", "stores")
    team = session.get(Team, user.team_id) if user.team_id else None
    if team is not None and user.role != "group_admin" and team.store_code not in user.stores:
        raise OrgError(f"team {team.name} is of store {team.store_code}, not one of the user's",
                       "team_id")
    user.revision += 1
    session.add(user)
    announce_user(session, user)
    audit(session, by, action, f"user:{user.id}", **stored)
    return user


def announce_user(session, user: User) -> None:
    record(session, OutboxMessage, USER_SAVED, user_id=user.id, username=user.username,
           display_name=user.display_name, role=user.role, stores=user.stores,
           email=user.email, team_id=user.team_id, languages=user.languages, shift=user.shift,
           leave=user.leave, daily_capacity=user.daily_capacity, active=user.active,
           revision=user.revision)


def checked_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise OrgError(f"password must have at least {MIN_PASSWORD} characters "
                       f"(at most {MAX_PASSWORD})", "password")
    return password


def set_password(session, user_id: str, password: str, by: str) -> User:
    """A new password (the user's own change, or an admin's reset): every
    session of the user ends, so every token they hold stops working."""
    user = user_of(session, user_id)
    user.password_hash = hash_password(checked_password(password))
    end_sessions(session, utcnow(), AuthSession.user_id == user.id)
    audit(session, by, "user.password_change" if by == user.id else "user.password_reset",
          f"user:{user.id}")
    return user


# -- API keys ------------------------------------------------------------------

def create_api_key(session, stores: list[str], platform: str, rate_limit: int = 100, *,
                   by: str = SYSTEM) -> tuple[ApiKey, str]:
    """A new key of the named ``platform`` for ``stores``; returns the row and
    the key (shown once). A platform's keys share its idempotency and
    ``(source, external_id)`` namespace; no two platforms ever do."""
    if not PLATFORM.fullmatch(platform or ""):
        raise OrgError(f"platform {platform!r} must be 2-64 characters of a-z, 0-9, '.', '_', '-'",
                       "platform")
    if not stores:
        raise OrgError("an API key needs at least one store (--store CODE)", "stores")
    stores = store_codes(session, stores)
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 0:
        raise OrgError("rate limit must be 0 (none) or a positive number of requests per second",
                       "rate_limit")
    key = new_api_key()
    row = ApiKey(id=str(uuid.uuid4()), prefix=key[:12], key_hash=hash_api_key(key),
                 platform=platform, stores=stores, rate_limit=rate_limit, created_at=utcnow())
    session.add(row)
    audit(session, by, "api_key.create", f"api_key:{row.id}", platform=platform, stores=stores,
          rate_limit=rate_limit, prefix=row.prefix)
    return row, key


def revoke_api_key(session, key_or_id: str, *, by: str = SYSTEM) -> ApiKey:
    """Revoke by the key itself, its id, or its printed prefix."""
    row = (session.get(ApiKey, key_or_id)
           or session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key_or_id))))
    if row is None:
        matches = session.scalars(select(ApiKey).where(ApiKey.prefix == key_or_id)).all()
        if len(matches) > 1:
            raise OrgError(f"prefix {key_or_id} matches {len(matches)} keys; give the key id")
        row = matches[0] if matches else None
    if row is None:
        raise Unknown(f"no API key {key_or_id!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(session, by, "api_key.revoke", f"api_key:{row.id}", platform=row.platform)
    return row
