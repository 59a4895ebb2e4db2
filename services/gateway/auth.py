"""Credentials: API keys for platforms, passwords for staff."""
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select

from dealerflow.actor import API_KEY, Actor
from services.gateway.models import ApiKey

KEY_PREFIX = "dfk_"
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


@dataclass(frozen=True)
class Platform:
    """The caller behind a valid API key."""
    key_id: str
    platform: str
    stores: tuple[str, ...]
    rate_limit: int

    def actor(self) -> Actor:
        return Actor(kind=API_KEY, platform=self.platform, stores=self.stores)


def authenticate_key(session, key: str | None) -> Platform | None:
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key),
                                              ApiKey.revoked_at.is_(None)))
    if row is None:
        return None
    return Platform(row.id, row.platform, tuple(row.stores), row.rate_limit)
