"""The ``dealerflow`` admin command: clear errors and non-zero exits on bad
input; changes saved even when the broker is away."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.stack import ROOT, free_port

DEALERFLOW = str(Path(sys.executable).parent / "dealerflow")


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    """Runs ``dealerflow`` on fresh SQLite databases, with no broker at all."""
    var = tmp_path_factory.mktemp("cli")
    env = dict(os.environ, DEALERFLOW_VAR=str(var),
               AMQP_URI=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    for name in ("GATEWAY", "CUSTOMERS", "LEADS", "FOLLOWUPS", "NOTIFICATIONS"):
        env.pop(f"{name}_DATABASE_URL", None)

    def run(*args):
        return subprocess.run([DEALERFLOW, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    from dealerflow.migrations import upgrade
    upgrade("gateway", f"sqlite:///{var}/gateway.db")
    run.gateway = create_engine(f"sqlite:///{var}/gateway.db")
    return run


def test_a_store_is_created_and_its_event_waits_for_the_broker(admin):
    result = admin("create-store", "GZ-TIANHE", "--name", "Guangzhou Tianhe", "--response-minutes", "10")
    assert result.returncode == 0, result.stderr
    assert "GZ-TIANHE" in result.stdout
    with admin.gateway.connect() as db:
        assert db.execute(text("SELECT response_minutes FROM stores WHERE code = 'GZ-TIANHE'")).scalar() == 10
        assert db.execute(text("SELECT count(*) FROM outbox WHERE event_type = 'store_saved' "
                               "AND sent_at IS NULL")).scalar() >= 1


def test_an_api_key_is_printed_once_and_stored_hashed(admin):
    admin("create-store", "SZ-FUTIAN", "--name", "Shenzhen Futian")
    result = admin("create-api-key", "--store", "SZ-FUTIAN", "--platform", "dongchedi")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("dfk_")
    with admin.gateway.connect() as db:
        stored = db.execute(text("SELECT key_hash FROM api_keys WHERE platform = 'dongchedi'")).scalar()
    assert stored and key not in stored
    revoked = admin("revoke-api-key", key[:12])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout


@pytest.mark.parametrize("args, message", [
    (["create-store", "bad code", "--name", "x"], "store code"),
    (["create-store", "XA-ONE", "--name", "x", "--timezone", "Mars/Olympus"], "unknown time zone"),
    (["create-store", "XA-TWO", "--name", "x", "--response-minutes", "0"], "response minutes"),
    (["create-user", "wang.lei", "--role", "consultant", "--store", "NOPE", "--password", "longenough"],
     "unknown store"),
    (["create-user", "wang.lei", "--role", "consultant", "--password", "longenough"], "at least one store"),
    (["create-user", "wang.lei", "--role", "manager", "--store", "GZ-TIANHE"], "password"),
    (["create-user", "Wang Lei", "--role", "manager", "--store", "GZ-TIANHE", "--password", "longenough"],
     "username"),
    (["create-user", "wang.lei", "--role", "manager", "--store", "GZ-TIANHE", "--password", "short"],
     "at least 8"),
    (["create-api-key", "--store", "NOPE", "--platform", "autohome"], "unknown store"),
    (["create-api-key", "--store", "GZ-TIANHE", "--platform", "Auto Home"], "platform"),
    (["revoke-api-key", "dfk_nothing"], "no API key"),
])
def test_bad_input_exits_non_zero_with_a_clear_message(admin, args, message):
    admin("create-store", "GZ-TIANHE", "--name", "Guangzhou Tianhe")  # may exist already
    result = admin(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_without_a_broker_says_so(admin):
    result = admin("migrate", "--service", "notifications")
    assert result.returncode == 1
    assert "RabbitMQ unreachable" in result.stderr and "Traceback" not in result.stderr


def test_a_store_code_twice_is_refused(admin):
    admin("create-store", "HZ-XIHU", "--name", "Hangzhou Xihu")
    again = admin("create-store", "HZ-XIHU", "--name", "Hangzhou Xihu")
    assert again.returncode == 1 and "exists already" in again.stderr


def test_unknown_commands_and_missing_options_are_usage_errors(admin):
    assert admin("frobnicate").returncode == 2
    assert "--store" in admin("create-api-key").stderr
    assert "--platform" in admin("create-api-key", "--store", "GZ-TIANHE").stderr
