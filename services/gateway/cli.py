"""``dealerflow``: the admin command line.

    dealerflow migrate [--service NAME]
    dealerflow seed-demo
    dealerflow create-store CODE --name NAME [--timezone TZ] [--country CC] [--response-minutes N]
    dealerflow create-user USERNAME --role ROLE [--store CODE ...] [--name NAME] [--email E]
    dealerflow update-store CODE [--name N] [--timezone TZ] [--country CC] [--response-minutes N]
                            [--hours DAY=HH:MM-HH:MM[,...] ...] [--holiday DATE ...] [--active yes|no]
    dealerflow create-team NAME --store CODE [--leader USERNAME]
    dealerflow update-user USERNAME [--role R] [--store CODE ...] [--team NAME|none] [--language L ...]
                           [--shift DAY=HH:MM-HH:MM[,...] ...] [--leave DATE..DATE ...]
                           [--capacity N] [--active yes|no] [--name N] [--email E] [--reset-password]
    dealerflow deactivate-user USERNAME
    dealerflow list-users [--store CODE]
    dealerflow create-api-key --store CODE [--store CODE ...] --platform NAME [--rate-limit N]
    dealerflow revoke-api-key KEY_OR_ID
    dealerflow parked [--replay]
    dealerflow reseal-secrets
    dealerflow backup DIR [--service NAME]
    dealerflow restore DIR [--service NAME]
    dealerflow import-customers FILE --store CODE [--dry-run] [--skip-rejected] [--json]

Passwords come from ``--password`` or ``DEALERFLOW_PASSWORD``. A list option
given (``--hours``, ``--holiday``, ``--shift``, ``--leave``, ``--store``,
``--language``) replaces the whole list; ``none`` empties it. Every change
is audited as ``cli:<login>``. Each command exits 0 on success and 1 with a
message on stderr on bad input.
"""
import argparse
import os
import sys
from contextlib import closing, contextmanager
from pathlib import Path

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dealerflow import config
from dealerflow.db import make_engine
from dealerflow.outbox import Relay
from services.gateway import demo, org, tokens
from services.gateway.auth import authenticate_key
from services.gateway.models import OutboxMessage, User, UserStore

SERVICE_CLASSES = {
    "customers": "services.customers.service:CustomersService",
    "leads": "services.leads.service:LeadsService",
    "followups": "services.followups.service:FollowupsService",
    "notifications": "services.notifications.service:NotificationsService",
}


class CommandError(Exception):
    pass


def gateway_session():
    return sessionmaker(make_engine(config.database_url("gateway")),
                        expire_on_commit=False)()


def commit_and_announce(session) -> None:
    """Commit, then publish the events the change recorded; what cannot be
    published now is published by the gateway's relay later."""
    session.commit()
    relay = Relay("gateway", OutboxMessage)
    relay.publish_recorded(session)
    relay.mark_sent(session)


def who() -> str:
    """Who the audit log says made a change from the command line."""
    return "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")


def service_class(name: str):
    import importlib
    module, cls = SERVICE_CLASSES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def cmd_migrate(args):
    from dealerflow.messaging import QueueTypeMismatch, declare_queues
    from dealerflow.migrations import upgrade
    names = [args.service] if args.service else list(config.SERVICES)
    if "gateway" in names:
        print(tokens.ensure_secret())
    for name in names:
        upgrade(name)
        print(f"{name}: database at head ({config.database_url(name).split('@')[-1]})")
    for name in names:
        if name in SERVICE_CLASSES:
            try:
                queues = declare_queues(service_class(name), config.amqp_uri())
            except QueueTypeMismatch as exc:
                raise CommandError(f"the databases are migrated, but {name}'s queues could not be "
                                   f"declared: {exc}")
            except (OSError, KombuError, AMQPError) as exc:
                raise CommandError(f"the databases are migrated, but the queues could not be "
                                   f"declared: RabbitMQ unreachable ({exc}); check AMQP_URI")
            print(f"{name}: {len(queues)} queue(s) declared")


