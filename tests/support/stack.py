"""The whole of Dealerflow as real processes, for integration, end-to-end and
fault tests: its own RabbitMQ vhost, its own databases (SQLite files or
PostgreSQL databases), the four services and the gateway under gunicorn."""
import atexit
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg2
import requests
from sqlalchemy import create_engine, inspect, text

from dealerflow.config import SERVICES, WORKERS
from dealerflow.messaging import declare_queues
from services.gateway.cli import SERVICE_CLASSES, service_class
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER = ("127.0.0.1", 5672)
POSTGRES = ("127.0.0.1", 5432)
# A lead's own inbox notices: not a task's reminder, nor the managers' daily
# digest (sent from 08:30 store time, whenever a test or a bench run is going).
LEAD_NOTICES = "lead_id IS NOT NULL AND kind <> 'reminder'"


_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, below the kernel's range for outgoing
    connections (``ip_local_port_range``): a port the kernel hands out
    (binding port 0) could be taken by any process's next connection before
    the server it is meant for binds it, and then that server cannot start.
    Never the same port twice in a test run: two processes given one port
    before either binds it, the second would fail to start."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        first_outgoing = int(ports.read().split()[0])
    while True:
        port = random.randrange(first_outgoing // 2, first_outgoing)
        if port in _handed_out:
            continue
        _handed_out.add(port)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # taken: another
                continue
            return port


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def postgres(statement: str) -> None:
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    connection.autocommit = True
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


class Stack:
    def __init__(self, workdir: Path, backend: str = "sqlite", broker_port: int | None = None,
                 extra_env: dict | None = None, proxied_database: str | None = None):
        """``proxied_database`` (PostgreSQL only): that service reaches its
        database through ``self.database_proxy``, a ``TcpProxy`` the test
        can ``cut()``; the test itself still reads it directly."""
        self.workdir, self.backend = workdir, backend
        self.tag = uuid.uuid4().hex[:8]
        self.vhost = f"dftest-{self.tag}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        broker_port = broker_port or BROKER[1]
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{broker_port}/{quote(self.vhost, safe='')}"
        self.direct_amqp_uri = f"amqp://guest:guest@127.0.0.1:{BROKER[1]}/{quote(self.vhost, safe='')}"
        self.env = dict(os.environ, AMQP_URI=self.amqp_uri, DEALERFLOW_VAR=str(workdir),
                        BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY="2", LOG_LEVEL="INFO",
                        DEALERFLOW_RETRY_DELAYS="0.2,0.5,1", PYTHONUNBUFFERED="1",
                        GRACEFUL_TIMEOUT="2")  # a browser's live stream would hold every stop 25 s
        self.env.update(extra_env or {})  # may override the defaults above
        self.databases = {}
        for service in SERVICES:
            if backend == "postgresql":
                self.databases[service] = (f"postgresql+psycopg2://postgres@127.0.0.1:5432/"
                                           f"{self.database_name(service)}")
                self.env[f"{service.upper()}_DATABASE_URL"] = self.databases[service]
            else:
                self.env.pop(f"{service.upper()}_DATABASE_URL", None)
                self.databases[service] = f"sqlite:///{workdir / service}.db"
        self.database_proxy = None
        if proxied_database:
            if backend != "postgresql":
                raise ValueError("only a PostgreSQL database can be reached through a proxy")
            self.database_proxy = TcpProxy(*POSTGRES)
            self.env[f"{proxied_database.upper()}_DATABASE_URL"] = self.databases[proxied_database].replace(
                f"@{POSTGRES[0]}:{POSTGRES[1]}/", f"@127.0.0.1:{self.database_proxy.port}/")
        self.processes: dict[str, subprocess.Popen] = {}
        self.ops_ports: dict[str, int] = {}  # each process's OPS_PORT (the gateway's: its METRICS_PORT)
        self.engines = {}

    # -- life cycle -------------------------------------------------------------

    def setup(self) -> None:
        """Broker vhost, databases, migrations, the demo group and its keys.
        The databases are copies of the first stack's on this backend
        (``seeded``): migrating and seeding cost 6 s a stack."""
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        template = seeded(self.backend)
        shutil.copytree(template.workdir, self.workdir, dirs_exist_ok=True)  # SQLite files, JWT secret
        if self.backend == "postgresql":
            for service in SERVICES:
                postgres(f"CREATE DATABASE {self.database_name(service)} "
                         f"TEMPLATE {template.database_name(service)}")
        self.api_key, self.sh_key, self.bj_key = template.keys
        # what `migrate` and the seeding did in the template's vhost, in this one
        for name in SERVICE_CLASSES:
            declare_queues(service_class(name), self.direct_amqp_uri)
        self.cli("announce-org")

    def database_name(self, service: str) -> str:
        """Its PostgreSQL database's name."""
        return f"dftest_{self.tag}_{service}"

    def migrate_and_seed(self) -> None:
        self.cli("migrate")
        # consultants who take every lead a test sends in a day (the demo's 100 would pool the rest)
        self.keys = (
            self.cli("seed-demo", "--capacity", "1000").strip().splitlines()[-1],
            *(self.cli("create-api-key", "--store", store, "--platform", "autohome",
                       "--rate-limit", "0").strip().splitlines()[-1]
              for store in ("SH-PUDONG", "BJ-CHAOYANG")))

    def start(self) -> "Stack":
        for name in (*WORKERS, "gateway"):
            self.start_process(name)
        self.wait_ready()
        return self

    def start_process(self, name: str, replica: str = "") -> None:
        """Start a service (``replica``: another one of it, e.g. "2", known as "leads-2")."""
        if name == "gateway":
            command = [str(Path(sys.executable).parent / "gunicorn"), "-c",
                       "services/gateway/gunicorn_conf.py", "services.gateway.app:get_app()"]
        else:
            command = [sys.executable, "-m", f"services.{name}"]
        known_as = f"{name}-{replica}" if replica else name
        env = dict(self.env, **self.process_env(name, known_as))
        log = open(self.workdir / f"{known_as}.log", "ab")
        self.processes[known_as] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def process_env(self, name: str, known_as: str) -> dict:
        """A process's own ports (kept across its restarts): a service's
        ``OPS_PORT``; the gateway's ``METRICS_PORT`` and a fresh
        ``PROMETHEUS_MULTIPROC_DIR`` for its workers' metric files."""
        port = str(self.ops_ports.setdefault(known_as, free_port()))
        if name != "gateway":
            return {"OPS_PORT": port}
        metric_files = self.workdir / f"{known_as}-prometheus"
        shutil.rmtree(metric_files, ignore_errors=True)
        metric_files.mkdir()
        return {"METRICS_PORT": port, "PROMETHEUS_MULTIPROC_DIR": str(metric_files)}

    def ops_url(self, name: str) -> str:
        """Where the process ``name`` (a service, or "leads-2") serves
        /healthz, /readyz and /metrics; the gateway's /metrics."""
        return f"http://127.0.0.1:{self.ops_ports[name]}"

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, sig)
        process.wait(timeout=60)

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            try:
                return requests.get(f"{self.url}/readyz?full=1", timeout=5).status_code == 200
            except requests.RequestException:
                return False
        eventually(ready, timeout=timeout, message="the stack answers /readyz")

    def stop(self) -> None:
        stopping = self.processes  # all at once, killed: a gevent worker's graceful stop takes 1.5 s
        self.processes = {}
        for process in stopping.values():
            os.killpg(process.pid, signal.SIGKILL)
        for process in stopping.values():
            process.wait(timeout=60)
        for engine in self.engines.values():
            engine.dispose()
        if self.database_proxy is not None:
            self.database_proxy.close()
        try:
            rabbitmqctl("delete_vhost", self.vhost)
        except subprocess.SubprocessError:
            pass
        if self.backend == "postgresql":
            for service in SERVICES:
                postgres(f"DROP DATABASE IF EXISTS {self.database_name(service)} WITH (FORCE)")

    def cli(self, *args: str) -> str:
        result = subprocess.run([str(Path(sys.executable).parent / "dealerflow"), *args], cwd=ROOT,
                                env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"dealerflow {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    # -- looking inside ---------------------------------------------------------

    def scalar(self, service: str, sql: str, **params):
        if service not in self.engines:
            self.engines[service] = create_engine(self.databases[service])
        with self.engines[service].connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def execute(self, service: str, sql: str, **params) -> int:
        """Change a service's database behind its back (a test's setup); rows changed."""
        if service not in self.engines:
            self.engines[service] = create_engine(self.databases[service])
        with self.engines[service].begin() as connection:
            return connection.execute(text(sql), params).rowcount

    def text_tables(self) -> dict[str, dict[str, str]]:
        """Every row of every table of every service's database, as text
        (``{service: {table: text}}``): to look for what must not be there."""
        dumped = {}
        for service in self.databases:
            if service not in self.engines:
                self.engines[service] = create_engine(self.databases[service])
            engine = self.engines[service]
            with engine.connect() as connection:
                dumped[service] = {table: "\n".join(repr(tuple(row)) for row in connection.execute(
                    text(f'SELECT * FROM "{table}"')))
                    for table in inspect(engine).get_table_names()}
        return dumped

    def post_lead(self, payload=None, key=None, headers=None, data=None, **kwargs):
        headers = {"X-Api-Key": key or self.sh_key, **(headers or {})}
        if data is None:
            return requests.post(f"{self.url}/v1/leads", json=payload, headers=headers,
                                 timeout=10, **kwargs)
        return requests.post(f"{self.url}/v1/leads", data=data, headers=headers, timeout=10, **kwargs)

    def get_lead(self, lead_id: str, key=None):
        return requests.get(f"{self.url}/v1/leads/{lead_id}",
                            headers={"X-Api-Key": key or self.sh_key}, timeout=10)

    @contextmanager
    def locked(self, service: str, table: str | None = None):
        """Hold, until the block ends, a lock the service must wait for: on
        SQLite its database's write lock (``BEGIN EXCLUSIVE``; under WAL
        readers go on), on PostgreSQL ``table`` in ACCESS EXCLUSIVE mode
        (readers wait too)."""
        if self.backend == "postgresql":
            connection = psycopg2.connect(self.databases[service].replace("+psycopg2", ""))
            statement = f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
        else:
            connection = sqlite3.connect(self.workdir / f"{service}.db", isolation_level=None, timeout=10)
            statement = "BEGIN EXCLUSIVE"
        try:
            connection.cursor().execute(statement)
            yield
        finally:
            connection.rollback()
            connection.close()

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


_seeded: dict[str, Stack] = {}


def seeded(backend: str) -> Stack:
    """The migrated and seeded databases every stack on ``backend`` starts
    from, made once per test process (PostgreSQL: template databases,
    dropped when the process ends)."""
    if backend not in _seeded:
        template = Stack(Path(tempfile.mkdtemp(prefix=f"dealerflow-seeded-{backend}-")), backend)
        if backend == "postgresql":
            for service in SERVICES:
                postgres(f"CREATE DATABASE {template.database_name(service)}")
        atexit.register(forget_seeded, template)
        rabbitmqctl("add_vhost", template.vhost)  # for migrate's queues and the seed's events, then gone
        rabbitmqctl("set_permissions", "-p", template.vhost, "guest", ".*", ".*", ".*")
        try:
            template.migrate_and_seed()
        finally:
            rabbitmqctl("delete_vhost", template.vhost)
        _seeded[backend] = template
    return _seeded[backend]


def forget_seeded(template: Stack) -> None:
    if template.backend == "postgresql":
        for service in SERVICES:
            postgres(f"DROP DATABASE IF EXISTS {template.database_name(service)} WITH (FORCE)")
    shutil.rmtree(template.workdir, ignore_errors=True)
