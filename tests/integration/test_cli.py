"""The ``dealerflow`` admin command: clear errors and non-zero exits on bad
input; changes saved even when the broker is away."""
import json
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
    env.pop("JWT_SECRET", None)

    def run(*args):
        return subprocess.run([DEALERFLOW, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    from dealerflow.migrations import upgrade
    upgrade("gateway", f"sqlite:///{var}/gateway.db")
    run.gateway = create_engine(f"sqlite:///{var}/gateway.db")
    run.var = var
    return run


def test_a_store_is_created_and_its_event_waits_for_the_broker(admin):
    result = admin("create-store", "GZ-TIANHE", "--name", "Guangzhou Tianhe", "--response-minutes", "10")
    assert result.returncode == 0, result.stderr
    assert "GZ-TIANHE" in result.stdout
    with admin.gateway.connect() as db:
        assert db.execute(text("SELECT response_minutes FROM stores WHERE code = 'GZ-TIANHE'")).scalar() == 10
        assert db.execute(text("SELECT count(*) FROM outbox WHERE event_type = 'store_saved' "
                               "AND sent_at IS NULL")).scalar() >= 1


def test_announce_org_announces_every_store_and_user_as_a_new_revision(admin):
    admin("create-store", "HZ-XIHU", "--name", "Hangzhou Xihu")
    with admin.gateway.connect() as db:
        stores, users = (db.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in ("stores", "users"))
        before = db.execute(text("SELECT revision FROM stores WHERE code = 'HZ-XIHU'")).scalar()
        events = db.execute(text("SELECT count(*) FROM outbox")).scalar()
    result = admin("announce-org")
    assert result.returncode == 0, result.stderr
    assert f"{stores + users} stores and users announced again" in result.stdout
    with admin.gateway.connect() as db:
        assert db.execute(text("SELECT revision FROM stores WHERE code = 'HZ-XIHU'")).scalar() == before + 1
        assert db.execute(text("SELECT count(*) FROM outbox")).scalar() == events + stores + users


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


def test_migrate_generates_one_jwt_secret_readable_by_its_owner_only(admin):
    first = admin("migrate", "--service", "gateway")
    assert first.returncode == 0, first.stderr
    secret_file = Path(admin.var) / "jwt-secret"
    secret = secret_file.read_text()
    assert len(secret.strip()) >= 32 and oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert "generated" in first.stdout
    admin("migrate", "--service", "gateway")
    assert secret_file.read_text() == secret


def test_teams_users_and_stores_are_changed_and_audited(admin):
    admin("create-store", "CD-JINJIANG", "--name", "Chengdu Jinjiang")
    created = admin("create-user", "li.na", "--role", "consultant", "--store", "CD-JINJIANG",
                    "--password", "longenough")
    assert created.returncode == 0, created.stderr
    team = admin("create-team", "Jinjiang A", "--store", "CD-JINJIANG")
    assert team.returncode == 0, team.stderr
    updated = admin("update-user", "li.na", "--team", "Jinjiang A", "--shift", "mon=09:00-18:00",
                    "--shift", "sat=10:00-16:00", "--leave", "2026-12-01..2026-12-03",
                    "--capacity", "12", "--language", "zh", "--language", "en")
    assert updated.returncode == 0, updated.stderr
    store = admin("update-store", "CD-JINJIANG", "--hours", "mon=09:00-12:00,13:00-18:00",
                  "--holiday", "2026-10-01")
    assert store.returncode == 0, store.stderr
    listing = admin("list-users", "--store", "CD-JINJIANG")
    assert "li.na" in listing.stdout and "Jinjiang A" in listing.stdout and " 12 " in listing.stdout
    with admin.gateway.connect() as db:
        user = db.execute(text("SELECT shift, leave, daily_capacity, languages FROM users "
                               "WHERE username = 'li.na'")).one()
        assert json.loads(user.shift) == {"mon": ["09:00-18:00"], "sat": ["10:00-16:00"]}
        assert json.loads(user.leave) == [{"start": "2026-12-01", "end": "2026-12-03"}]
        assert (user.daily_capacity, json.loads(user.languages)) == (12, ["zh", "en"])
        actions = db.execute(text("SELECT action FROM audit_log WHERE who LIKE 'cli:%'")).scalars().all()
        assert {"store.create", "user.create", "team.create", "user.update", "store.update"} <= set(actions)
        assert db.execute(text("SELECT count(*) FROM outbox WHERE event_type = 'user_saved' "
                               "AND payload LIKE '%daily_capacity%12%'")).scalar() >= 1
    deactivated = admin("deactivate-user", "li.na")
    assert deactivated.returncode == 0, deactivated.stderr
    assert " no " in admin("list-users", "--store", "CD-JINJIANG").stdout


@pytest.mark.parametrize("args, message", [
    (["update-user", "no.such.user", "--capacity", "3"], "no user"),
    (["update-user", "li.na", "--shift", "monday"], "DAY=HH:MM"),
    (["update-user", "li.na", "--shift", "mon=18:00-09:00"], "shift"),
    (["update-user", "li.na", "--leave", "2026-12-05..2026-12-01"], "leave period"),
    (["update-user", "li.na", "--team", "No Such Team"], "no teams called"),
    (["update-user", "li.na", "--reset-password"], "password"),
    (["update-store", "NOPE", "--name", "x"], "no store"),
    (["update-store", "GZ-TIANHE", "--holiday", "2026-02-30"], "not a date"),
    (["create-team", "T", "--store", "NOPE"], "no store"),
    (["deactivate-user", "no.such.user"], "no user"),
])
def test_bad_changes_exit_non_zero_with_a_clear_message(admin, args, message):
    admin("create-store", "GZ-TIANHE", "--name", "Guangzhou Tianhe")
    admin("create-user", "li.na", "--role", "consultant", "--store", "GZ-TIANHE", "--password", "longenough")
    result = admin(*args)
    assert result.returncode == 1, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