def password_of(args) -> str:
    password = args.password or os.environ.get("DEALERFLOW_PASSWORD")
    if not password:
        raise CommandError("give --password or set DEALERFLOW_PASSWORD")
    return password


def cmd_seed_demo(args):
    password = args.password or os.environ.get("DEALERFLOW_DEMO_PASSWORD", "dealerflow-demo")
    session = gateway_session()
    created = demo.seed_demo(session, password, args.capacity)
    commit_and_announce(session)
    created += seed_demo_vehicles([code for code, _, _ in demo.DEMO_STORES])
    print("created: " + ", ".join(created) if created else "demo group already there")
    key_file = config.var_dir() / "demo-api-key"
    key = key_file.read_text().strip() if key_file.exists() else None
    if key is None or authenticate_key(session, key) is None:
        _, key = org.create_api_key(session, [code for code, _, _ in demo.DEMO_STORES],
                                    platform="demo", rate_limit=0)
        session.commit()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key + "\n")
        key_file.chmod(0o600)
    print(key)


def seed_demo_vehicles(store_codes) -> list[str]:
    """The demo stores' test-drive vehicles, in the followups service's
    database, by that service's own function (the vehicles are its data)."""
    from services.followups.test_drives import seed_demo_vehicles as seed
    engine = make_engine(config.database_url("followups"))
    try:
        with sessionmaker(engine, expire_on_commit=False)() as session:
            return seed(session, store_codes)
    finally:
        engine.dispose()


def cmd_create_store(args):
    session = gateway_session()
    store = org.create_store(session, args.code, args.name, args.timezone, args.response_minutes,
                             by=who(), country=args.country)
    commit_and_announce(session)
    print(f"store {store.code} created ({store.timezone}, {store.country}, first contact within "
          f"{store.response_minutes} min)")


def cmd_create_user(args):
    session = gateway_session()
    user = org.create_user(session, args.username, password_of(args), args.role, args.store or [],
                           args.name, args.email, by=who())
    commit_and_announce(session)
    print(f"user {user.username} created ({user.role}; stores: {', '.join(user.stores) or 'all'})")
    print(user.id)


def cmd_create_api_key(args):
    session = gateway_session()
    row, key = org.create_api_key(session, args.store or [], args.platform, args.rate_limit,
                                  by=who())
    session.commit()
    print(f"API key {row.id} for {row.platform} (stores: {', '.join(row.stores)}); "
          "it is shown once, only its hash is kept:")
    print(key)


def cmd_revoke_api_key(args):
    session = gateway_session()
    row = org.revoke_api_key(session, args.key, by=who())
    session.commit()
    print(f"API key {row.id} ({row.prefix}…) revoked")


def weekly_hours(values: list[str]) -> dict:
    """``["mon=09:00-12:00,13:00-18:00", "sat=10:00-16:00"]`` -> weekly hours."""
    hours = {}
    for value in values:
        if value == "none":
            continue
        day, sep, spans = value.partition("=")
        if not sep:
            raise CommandError(f"{value!r}: give DAY=HH:MM-HH:MM[,HH:MM-HH:MM] (e.g. mon=09:00-18:00)")
        hours[day] = [span for span in spans.split(",") if span]
    return hours


def leave_periods(values: list[str]) -> list[dict]:
    """``["2026-12-01..2026-12-05"]`` -> leave periods (a single date is one day)."""
    periods = []
    for value in values:
        if value != "none":
            start, _, end = value.partition("..")
            periods.append({"start": start, "end": end or start})
    return periods


def listed(values: list[str]) -> list[str]:
    return [] if values == ["none"] else values


def yes_no(value: str) -> bool:
    if value not in ("yes", "no"):
        raise argparse.ArgumentTypeError("give yes or no")
    return value == "yes"


