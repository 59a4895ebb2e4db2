"""Secrets at rest and the Web Push (VAPID) key pair.

A store channel's secret (a robot's signing secret, an SMTP password, a
webhook's signing key) is stored sealed with Fernet (AES-128-CBC and
HMAC-SHA256, from ``cryptography``). The key:

- ``NOTIFICATIONS_SECRET_KEY``: one or more Fernet keys, comma-separated
  (``Fernet.generate_key()``); the first seals, every one opens, so a key
  is rotated by putting the new one first (in every replica), running
  ``dealerflow reseal-secrets`` (``reseal_all``: every stored secret sealed
  again with the first key), then dropping the old one. Production sets it,
  the same in every replica;
- else a key generated once into ``<var>/notifications-secret-key`` (mode
  0600, written with ``O_EXCL`` so that two processes starting together
  make one), as the gateway does with its JWT secret. Good for one host.

Losing the key loses the secrets: the channels keep working only once an
admin enters their secrets again.

The VAPID key pair signs Web Push requests, and browsers subscribe against
its public half, so it must stay the same for as long as subscriptions
live: it is ``NOTIFICATIONS_VAPID_PRIVATE_KEY`` (the raw P-256 private key,
URL-safe base64, as ``web-push generate-vapid-keys`` prints it, or a PEM),
else one generated at first use and kept sealed in the database, where
every replica finds the same one.
"""
import base64
import functools
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, update

from dealerflow import config
from dealerflow.db import utcnow
from dealerflow.outbox import insert_or_ignore
from services.notifications.models import ServiceKey, StoreChannel

SECRET_ENV = "NOTIFICATIONS_SECRET_KEY"
VAPID_ENV = "NOTIFICATIONS_VAPID_PRIVATE_KEY"
VAPID_KEY = "vapid_private"


class SecretUnreadable(ValueError):
    """A sealed secret that no configured key opens (the key was lost or changed)."""


def secret_key_file():
    return config.var_dir() / "notifications-secret-key"


def ensure_secret_key() -> str:
    """Generate ``secret_key_file()`` (mode 0600) unless ``NOTIFICATIONS_SECRET_KEY``
    is set or the file exists; says which key the service uses."""
    if os.environ.get(SECRET_ENV):
        return f"notifications secret key: from {SECRET_ENV}"
    path = secret_key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return f"notifications secret key: {path}"
    with os.fdopen(fd, "w") as file:
        file.write(Fernet.generate_key().decode() + "\n")
    return f"notifications secret key: {path} (generated)"


@functools.cache
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])


def fernet() -> MultiFernet:
    """The configured keys (read each time: a test or an operator may change the env)."""
    keys = os.environ.get(SECRET_ENV)
    if not keys:
        ensure_secret_key()
        keys = secret_key_file().read_text().strip()
    return _fernet(keys)


def seal(secret: str | None) -> str | None:
    return None if secret is None else fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    if sealed is None:
        return None
    try:
        return fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret cannot be opened with the configured key") from None


SEALED = ((StoreChannel, StoreChannel.id, StoreChannel.secret), (ServiceKey, ServiceKey.name, ServiceKey.value))


def reseal_all(session) -> int:
    """Seal every stored secret (the store channels' and the service keys')
    again with the first configured key (``MultiFernet.rotate``), in one
    transaction, so that the other keys can be dropped; returns how many.
    Each row is written only if it still holds what was read: a secret an
    admin saved meanwhile was sealed with the first key already. A secret
    that no configured key opens changes nothing and is ``SecretUnreadable``."""
    keys, count = fernet(), 0
    for model, key, column in SEALED:
        for name, sealed in session.execute(select(key, column).where(column.is_not(None))).all():
            try:
                fresh = keys.rotate(sealed.encode()).decode()
            except InvalidToken:
                session.rollback()
                raise SecretUnreadable(f"{model.__tablename__} {name}: its secret opens with none of "
                                       f"the keys of {SECRET_ENV}; nothing was sealed again") from None
            count += session.execute(update(model).where(key == name, column == sealed)
                                     .values({column.key: fresh})).rowcount
    session.commit()
    return count


# -- VAPID -------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def raw_private_key(text: str) -> str:
    """A P-256 private key given as a PEM or as its raw 32 bytes in URL-safe
    base64, as the raw form (what pywebpush's ``Vapid.from_string`` reads)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        return b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    if len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) != 32:
        raise ValueError(f"{VAPID_ENV} is not a P-256 private key (32 bytes, URL-safe base64, or a PEM)")
    return text


def new_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def vapid_private_key(session) -> str:
    """The VAPID private key (raw, URL-safe base64): the env's, else the
    database's, made by whichever replica asked first."""
    if os.environ.get(VAPID_ENV):
        return raw_private_key(os.environ[VAPID_ENV])
    row = session.get(ServiceKey, VAPID_KEY)
    if row is None:
        insert_or_ignore(session, ServiceKey, name=VAPID_KEY, value=seal(new_private_key()), created_at=utcnow())
        session.commit()
        row = session.get(ServiceKey, VAPID_KEY, populate_existing=True)
    return unseal(row.value)


def public_key(private_raw: str) -> str:
    """The applicationServerKey: the uncompressed public point, URL-safe base64."""
    scalar = int.from_bytes(base64.urlsafe_b64decode(private_raw + "=" * (-len(private_raw) % 4)), "big")
    point = ec.derive_private_key(scalar, ec.SECP256R1()).public_key()
    return b64url(point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
