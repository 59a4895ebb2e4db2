"""Credentials: API keys for platforms; passwords, sign-in sessions and
refresh tokens for staff.

A sign-in starts a session (``AuthSession``): its access tokens carry its
id, its refresh tokens are one family. A refresh token is used once and
gives the next one; using one a second time (a copy was stolen, or the
client is confused) revokes its whole session. Failed sign-ins lock a
username with a growing back-off; an unknown username costs the same
time as a known one and is locked the same way, so neither reveals which
usernames exist.
"""
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dealerflow import config
from dealerflow.actor import API_KEY, GROUP_ADMIN, USER, Actor
from dealerflow.db import execute
from services.gateway.models import ApiKey, AuthSession, FailedSignIns, RefreshToken, Store, User, UserStore

KEY_PREFIX = "dfk_"
LOCK_AFTER = 5                          # failed sign-ins in a row before a lock
FIRST_LOCK = timedelta(seconds=30)      # doubled with every further failure ...
LONGEST_LOCK = timedelta(minutes=15)    # ... up to this
_hasher = PasswordHasher()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


@cache
def dummy_hash() -> str:
    """What an unknown username's password is checked against, so that it
    takes as long as a known one's."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Platform:
    """The caller behind a valid API key."""
    key_id: str
    platform: str
    stores: tuple[str, ...]
    rate_limit: int

    def actor(self) -> Actor:
        return Actor(kind=API_KEY, platform=self.platform, stores=self.stores)


# read at every platform request: built once, run as Core (rows, no ORM objects)
LIVE_KEY_BY_HASH = select(ApiKey.id, ApiKey.platform, ApiKey.stores, ApiKey.rate_limit).where(
    ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))


def authenticate_key(session, key: str | None) -> Platform | None:
    """The platform of a key that is not revoked; read at every request, so
    that a revoked key is refused at once."""
    if not key:
        return None
    row = session.connection().execute(LIVE_KEY_BY_HASH, {"key_hash": hash_api_key(key)}).first()
    if row is None:
        return None
    return Platform(row.id, row.platform, tuple(row.stores), row.rate_limit)


# -- sign-in and its lockout ---------------------------------------------------

class Locked(Exception):
    def __init__(self, seconds: int):
        super().__init__(f"locked for {seconds} s")
        self.seconds = seconds


def inline(function, *args):
    return function(*args)


def locked_for(session, username: str, now: datetime) -> int:
    """Seconds until ``username`` may try again (0: now)."""
    locked_until = session.scalar(select(FailedSignIns.locked_until).where(
        FailedSignIns.username == username))
    if locked_until is None or locked_until <= now:
        return 0
    return max(1, int((locked_until - now).total_seconds() + 0.999))


def check_password(session, username: str, password: str, now: datetime,
                   run=inline) -> User | None:
    """The active user when the password is theirs, else None after counting
    the failure; ``Locked`` while the username is locked (nothing is checked
    then). ``run`` runs the slow hash (off the event loop, in the gateway).
    The caller commits."""
    seconds = locked_for(session, username, now)
    if seconds:
        raise Locked(seconds)
    user = session.scalar(select(User).where(User.username == username, User.active))
    if run(verify_password, user.password_hash if user else dummy_hash(), password) and user:
        session.execute(delete(FailedSignIns).where(FailedSignIns.username == username))
        return user
    count_failure(session, username, now)
    return None


def lock_time(failures: int) -> timedelta | None:
    """How long ``failures`` failed sign-ins in a row lock a username."""
    if failures < LOCK_AFTER:
        return None
    return min(LONGEST_LOCK, FIRST_LOCK * 2 ** min(failures - LOCK_AFTER, 10))


def count_failure(session, username: str, now: datetime) -> None:
    """One more failure, counted in one statement (two workers failing at
    once both count), and the lock it earns."""
    insert = {"sqlite": sqlite, "postgresql": postgresql}[
        session.get_bind().dialect.name].insert(FailedSignIns)
    failures = session.scalar(
        insert.values(username=username, failures=1, locked_until=None, last_failed_at=now)
        .on_conflict_do_update(index_elements=["username"],
                               set_={"failures": FailedSignIns.failures + 1, "last_failed_at": now})
        .returning(FailedSignIns.failures))
    lock = lock_time(failures)
    if lock:
        session.execute(update(FailedSignIns).where(FailedSignIns.username == username)
                        .values(locked_until=now + lock))


def prune_sign_ins(session, now: datetime) -> int:
    """Forget what can no longer matter, so that these tables stop growing
    (a spray of made-up usernames included): failures in a row a day after
    the last one (and its lock is over), refresh tokens past their expiry,
    and sessions left without a refresh token a day after they began (their
    last access token expired long before). The caller commits."""
    day_ago = now - timedelta(days=1)
    gone = session.execute(delete(FailedSignIns).where(
        FailedSignIns.last_failed_at < day_ago,
        or_(FailedSignIns.locked_until.is_(None), FailedSignIns.locked_until < now))).rowcount
    gone += session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now)).rowcount
    has_token = select(RefreshToken.token_hash).where(RefreshToken.session_id == AuthSession.id).exists()
    gone += session.execute(delete(AuthSession).where(AuthSession.created_at < day_ago, ~has_token)
                            .execution_options(synchronize_session=False)).rowcount
    return gone


# -- sessions and refresh tokens -----------------------------------------------

def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token(session, session_id: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=hash_refresh_token(token), session_id=session_id,
                             expires_at=now + config.refresh_token_lifetime()))
    return token


def start_session(session, user: User, now: datetime) -> tuple[str, str]:
    """A new sign-in session of ``user``: its id and its first refresh token."""
    auth_session = AuthSession(id=str(uuid.uuid4()), user_id=user.id, created_at=now)
    session.add(auth_session)
    session.flush()
    return auth_session.id, new_refresh_token(session, auth_session.id, now)


def rotate(session, token: str, now: datetime) -> tuple[str, str, str] | None:
    """Spend a refresh token: ``(user id, session id, next refresh token)``,
    or None when it is unknown, expired, of a revoked session or an inactive
    user. A token spent before revokes its session. The caller commits
    either way."""
    row = session.get(RefreshToken, hash_refresh_token(token))
    if row is None:
        return None
    auth_session = session.get(AuthSession, row.session_id)
    spent = session.execute(update(RefreshToken).where(
        RefreshToken.token_hash == row.token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)).rowcount == 0
    if spent:
        end_sessions(session, now, AuthSession.id == auth_session.id)
        return None
    user = session.get(User, auth_session.user_id)
    if auth_session.revoked_at is not None or row.expires_at <= now or not user.active:
        return None
    return user.id, auth_session.id, new_refresh_token(session, auth_session.id, now)


def end_session_of(session, token: str, now: datetime) -> None:
    """Sign out: revoke the session of this refresh token (if it is one)."""
    row = session.get(RefreshToken, hash_refresh_token(token))
    if row is not None:
        end_sessions(session, now, AuthSession.id == row.session_id)


def end_sessions(session, now: datetime, *where) -> None:
    """Revoke the sessions ``where`` selects: their access and refresh tokens
    stop working at once."""
    session.execute(update(AuthSession).where(AuthSession.revoked_at.is_(None), *where)
                    .values(revoked_at=now))


# The user of a live session with their stores (a group admin's: every active
# store), a row a store; built once, run on the session's connection (db.execute).
STAFF = (select(User.id, User.role, Store.code)
         .join(AuthSession, AuthSession.user_id == User.id)
         .outerjoin(Store, or_(and_(User.role == GROUP_ADMIN, Store.active),
                               and_(User.role != GROUP_ADMIN, Store.code.in_(
                                   select(UserStore.store_code).where(UserStore.user_id == User.id)))))
         .where(User.id == bindparam("user_id"), User.active, AuthSession.id == bindparam("session_id"),
                AuthSession.revoked_at.is_(None))
         .order_by(Store.code))


def staff_actor(session, user_id: str, session_id: str) -> Actor | None:
    """The actor of an active user's live session: one statement per
    request, so that a user deactivated, or whose password changed (both
    revoke their sessions), or a session signed out, is refused at once."""
    rows = execute(session, STAFF, {"user_id": user_id, "session_id": session_id}).all()
    if not rows:
        return None
    return Actor(kind=USER, user_id=rows[0].id, role=rows[0].role,
                 stores=tuple(row.code for row in rows if row.code is not None))