def given(args, **options) -> dict:
    """The changes the options given ask for: field -> value."""
    return {field: convert(getattr(args, option)) for field, (option, convert) in options.items()
            if getattr(args, option) is not None}


def cmd_update_store(args):
    session = gateway_session()
    changes = given(args, name=("name", str), timezone=("timezone", str), country=("country", str),
                    response_minutes=("response_minutes", int), business_hours=("hours", weekly_hours),
                    holidays=("holiday", listed), active=("active", bool))
    store = org.update_store(session, args.code, changes, who())
    commit_and_announce(session)
    print(f"store {store.code} updated: {', '.join(changes) or 'nothing'}")


def cmd_create_team(args):
    session = gateway_session()
    leader = org.user_named(session, args.leader).id if args.leader else None
    team = org.create_team(session, args.name, args.store, leader, by=who())
    session.commit()
    print(f"team {team.name} of {team.store_code} created")
    print(team.id)


def cmd_update_user(args):
    session = gateway_session()
    user = org.user_named(session, args.username)
    changes = given(args, role=("role", str), stores=("store", listed), languages=("language", listed),
                    shift=("shift", weekly_hours), leave=("leave", leave_periods),
                    daily_capacity=("capacity", int), active=("active", bool),
                    display_name=("name", str), email=("email", str))
    if args.team is not None:
        changes["team_id"] = None if args.team == "none" else org.team_named(session, args.team).id
    if changes:
        org.update_user(session, user.id, changes, who())
    if args.reset_password:
        org.set_password(session, user.id, password_of(args), who())
        changes["password"] = "reset"
    commit_and_announce(session)
    print(f"user {user.username} updated: {', '.join(changes) or 'nothing'}")


def cmd_deactivate_user(args):
    session = gateway_session()
    user = org.update_user(session, org.user_named(session, args.username).id, {"active": False},
                           who())
    commit_and_announce(session)
    print(f"user {user.username} deactivated; their sessions have ended")


def cmd_list_users(args):
    session = gateway_session()
    query = select(User).order_by(User.username)
    if args.store:
        query = query.where(User.store_links.any(UserStore.store_code == args.store))
    print(f"{'username':<24} {'role':<12} {'active':<7} {'capacity':>8}  {'team':<16} stores")
    for user in session.scalars(query):
        team = user.team.name if user.team else "-"
        print(f"{user.username:<24} {user.role:<12} {'yes' if user.active else 'no':<7} "
              f"{user.daily_capacity:>8}  {team:<16} {', '.join(user.stores) or 'all'}")


def cmd_announce_org(args):
    session = gateway_session()
    count = org.announce_all(session)
    commit_and_announce(session)
    print(f"{count} stores and users announced again")


def cmd_parked(args):
    from dealerflow.messaging import parked_messages, queues_of
    queues = [q.name for name in SERVICE_CLASSES for q in queues_of(service_class(name))]
    total = 0
    for queue_name, message in parked_messages(config.amqp_uri(), queues, replay=args.replay):
        total += 1
        print(f"{queue_name}: {message}")
    print(f"{total} parked message(s){' sent back to their queues' if args.replay and total else ''}")


def cmd_reseal_secrets(args):
    """Seal the notifications service's stored secrets with the first key of
    ``NOTIFICATIONS_SECRET_KEY``, in its database directly (as ``migrate``
    does): run where that service's key and database URL are set."""
    from services.notifications import crypto
    session = sessionmaker(make_engine(config.database_url("notifications")))()
    try:
        count = crypto.reseal_all(session)
    except crypto.SecretUnreadable as exc:
        raise CommandError(str(exc))
    print(f"{count} secret(s) sealed with the first key of {crypto.SECRET_ENV}; "
          "the other keys can be dropped")


