"""Rotating ``NOTIFICATIONS_SECRET_KEY``: with the new key first and the old
one after it, ``dealerflow reseal-secrets`` seals every stored secret (the
store channels' and the VAPID key) with the new key, so that the old key can
be dropped and every secret still opens; a secret no key opens stops the
command with nothing changed. On SQLite and on PostgreSQL."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from dealerflow.db import utcnow
from services.notifications import crypto
from services.notifications.models import ServiceKey, StoreChannel
from tests.support.stack import ROOT

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SECRETS = {"wecom": None, "dingtalk": "SEC-dingtalk-signing", "webhook": "whsec-签名-key"}


def reseal(db, keys: str) -> subprocess.CompletedProcess:
    """``dealerflow reseal-secrets`` on the database of the sessionmaker ``db``."""
    url = db.kw["bind"].url.render_as_string(hide_password=False)
    env = dict(os.environ, NOTIFICATIONS_DATABASE_URL=url, NOTIFICATIONS_SECRET_KEY=keys)
    return subprocess.run([str(Path(sys.executable).parent / "dealerflow"), "reseal-secrets"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def stored(db) -> dict:
    with db() as session:
        return {**dict(session.execute(select(StoreChannel.type, StoreChannel.secret)).all()),
                "vapid": session.get(ServiceKey, crypto.VAPID_KEY).value}


def opened(db) -> dict:
    return {name: crypto.unseal(sealed) for name, sealed in stored(db).items()}


@pytest.fixture
def notifications(service_db, monkeypatch):
    """A notifications database whose channels and VAPID key are sealed with ``OLD``."""
    monkeypatch.setenv(crypto.SECRET_ENV, OLD)
    monkeypatch.delenv(crypto.VAPID_ENV, raising=False)
    db = service_db("notifications")
    with db() as session:
        for kind, secret in SECRETS.items():
            session.add(StoreChannel(id=str(uuid.uuid4()), store_code="SH-PUDONG", type=kind, name=kind,
                                     url=f"https://{kind}.example.com/hook", secret=crypto.seal(secret),
                                     settings={}, kinds=[], enabled=True, created_at=utcnow(),
                                     updated_at=utcnow()))
        session.commit()
        crypto.vapid_private_key(session)
    return db


def test_reseal_lets_the_old_key_be_dropped(notifications, monkeypatch):
    before = opened(notifications)
    assert before["dingtalk"] == SECRETS["dingtalk"] and before["vapid"]

    result = reseal(notifications, f"{NEW},{OLD}")
    assert result.returncode == 0, result.stderr
    assert "3 secret(s) sealed" in result.stdout  # two channel secrets and the VAPID key; no secret, no seal

    monkeypatch.setenv(crypto.SECRET_ENV, NEW)  # the old key dropped
    assert opened(notifications) == before


def test_a_secret_no_key_opens_changes_nothing(notifications, monkeypatch):
    sealed = stored(notifications)
    result = reseal(notifications, f"{NEW},{Fernet.generate_key().decode()}")  # OLD lost
    assert result.returncode == 1
    assert "opens with none of the keys of NOTIFICATIONS_SECRET_KEY" in result.stderr
    assert stored(notifications) == sealed
