"""Backing up and restoring every service database with ``dealerflow backup``
and ``dealerflow restore`` (docs/operations.md), for real, each restored
database compared with its source table by table: the row count and an md5
of its rows in order.

PostgreSQL: the seeded system's databases (the templates every Stack starts
from) dumped with ``pg_dump -Fc`` and restored with ``pg_restore`` into new
databases. SQLite: backed up with the online backup API while the gateway
and the leads service take leads, each copy whole and consistent, then
restored into a new folder once they have stopped."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, inspect, text

from dealerflow.config import SERVICES
from tests.conftest import make_lead
from tests.support.stack import ROOT, Stack, postgres, seeded
from tests.support.waiting import eventually


def dealerflow(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "dealerflow"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and the md5 of its rows (as text, sorted)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = {}
            for table in inspect(connection).get_table_names():
                rows = sorted(repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{table}"')))
                tables[table] = (len(rows), hashlib.md5("\n".join(rows).encode()).hexdigest())
            return tables
    finally:
        engine.dispose()


def urls(databases: dict) -> dict:
    return {f"{service.upper()}_DATABASE_URL": url for service, url in databases.items()}


def test_postgresql_databases_are_dumped_and_restored_row_for_row(tmp_path):
    source = seeded("postgresql").databases
    tag = uuid.uuid4().hex[:8]
    fresh = {service: f"dftest_restore_{tag}_{service}" for service in SERVICES}
    restored = {service: f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}" for service, name in fresh.items()}
    for name in fresh.values():
        postgres(f"CREATE DATABASE {name}")
    try:
        backup = dealerflow("backup", str(tmp_path), env=dict(os.environ, **urls(source)))
        assert backup.returncode == 0, backup.stderr
        assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{s}.dump" for s in SERVICES)

        restore = dealerflow("restore", str(tmp_path), env=dict(os.environ, **urls(restored)))
        assert restore.returncode == 0, restore.stderr
        for service in SERVICES:
            assert fingerprints(restored[service]) == fingerprints(source[service]), service
        assert fingerprints(restored["gateway"])["users"][0] >= 9  # the demo group: what was seeded came back

        again = dealerflow("restore", str(tmp_path), "--service", "leads", env=dict(os.environ, **urls(restored)))
        assert again.returncode == 1 and "pg_restore failed" in again.stderr  # a database in use is not written over
    finally:
        for name in fresh.values():
            postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_sqlite_databases_are_backed_up_while_the_system_writes_and_restored_row_for_row(tmp_path):
    """The gateway and the leads service alone (the others would only add CPU):
    leads are taken, stored and announced while the backup runs."""
    stack = Stack(tmp_path / "live", "sqlite")
    stack.setup()
    writing, posted = threading.Event(), []

    def post_leads():  # until the backup is done, 30 at most: the services store them meanwhile
        while not writing.is_set() and len(posted) < 30:
            posted.append(stack.post_lead(make_lead()).status_code)

    try:
        for name in ("leads", "gateway"):
            stack.start_process(name)
        eventually(lambda: answers(f"{stack.url}/readyz"), timeout=60, message="the gateway takes leads")
        poster = threading.Thread(target=post_leads)
        poster.start()
        try:
            eventually(lambda: stack.scalar("leads", "SELECT count(*) FROM leads") >= 5, timeout=60,
                       message="leads are being stored")
            during = stack.cli("backup", str(tmp_path / "during"))
        finally:
            writing.set()
            poster.join(timeout=30)
        assert set(posted) == {202} and "leads: " in during
        for service in SERVICES:
            with sqlite3.connect(tmp_path / "during" / f"{service}.db") as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",), service
        with sqlite3.connect(tmp_path / "during" / "leads.db") as copy:
            leads, announced = copy.execute(
                "SELECT (SELECT count(*) FROM leads), "
                "(SELECT count(*) FROM outbox WHERE event_type = 'lead_received')").fetchone()
        assert 5 <= leads == announced  # each lead with its event: whole transactions only

        eventually(lambda: stack.scalar("leads", "SELECT count(*) FROM leads") == len(posted), timeout=60,
                   message="every lead is stored")
        stack.stop()  # the services' timers write too: stop them, then the copy must equal its source
        env = dict(stack.env, DEALERFLOW_VAR=str(tmp_path / "restored"))
        assert dealerflow("backup", str(tmp_path / "after"), env=stack.env).returncode == 0
        restore = dealerflow("restore", str(tmp_path / "after"), env=env)
        assert restore.returncode == 0, restore.stderr
        for service in SERVICES:
            assert (fingerprints(f"sqlite:///{tmp_path / 'restored' / service}.db")
                    == fingerprints(stack.databases[service])), service
        assert fingerprints(stack.databases["leads"])["leads"][0] == len(posted)

        again = dealerflow("restore", str(tmp_path / "after"), "--service", "leads", env=env)
        assert again.returncode == 1 and "exists; stop leads" in again.stderr
    finally:
        stack.stop()