def postgres_client(url: str) -> tuple[str, dict]:
    """A SQLAlchemy URL as what pg_dump and pg_restore read: a libpq URI
    without the password, which goes in ``PGPASSWORD`` (not in the process list)."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    env = dict(os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {}))
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def copy_sqlite(source: str, target: str) -> None:
    """SQLite's online backup API: a consistent copy while the service writes
    (under WAL its writers go on meanwhile). The source is opened read-only,
    so a missing one is an error, not a new empty database."""
    import sqlite3
    try:
        reading = sqlite3.connect(Path(source).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.OperationalError as exc:
        raise CommandError(f"cannot open {source}: {exc}")
    with closing(reading), closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def run_tool(command: list[str], env: dict) -> None:
    import subprocess
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise CommandError(f"{command[0]} not found: install PostgreSQL's client tools of the server's "
                           "major version (Debian: postgresql-client)")
    if result.returncode != 0:
        raise CommandError(f"{command[0]} failed: {result.stderr.strip()}")


def cmd_backup(args):
    """One file per service database in DIR, each consistent in itself:
    ``pg_dump -Fc`` (its own snapshot) for PostgreSQL, the online backup API
    for SQLite; the services may go on meanwhile. The databases are copied
    one after another, not at one instant (docs/operations.md)."""
    from sqlalchemy.engine import make_url
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name in [args.service] if args.service else config.SERVICES:
        url = config.database_url(name)
        if url.startswith("sqlite"):
            target = folder / f"{name}.db"
            target.unlink(missing_ok=True)
            copy_sqlite(make_url(url).database, str(target))
        else:
            target = folder / f"{name}.dump"
            dsn, env = postgres_client(url)
            run_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
                      f"--dbname={dsn}"], env)
        print(f"{name}: {target}")


def cmd_restore(args):
    """Each service database from DIR into the database its URL names, which
    must be new: an empty PostgreSQL database (``createdb``), restored in one
    transaction, or a SQLite file that does not exist yet. A live database is
    never written over."""
    from sqlalchemy.engine import make_url
    folder = Path(args.dir)
    for name in [args.service] if args.service else config.SERVICES:
        url = config.database_url(name)
        source = folder / f"{name}.{'db' if url.startswith('sqlite') else 'dump'}"
        if not source.is_file():
            raise CommandError(f"no {source} to restore {name} from")
        if url.startswith("sqlite"):
            target = Path(make_url(url).database)
            if target.exists():
                raise CommandError(f"{target} exists; stop {name} and move it (and its -wal and -shm) aside")
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_sqlite(str(source), str(target))
        else:
            dsn, env = postgres_client(url)
            run_tool(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                      f"--dbname={dsn}", str(source)], env)
        print(f"{name}: restored from {source}")


def cmd_import_customers(args):
    """Import a spreadsheet through the customers service (which must be
    running), with the mapping it suggests: upload, dry run, then (unless
    ``--dry-run``) the import; progress on stderr, the report on stdout."""
    import base64
    import json
    import time
    from pathlib import Path

    from nameko.standalone.rpc import ClusterRpcProxy

    from dealerflow.actor import GROUP_ADMIN, USER, Actor
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"No file {path}.")
    actor = Actor(kind=USER, user_id=who()[:36], role=GROUP_ADMIN, stores=(args.store,)).dump()

    def until(rpc, job, *statuses):
        while job["status"] not in statuses:
            time.sleep(0.5)
            job = rpc.customers.get_import(actor, job["id"], None)
            if job["status"] in ("checking", "importing"):
                print(f"\r{job['status']} {job['processed']}/{job['total'] or '?'} rows", end="", file=sys.stderr)
        print(file=sys.stderr)
        if job["status"] == "failed":
            raise CommandError(f"The import failed: {job['error']}")
        return job

    with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=120) as rpc:
        with remote_refusals():
            job = rpc.customers.start_import(actor, args.store, path.name,
                                             base64.b64encode(path.read_bytes()).decode())
            job = until(rpc, job, "uploaded", "failed")
            columns = (f"{job['headers'][int(index)]} -> {field}" for index, field in job["mapping"].items())
            print("columns: " + ", ".join(columns), file=sys.stderr)
            job = until(rpc, rpc.customers.check_import(actor, job["id"], {"mapping": job["mapping"]}),
                        "checked", "failed")
            if not args.dry_run and not (job["rejected"] and not args.skip_rejected):
                rpc.customers.commit_import(actor, job["id"], {"skip_rejected": args.skip_rejected})
                job = until(rpc, rpc.customers.get_import(actor, job["id"], None), "done", "failed")
    rows = job["rows"]
    report = {"import_id": job["id"], "status": job["status"], "dry_run": job["status"] != "done",
              "created": job["created"], "matched": job["matched"], "rejected": job["rejected"],
              "rejected_rows": [{"row": row["row"], "reasons": row["errors"]} for row in rows
                                if row["outcome"] == "reject"],
              "matched_rows": [{"row": row["row"], "customer_id": row["customer_id"], "by": row["matched_by"]}
                               for row in rows if row["outcome"] == "match"]}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        verb = "would create" if report["dry_run"] else "created"
        print(f"{verb} {report['created']}, matched {report['matched']}, rejected {report['rejected']}")
        for row in report["rejected_rows"]:
            print(f"  row {row['row']}: " + "; ".join(f"{field}: {' '.join(why)}"
                                                   for field, why in row["reasons"].items()))
    if job["status"] != "done" and not args.dry_run:
        raise CommandError(f"Nothing imported: {job['rejected']} rows are rejected; fix the file, "
                           "or import the others with --skip-rejected.")


@contextmanager
def remote_refusals():
    """A service's refusal (a bad file, a store that does not exist) as a command error."""
    from nameko.exceptions import RemoteError
    try:
        yield
    except RemoteError as exc:
        from services.gateway.errors import from_remote
        translated = from_remote(exc)
        raise CommandError(getattr(translated, "description", str(exc)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dealerflow", description="Dealerflow administration.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("migrate", help="migrate the databases and declare the queues")
    s.add_argument("--service", choices=config.SERVICES)
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("seed-demo", help="create the demo dealer group and its test-drive vehicles (idempotent)")
    s.add_argument("--password", help="demo password (default: $DEALERFLOW_DEMO_PASSWORD or dealerflow-demo)")
    s.add_argument("--capacity", type=int, default=demo.DEMO_CAPACITY, choices=range(1, 1001), metavar="1..1000",
                   help=f"new leads a demo consultant takes a day (default {demo.DEMO_CAPACITY}; routing pools "
                        "the rest)")
    s.set_defaults(func=cmd_seed_demo)

    s = sub.add_parser("create-store", help="create a store")
    s.add_argument("code")
    s.add_argument("--name", required=True)
    s.add_argument("--timezone", default="Asia/Shanghai")
    s.add_argument("--country", default="CN",
                   help="ISO 3166 code whose numbering plan reads phones given without a country code")
    s.add_argument("--response-minutes", type=int, default=15)
    s.set_defaults(func=cmd_create_store)

    s = sub.add_parser("create-user", help="create a staff user")
    s.add_argument("username")
    s.add_argument("--role", required=True, choices=org.ROLES)
    s.add_argument("--store", action="append", help="a store code (repeat for several)")
    s.add_argument("--name")
    s.add_argument("--email")
    s.add_argument("--password")
    s.set_defaults(func=cmd_create_user)

    s = sub.add_parser("update-store", help="change a store")
    s.add_argument("code")
    s.add_argument("--name")
    s.add_argument("--timezone")
    s.add_argument("--country", help="ISO 3166 code, such as CN or US")
    s.add_argument("--response-minutes", type=int)
    s.add_argument("--hours", action="append", metavar="DAY=HH:MM-HH:MM[,...]",
                   help="opening hours of a weekday (mon..sun; repeat; days not given are closed)")
    s.add_argument("--holiday", action="append", metavar="YYYY-MM-DD", help="a closed date (repeat)")
    s.add_argument("--active", type=yes_no, metavar="yes|no")
    s.set_defaults(func=cmd_update_store)

    s = sub.add_parser("create-team", help="create a team of a store")
    s.add_argument("name")
    s.add_argument("--store", required=True)
    s.add_argument("--leader", metavar="USERNAME")
    s.set_defaults(func=cmd_create_team)

    s = sub.add_parser("update-user", help="change a staff user")
    s.add_argument("username")
    s.add_argument("--role", choices=org.ROLES)
    s.add_argument("--store", action="append", help="a store code (repeat for several)")
    s.add_argument("--team", metavar="NAME|none")
    s.add_argument("--language", action="append", help="a language code, the first the UI's (repeat)")
    s.add_argument("--shift", action="append", metavar="DAY=HH:MM-HH:MM[,...]",
                   help="working hours of a weekday (mon..sun; repeat; days not given are off)")
    s.add_argument("--leave", action="append", metavar="YYYY-MM-DD[..YYYY-MM-DD]",
                   help="a leave period, both dates included (repeat)")
    s.add_argument("--capacity", type=int, help="new leads a day at most")
    s.add_argument("--active", type=yes_no, metavar="yes|no")
    s.add_argument("--name")
    s.add_argument("--email")
    s.add_argument("--reset-password", action="store_true",
                   help="set the password from --password or DEALERFLOW_PASSWORD")
    s.add_argument("--password")
    s.set_defaults(func=cmd_update_user)

    s = sub.add_parser("deactivate-user", help="deactivate a user and end their sessions")
    s.add_argument("username")
    s.set_defaults(func=cmd_deactivate_user)

    s = sub.add_parser("list-users", help="list staff users")
    s.add_argument("--store", help="only the users of this store")
    s.set_defaults(func=cmd_list_users)

    s = sub.add_parser("create-api-key", help="create a lead platform's API key")
    s.add_argument("--store", action="append", required=True, help="a store code (repeat for several)")
    s.add_argument("--platform", required=True,
                   help="the platform's name (e.g. autohome); its keys share one namespace of leads")
    s.add_argument("--rate-limit", type=int, default=100, help="requests per second; 0 for none")
    s.set_defaults(func=cmd_create_api_key)

    s = sub.add_parser("revoke-api-key", help="revoke an API key")
    s.add_argument("key", help="the key, its id, or its prefix")
    s.set_defaults(func=cmd_revoke_api_key)

    s = sub.add_parser("import-customers", help="import customers from an .xlsx or .csv (dry run first)")
    s.add_argument("file")
    s.add_argument("--store", required=True, help="the store the customers belong to")
    s.add_argument("--dry-run", action="store_true", help="only report what would happen")
    s.add_argument("--skip-rejected", action="store_true", help="import the good rows when some are rejected")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_import_customers)

    s = sub.add_parser("announce-org", help="announce every store and user again (after an upgrade "
                       "whose services copy more of them)")
    s.set_defaults(func=cmd_announce_org)

    s = sub.add_parser("parked", help="list messages that failed every retry")
    s.add_argument("--replay", action="store_true", help="send them back to their queues")
    s.set_defaults(func=cmd_parked)

    s = sub.add_parser("reseal-secrets", help="seal every stored channel secret with the first key of "
                                              "NOTIFICATIONS_SECRET_KEY, so that the others can be dropped")
    s.set_defaults(func=cmd_reseal_secrets)

    s = sub.add_parser("backup", help="copy every service database into DIR (pg_dump -Fc; SQLite's backup API)")
    s.add_argument("dir")
    s.add_argument("--service", choices=config.SERVICES)
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", help="restore every service database from DIR into new, empty databases")
    s.add_argument("dir")
    s.add_argument("--service", choices=config.SERVICES)
    s.set_defaults(func=cmd_restore)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (CommandError, org.OrgError) as exc:
        print(f"dealerflow {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
