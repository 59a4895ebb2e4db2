"""Configuration from the environment, one function per setting.

Every setting has a default that makes `make run` work on a bare machine:
RabbitMQ on localhost and one SQLite file per service under ``var/``.
"""
import os
from datetime import timedelta
from pathlib import Path

WORKERS = ("customers", "leads", "followups", "notifications")  # the nameko services
SERVICES = ("gateway", *WORKERS)

ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    return Path(os.environ.get("DEALERFLOW_VAR", ROOT / "var"))


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def database_url(service: str) -> str:
    """``<SERVICE>_DATABASE_URL``, else ``sqlite:///var/<service>.db``."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    url = os.environ.get(f"{service.upper()}_DATABASE_URL")
    return url or f"sqlite:///{var_dir() / service}.db"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def dedupe_retention() -> timedelta:
    """How long duplicates are recognised: the gateway's intake ledger and
    Idempotency-Keys, and every service's ``processed_messages``
    (``DEDUPE_RETENTION_DAYS``, default 30, at least 1). It must outlast any
    redelivery: retries take minutes, and a parked message should be replayed
    within it."""
    return timedelta(days=max(1, env_int("DEDUPE_RETENTION_DAYS", 30)))


def jwt_secret_file() -> Path:
    """Where ``dealerflow migrate`` keeps the generated JWT secret."""
    return var_dir() / "jwt-secret"


def jwt_secret() -> str:
    """The key staff access tokens are signed with (HS256): ``JWT_SECRET``,
    else the one ``dealerflow migrate`` generated into ``jwt_secret_file()``.
    Every gateway worker and every CLI reads the same one."""
    secret = os.environ.get("JWT_SECRET") or (
        jwt_secret_file().read_text().strip() if jwt_secret_file().exists() else "")
    if len(secret) < 32:
        raise RuntimeError("no JWT secret of 32+ characters: set JWT_SECRET, or run "
                           f"`dealerflow migrate` to generate {jwt_secret_file()}")
    return secret


def jwt_previous_secrets() -> list[str]:
    """Keys that still verify staff access tokens but sign none
    (``JWT_PREVIOUS_SECRETS``, comma-separated): a key taken out of
    ``JWT_SECRET`` stays here until the tokens it signed have expired
    (``ACCESS_TOKEN_MINUTES``), so rotating it signs nobody out; a rollout
    lists the next key here first, so that a gateway still on the old key
    accepts what an upgraded one signs (docs/operations.md)."""
    secrets = [secret.strip() for secret in os.environ.get("JWT_PREVIOUS_SECRETS", "").split(",")]
    if any(0 < len(secret) < 32 for secret in secrets):
        raise RuntimeError("every key of JWT_PREVIOUS_SECRETS must have 32+ characters")
    return [secret for secret in secrets if secret]


def access_token_lifetime() -> timedelta:
    """How long a staff access token is good for (``ACCESS_TOKEN_MINUTES``, 15)."""
    return timedelta(minutes=max(1, env_int("ACCESS_TOKEN_MINUTES", 15)))


def refresh_token_lifetime() -> timedelta:
    """How long a refresh token is good for (``REFRESH_TOKEN_DAYS``, 14); each
    use gives a new one, so a session lasts while it is used."""
    return timedelta(days=max(1, env_int("REFRESH_TOKEN_DAYS", 14)))


def nameko_config(service: str) -> dict:
    """The nameko config of one service, built from the environment."""
    return {
        "AMQP_URI": amqp_uri(),
        "DATABASE_URL": database_url(service),
        "max_workers": env_int("MAX_WORKERS", 10),
        # RabbitMQ's advice: 5-20 s; short enough to notice a dead peer fast.
        "HEARTBEAT": env_int("AMQP_HEARTBEAT", 10),
        "serializer": "json",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }
