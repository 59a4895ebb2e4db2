"""A realistic dealer group, written straight into the services' PostgreSQL
databases with COPY: what the analytics are timed on (``make bench-data``,
and the analytics phase of ``python -m bench``).

By default 50 stores in ten cities (Asia/Shanghai), each a franchise of one
brand, 1,000 consultants in teams of about eight, a manager per store and a
group admin (``group.admin``; managers ``sh-01.manager`` ...; consultants
``sh-01.c01`` ..., all with the demo password), then 1,000,000 leads over two
years and 5,000,000 follow-up records, deterministic for ``--seed`` and
``--now``:

- **leads**: more on weekends, in September-October and at the spring auto
  shows, fewer at the Spring Festival, growing over the two years; the
  listing sites (汽车之家 autohome, 懂车帝 dongchedi, 易车 yiche), the OEM
  website, 抖音 douyin, walk-ins, referrals, phone calls and auto shows, each
  with its own funnel (``SOURCES``): walk-ins and referrals close a quarter
  of their leads, listing sites 2-3 %. Each lead's moments follow one
  another (created, first contact, needs confirmed, appointment, visit, test
  drive, proposal, negotiation, closed) and nothing happens after ``now``.
  First responses are log-normal (a median of 3.5 minutes in opening
  hours), leads of the night wait for the morning; a lead not contacted by
  its deadline has an ``sla_breached`` event as the leads service writes it
  and is re-routed (then escalated to the manager, as the service does),
  with its ``assignments``. Won leads have a deal value near the car's
  price, lost ones a reason that fits how far they got; some are pending a
  manager's approval, some stall, a few wait in the claim pool. A
  consultant's skill moves their conversion and their speed.
- **follow-ups**: every milestone's record (the first contact, an
  ``appointment``, a ``visit``, a ``test_drive``, a quote, ...) at the
  lead's moment, so that the followups' records and the leads' columns tell
  the same story, and calls, WeChats and texts between them, more for
  leads that went further, scaled so the total is exactly as asked; tasks
  for the first contact (due at the response deadline) and for most
  follow-ups, done mostly on time (about 80 %), some late, some open and
  overdue; the followups service's copy of each lead (``lead_states``).
- **source costs**: each store's monthly cost of its paid sources.

**How the services learn the organisation.** Its copies (leads: ``stores``,
``roster``; followups: ``store_calendars``, ``store_managers``;
notifications: ``stores``, ``users``) are COPYed too, with the rows and the
revision (1) that their ``store_saved``/``user_saved`` handlers would have
written. ``dealerflow announce-org`` would publish 1,000+ events for three
services to consume one by one; that needs the broker and the services
running, which ``make bench-data`` does not (its databases may never be run
at all), and the load would not be done when it returns. A later
``announce-org`` supersedes the copies the normal way (a higher revision).

Nothing else is written: no customers (the leads carry their customer's name
and phone but no ``customer_id``), no test-drive bookings (a test drive is
a record with the outcome ``test_drive``), no outbox rows (nothing is
announced). Into a running system's databases (a ``Stack``) the leads are
written so that its timers find nothing to do: no lead waits for a first
contact past its deadline, and past reminders and escalations are marked done.

Speed: Python makes the rows (one core) while PostgreSQL ingests the
previous batch (a thread per database, COPY ... FORMAT csv); the secondary
indexes of the big tables are dropped first and built again at the end,
which is several times faster than keeping them up to date row by row;
then ``VACUUM ANALYZE``.

    python -m bench.dataset [--stores 50 --consultants 1000 --leads 1000000 --followups 5000000 --years 2]
"""
import argparse
import bisect
import csv
import io
import json
import math
import os
import queue
import random
import shutil
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2

if __package__ in (None, ""):  # python bench/dataset.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dealerflow.config import SERVICES  # noqa: E402

PASSWORD = os.environ.get("DEALERFLOW_DEMO_PASSWORD", "dealerflow-demo")  # as seed-demo takes it
ADMIN = "group.admin"
ZONE, OFFSET = "Asia/Shanghai", 8 * 3600  # no daylight saving since 1991
OPEN_HOUR, CLOSE_HOUR = 9, 21
HOURS = {day: [f"{OPEN_HOUR:02d}:00-{CLOSE_HOUR:02d}:00"]
         for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DEFAULT_SERVER = os.environ.get("BENCH_DATA_SERVER", "postgresql://postgres@127.0.0.1:5432")
DEFAULT_PREFIX = os.environ.get("BENCH_DATA_PREFIX", "dealerflow_bench_")
BATCH = 10_000  # leads per batch of COPYs
DAY, HOUR, MINUTE = 86400.0, 3600.0, 60.0

# city code, name, districts (a store is named after one), weight (its share of the stores)
CITIES = (
    ("SH", "上海", "浦东 闵行 徐汇 嘉定 宝山 松江 青浦 杨浦 普陀 长宁", 3),
    ("BJ", "北京", "朝阳 海淀 丰台 通州 大兴 顺义 昌平 石景山 东城", 3),
    ("GZ", "广州", "天河 番禺 白云 黄埔 海珠 花都 增城", 2),
    ("SZ", "深圳", "南山 福田 宝安 龙岗 龙华 罗湖 光明", 2),
    ("HZ", "杭州", "西湖 滨江 萧山 余杭 拱墅 上城", 1.5),
    ("CD", "成都", "高新 武侯 锦江 金牛 青羊 双流", 1.5),
    ("NJ", "南京", "江宁 鼓楼 建邺 栖霞", 1),
    ("WH", "武汉", "江汉 武昌 洪山 汉阳", 1),
    ("XA", "西安", "雁塔 未央 长安 曲江", 1),
    ("CQ", "重庆", "渝北 江北 九龙坡 南岸", 1),
)
# brand, model, fuel type, price (10,000 yuan), weight among the brand's leads
CARS = (
    ("BYD", "Qin PLUS DM-i", "PHEV", 10, 5), ("BYD", "Song PLUS DM-i", "PHEV", 16, 5),
    ("BYD", "Han EV", "EV", 22, 3), ("BYD", "Seal", "EV", 20, 3), ("BYD", "Yuan PLUS", "EV", 14, 3),
    ("Tesla", "Model 3", "EV", 24, 4), ("Tesla", "Model Y", "EV", 26, 6),
    ("Li Auto", "L6", "PHEV", 25, 5), ("Li Auto", "L7", "PHEV", 32, 3), ("Li Auto", "L9", "PHEV", 42, 2),
    ("NIO", "ET5", "EV", 30, 3), ("NIO", "ES6", "EV", 34, 3),
    ("Xiaomi", "SU7", "EV", 23, 6),
    ("Toyota", "Camry", "HEV", 18, 5), ("Toyota", "RAV4", "ICE", 19, 4), ("Toyota", "Corolla", "HEV", 12, 3),
    ("Volkswagen", "Lavida", "ICE", 11, 5), ("Volkswagen", "ID.4", "EV", 18, 2),
    ("Volkswagen", "Tiguan L", "ICE", 22, 3),
    ("BMW", "3 Series", "ICE", 32, 4), ("BMW", "X3", "ICE", 40, 3), ("BMW", "i3", "EV", 35, 1),
    ("Mercedes-Benz", "C-Class", "ICE", 34, 4), ("Mercedes-Benz", "GLC", "ICE", 45, 3),
    ("Audi", "A6L", "ICE", 42, 4), ("Audi", "Q5L", "ICE", 40, 3),
)
BRANDS = tuple(dict.fromkeys(car[0] for car in CARS))
# (platform, source, channel): share of the leads, hours (online or store), and the funnel: the
# chance of each step given the one before (contacted, needs confirmed, appointment, showed up,
# proposal, negotiation, won). Walk-ins come to the store: they are visited at the first contact.
SOURCES = {
    ("autohome", "autohome", "third_party"): (26, "online", (.90, .52, .42, .70, .66, .62, .58)),
    ("dongchedi", "dongchedi", "third_party"): (20, "online", (.88, .50, .40, .68, .65, .60, .56)),
    ("yiche", "yiche", "third_party"): (11, "online", (.87, .48, .38, .66, .64, .60, .55)),
    ("oem", "oem_website", "website"): (12, "online", (.94, .62, .50, .74, .70, .66, .60)),
    ("douyin", "douyin", "social"): (8, "online", (.80, .40, .35, .62, .62, .58, .52)),
    ("store", "walk_in", "walk_in"): (10, "store", (1.0, .88, 1.0, 1.0, .75, .70, .62)),
    ("store", "referral", "referral"): (5, "store", (.99, .85, .75, .85, .80, .75, .68)),
    ("store", "phone", "phone"): (5, "store", (.98, .70, .55, .78, .72, .68, .62)),
    ("store", "auto_show", "auto_show"): (3, "store", (.95, .65, .55, .75, .70, .66, .60)),
}
PAID = {"autohome": (30_000, 80_000), "dongchedi": (20_000, 60_000), "yiche": (10_000, 30_000),
        "douyin": (10_000, 40_000), "auto_show": (0, 0)}  # yuan a month for a store of weight 1
HOUR_WEIGHTS = {  # local hour of a lead's arrival
    "online": (2, 1, 1, .5, .5, .5, 1, 2, 4, 6, 7, 7, 6, 6, 7, 7, 6, 5, 5, 6, 8, 9, 8, 5),
    "store": (0,) * OPEN_HOUR + (3, 6, 7, 6, 5, 6, 7, 7, 6, 5, 4, 2) + (0,) * (24 - CLOSE_HOUR),
}
MONTHS = (.95, .7, 1.0, 1.1, 1.05, 1.0, .95, .95, 1.15, 1.2, 1.1, 1.1)  # seasonality, January first
LOSS_REASONS = (  # by how far the lead got: only contacted, interested, visited
    (("unreachable", 35), ("not_interested", 35), ("postponed", 15), ("no_budget", 10), ("other", 5)),
    (("not_interested", 20), ("postponed", 25), ("bought_competitor", 20), ("price", 15), ("no_budget", 10),
     ("other", 10)),
    (("price", 30), ("bought_competitor", 25), ("bought_other_dealer", 20), ("financing_refused", 10),
     ("postponed", 10), ("other", 5)),
)
LOSS_NOTES = {"other": "客户家人不同意"}
NOTES = ("客户在对比价格", "关注续航和充电", "想了解置换补贴", "周末再联系", "问了贷款方案", "客户比较犹豫",
         "已加微信发了配置表", "约了下周到店")
FILLER = (("call", "reached", 30), ("call", "no_answer", 14), ("call", "busy", 4), ("call", "call_back", 6),
          ("wechat", "reached", 32), ("sms", "reached", 6), ("wechat", "no_answer", 8))
TASK_KIND = {"call": "call", "wechat": "wechat", "sms": "sms", "visit": "invitation", "email": "call"}
REMIND, ESCALATE = 15 * MINUTE, 60 * MINUTE  # the cadence policy's defaults
ON_TIME = 0.82  # the share of follow-up tasks done by their due time


@dataclass
class Size:
    stores: int = 50
    consultants: int = 1_000
    leads: int = 1_000_000
    followups: int = 5_000_000
    years: float = 2
    seed: int = 2026
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def check(self) -> None:
        if self.stores < 1 or self.consultants < 2 * self.stores:
            raise ValueError("at least one store and two consultants a store")
        if self.followups < 2 * self.leads:
            raise ValueError("at least two follow-up records a lead (every milestone has its own)")


# -- rows as text ----------------------------------------------------------------------

_DAYS: dict[int, str] = {}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ts(t: float | None) -> str | None:
    """An epoch second as PostgreSQL reads a timestamptz, quickly (millions of them)."""
    if t is None:
        return None
    day, second = divmod(t, DAY)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
    whole = int(second)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{prefix}{h:02d}:{m:02d}:{s:02d}.{int((second - whole) * 1000):03d}+00"


def iso(t: float) -> str:
    """As the services write a moment into an event's details (``datetime.isoformat``)."""
    return datetime.fromtimestamp(round(t, 3), timezone.utc).isoformat()


def jsonb(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def psycopg_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg2://``) as psycopg2 takes it."""
    return url.replace("+psycopg2", "")


def connect(url: str):
    """A psycopg2 connection to the database at ``url``, closed when the block ends."""
    return closing(psycopg2.connect(psycopg_url(url)))


def copy_rows(cursor, table: str, columns, rows) -> int:
    """COPY ``rows`` (tuples in the order of ``columns``; None is NULL) into ``table``."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer,
                       size=1 << 20)
    return cursor.rowcount


class Loader:
    """One database's tables, COPYed in a thread of its own: PostgreSQL
    ingests a batch while Python makes the next. A table's columns that the
    database does not have (a newer or older schema) are left out; one it
    requires that is missing here fails the COPY, loudly."""

    def __init__(self, url: str, tables: dict[str, tuple]):
        self.connection = psycopg2.connect(psycopg_url(url))
        with self.connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
            cursor.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = current_schema()")
            present = {}
            for table, column in cursor.fetchall():
                present.setdefault(table, set()).add(column)
        self.connection.commit()
        self.columns, self.keep, self.rows, self.counts = {}, {}, {}, {}
        for table, columns in tables.items():
            kept = [i for i, column in enumerate(columns) if column in present.get(table, ())]
            self.columns[table] = [columns[i] for i in kept]
            self.keep[table] = None if len(kept) == len(columns) else kept
            self.rows[table], self.counts[table] = [], 0
        self.batches: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.work, name="copy", daemon=True)
        self.thread.start()

    def flush(self, after: threading.Event | None = None) -> threading.Event:
        """Queue the rows made so far, to be COPYed once ``after`` is set;
        the Event set when they are committed."""
        if self.error:
            raise RuntimeError(f"COPY failed: {self.error}") from self.error
        if after is not None:
            self.batches.put(("wait", after))
        for table, rows in self.rows.items():
            if rows:
                keep = self.keep[table]
                buffer = io.StringIO()
                csv.writer(buffer).writerows(rows if keep is None
                                             else ([row[i] for i in keep] for row in rows))
                buffer.seek(0)
                self.counts[table] += len(rows)
                self.batches.put((table, buffer))
                self.rows[table] = []
        done = threading.Event()
        self.batches.put(("done", done))
        return done

    def work(self) -> None:
        try:
            while (batch := self.batches.get()) is not None:
                table, buffer = batch
                if table == "wait":  # buffer: the other database's Event
                    buffer.wait()
                    continue
                if table == "done":
                    buffer.set()
                    continue
                with self.connection.cursor() as cursor:
                    cursor.copy_expert(f"COPY {table} ({', '.join(self.columns[table])}) FROM STDIN "
                                       "WITH (FORMAT csv)", buffer, size=1 << 20)
                self.connection.commit()
        except BaseException as exc:  # told to the main thread at its next flush or close
            self.error = exc
            while (batch := self.batches.get()) is not None:  # let the producer finish
                if batch[0] == "done":
                    batch[1].set()

    def close(self) -> None:
        self.flush()
        self.batches.put(None)
        self.thread.join()
        self.connection.close()
        if self.error:
            raise RuntimeError(f"COPY failed: {self.error}") from self.error


# -- the organisation --------------------------------------------------------------------

@dataclass
class Store:
    code: str
    name: str
    city: str
    brand: str
    weight: float
    response_minutes: int
    manager: dict = None
    consultants: list = field(default_factory=list)  # user dicts
    teams: list = field(default_factory=list)


def uid(rng: random.Random) -> str:
    """A version 4 UUID from the generator's own random numbers (deterministic)."""
    s = f"{rng.getrandbits(128):032x}"
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-{'89ab'[int(s[16], 16) & 3]}{s[17:20]}-{s[20:]}"


def spread(total: int, weights) -> list[int]:
    """``total`` shared out in proportion to ``weights``, whole numbers adding up exactly."""
    weights = list(weights)
    whole, shares, running, given = sum(weights), [], 0.0, 0
    for weight in weights:
        running += weight
        upto = round(total * running / whole)
        shares.append(upto - given)
        given = upto
    return shares


def organisation(size: Size, rng: random.Random) -> tuple[list[Store], dict]:
    """The stores, their teams, managers and consultants, and the group admin."""
    from bench.customers import name_pool  # which imports bench.staff, which imports this
    names, name_weights = name_pool()
    per_city = spread(size.stores, [city[3] for city in CITIES])
    stores = []
    for (code, city, districts, _), count in zip(CITIES, per_city):
        districts = districts.split()
        for n in range(count):
            district = districts[n % len(districts)]
            if n >= len(districts):
                district += str(n // len(districts) + 1)
            brand = BRANDS[len(stores) % len(BRANDS)]
            stores.append(Store(f"{code}-{n + 1:02d}", f"{city}{district}{brand}店", city, brand,
                                rng.lognormvariate(0, 0.35), rng.choice((10, 15, 15, 15, 20, 30))))
    created = size.now.timestamp() - size.years * 365 * DAY - 30 * DAY
    admin = {"id": uid(rng), "username": ADMIN, "display_name": "集团管理员", "role": "group_admin",
             "stores": [], "team_id": None, "created_at": created}
    for store, count in zip(stores, spread(size.consultants - 2 * len(stores), [s.weight for s in stores])):
        count += 2
        store.manager = {"id": uid(rng), "username": f"{store.code.lower()}.manager",
                         "display_name": f"{store.city}{store.code[-2:]}店销售经理", "role": "manager",
                         "stores": [store.code], "team_id": None, "created_at": created}
        teams = max(1, round(count / 8))
        store.teams = [{"id": uid(rng), "name": f"销售{'一二三四五六七八九十'[t % 10]}组", "store_code": store.code,
                        "leader_id": None, "created_at": created} for t in range(teams)]
        for n in range(count):
            team = store.teams[n % teams]
            consultant = {"id": uid(rng), "username": f"{store.code.lower()}.c{n + 1:02d}",
                          "display_name": rng.choices(names, name_weights)[0], "role": "consultant",
                          "stores": [store.code], "team_id": team["id"], "created_at": created,
                          # how well they sell and how fast they answer, around 1
                          "skill": min(1.35, max(0.7, rng.lognormvariate(0, 0.18)))}
            team["leader_id"] = team["leader_id"] or consultant["id"]
            store.consultants.append(consultant)
    return stores, admin


ORG_TABLES = {
    "gateway": {
        "stores": ("code", "name", "timezone", "country", "response_minutes", "business_hours", "holidays",
                   "active", "revision", "created_at"),
        "teams": ("id", "name", "store_code", "leader_id", "created_at"),
        "users": ("id", "username", "display_name", "email", "role", "password_hash", "team_id", "languages",
                  "shift", "leave", "daily_capacity", "active", "revision", "created_at"),
        "user_stores": ("user_id", "store_code"),
    },
    "leads": {
        "stores": ("code", "timezone", "response_minutes", "revision", "business_hours", "holidays"),
        "roster": ("user_id", "store_code", "display_name", "role", "active", "revision", "team_id",
                   "languages", "shift", "leave", "daily_capacity"),
    },
    "followups": {
        "store_calendars": ("store_code", "timezone", "response_minutes", "revision", "business_hours",
                            "holidays"),
        "store_managers": ("user_id", "store_code", "revision"),
    },
    "notifications": {
        "stores": ("code", "name", "timezone", "active", "revision"),
        "users": ("user_id", "username", "display_name", "role", "stores", "email", "language", "active",
                  "revision"),
    },
}


def write_organisation(urls: dict, stores: list[Store], admin: dict) -> int:
    """The gateway's organisation and the other services' copies of it;
    the users, all with one argon2 hash of the demo password."""
    from services.gateway.auth import hash_password
    password_hash = hash_password(PASSWORD)
    users = [admin] + [user for store in stores for user in (store.manager, *store.consultants)]
    hours, capacity = jsonb(HOURS), 30
    rows = {
        "gateway": {
            "stores": [(s.code, s.name, ZONE, "CN", s.response_minutes, hours, "[]", True, 1,
                        ts(admin["created_at"])) for s in stores],
            # the leaders after the users (each references the other)
            "teams": [(t["id"], t["name"], t["store_code"], None, ts(t["created_at"]))
                      for s in stores for t in s.teams],
            "users": [(u["id"], u["username"], u["display_name"], f"{u['username']}@dealer.example",
                       u["role"], password_hash, u["team_id"], '["zh"]', "{}", "[]", capacity, True, 1,
                       ts(u["created_at"])) for u in users],
            "user_stores": [(u["id"], code) for u in users for code in u["stores"]],
        },
        "leads": {
            "stores": [(s.code, ZONE, s.response_minutes, 1, hours, "[]") for s in stores],
            "roster": [(u["id"], code, u["display_name"], u["role"], True, 1, u["team_id"], '["zh"]', "{}",
                        "[]", capacity) for u in users for code in u["stores"]],
        },
        "followups": {
            "store_calendars": [(s.code, ZONE, s.response_minutes, 1, hours, "[]") for s in stores],
            "store_managers": [(s.manager["id"], s.code, 1) for s in stores],
        },
        "notifications": {
            "stores": [(s.code, s.name, ZONE, True, 1) for s in stores],
            "users": [(u["id"], u["username"], u["display_name"], u["role"], jsonb(u["stores"]),
                       f"{u['username']}@dealer.example", "zh", True, 1) for u in users],
        },
    }
    for service, tables in rows.items():
        with connect(urls[service]) as connection, connection.cursor() as cursor:
            for table, table_rows in tables.items():
                copy_rows(cursor, table, ORG_TABLES[service][table], table_rows)
            if service == "gateway":
                cursor.executemany("UPDATE teams SET leader_id = %s WHERE id = %s",
                                   [(t["leader_id"], t["id"]) for s in stores for t in s.teams])
            connection.commit()
    return len(users)


# -- leads and their follow-ups ----------------------------------------------------------

LEAD_COLUMNS = (
    "id", "platform", "source", "external_id", "channel", "format", "status", "store_code", "consultant_id",
    "customer", "customer_name", "customer_phone", "customer_phone_e164", "interest", "received_at",
    "submitted_at", "created_at", "assigned_at", "first_contact_due_at", "first_contact_at", "grade", "score",
    "score_method", "stage", "reroutes", "pooled_at", "lost_reason", "lost_note", "closed_at", "deal_value",
    "deal_currency", "vehicle", "updated_at", "needs_confirmed_at", "proposal_at", "negotiation_at",
    "appointment_at", "visited_at", "test_drive_at", "last_activity_at", "response_seconds",
    "owner_response_seconds")
EVENT_COLUMNS = ("lead_id", "change", "actor_id", "at", "reason", "details")
ASSIGNMENT_COLUMNS = ("lead_id", "consultant_id", "reason", "assigned_at", "actor_id")
COST_COLUMNS = ("store_code", "source", "month", "amount", "currency", "updated_by", "updated_at")
RECORD_COLUMNS = ("id", "lead_id", "task_id", "consultant_id", "store_code", "channel", "direction",
                  "outcome", "notes", "stage_at", "created_at")
TASK_COLUMNS = ("id", "lead_id", "consultant_id", "store_code", "kind", "status", "source", "due_at",
                "created_at", "remind_at", "reminded_at", "escalate_at", "escalated_at", "completed_at",
                "outcome", "created_by")
STATE_COLUMNS = ("lead_id", "store_code", "consultant_id", "customer_name", "grade", "stage", "status",
                 "recorded", "interest")
# the big tables: their secondary indexes are built once, after the load
BIG = {"leads": ("leads", "lead_events", "assignments"),
       "followups": ("followup_records", "tasks", "lead_states")}
# records beyond the milestones', per lead, by how far it got (contacted ... won)
FILLER_WEIGHT = (1.5, 3, 4, 5, 6, 7, 8)


class Group:
    """Makes the leads, records and tasks, batch by batch, in the order
    they arrived (so the tables are in ``created_at`` order, as a real
    one's), into the leads and followups Loaders."""

    def __init__(self, size: Size, stores: list[Store], rng: random.Random):
        self.size, self.stores, self.rng = size, stores, rng
        self.now = size.now.timestamp()
        self.store_cum = cumulative(s.weight for s in stores)
        self.sources = list(SOURCES)
        self.source_cum = cumulative(SOURCES[s][0] for s in self.sources)
        self.hour_cum = {kind: cumulative(weights) for kind, weights in HOUR_WEIGHTS.items()}
        from bench.customers import name_pool
        self.names, names_weights = name_pool()
        self.names_cum = cumulative(names_weights)
        self.cars_by_brand = {brand: [car for car in CARS if car[0] == brand] for brand in BRANDS}
        self.cars_cum = {brand: cumulative(car[4] for car in cars)
                         for brand, cars in self.cars_by_brand.items()}
        self.all_cars_cum = cumulative(car[4] for car in CARS)
        self.filler_cum = cumulative(f[2] for f in FILLER)
        self.loss_cum = [cumulative(w for _, w in reasons) for reasons in LOSS_REASONS]
        self.serial = 0
        self.records_left, self.leads_left = size.followups, size.leads
        self.mean_mandatory, self.mean_filler = 3.0, 3.0  # learnt as it goes
        self.seen = {"mandatory": 0, "filler": 0, "leads": 0}
        self.counts = {"won": 0, "lost": 0, "loss_pending": 0, "open": 0, "pooled": 0, "breached": 0,
                       "tasks": 0, "tasks_on_time": 0, "tasks_due": 0}

    # -- when leads arrive ----------------------------------------------------------------

    def days(self) -> list[tuple[float, int]]:
        """Each day of the range as (its start, how many leads arrived in it):
        24-hour windows ending now, weighted by growth, weekday and season."""
        days = max(1, round(self.size.years * 365))
        starts = [self.now - (days - d) * DAY for d in range(days)]
        weights = []
        for d, start in enumerate(starts):
            local = datetime.fromtimestamp(start + DAY / 2 + OFFSET, timezone.utc)
            weekday = 1.35 if local.weekday() >= 5 else 0.9
            weights.append((1 + 0.25 * d / days) * weekday * MONTHS[local.month - 1])
        return list(zip(starts, spread(self.size.leads, weights)))

    def arrival(self, start: float, hours: str) -> float:
        rng = self.rng
        hour = bisect.bisect(self.hour_cum[hours], rng.random() * self.hour_cum[hours][-1])
        of_day = hour * HOUR + rng.random() * HOUR  # local time of day
        return start + (of_day - (start + OFFSET)) % DAY

    # -- one lead --------------------------------------------------------------------------

    def batches(self):
        """Yield after each batch of about ``BATCH`` leads (for the caller to flush)."""
        pending = []
        for start, count in self.days():
            for _ in range(count):
                store = self.stores[bisect.bisect(self.store_cum, self.rng.random() * self.store_cum[-1])]
                key = self.sources[bisect.bisect(self.source_cum, self.rng.random() * self.source_cum[-1])]
                pending.append((self.arrival(start, SOURCES[key][1]), store, key))
            if len(pending) >= BATCH:
                yield self.batch(pending)
                pending = []
        if pending:
            yield self.batch(pending)

    def batch(self, arrivals: list[tuple]) -> int:
        arrivals.sort(key=lambda arrival: arrival[0])
        self.write([self.plan(*arrival) for arrival in arrivals])
        return len(arrivals)

    def plan(self, created: float, store: Store, key: tuple) -> dict:
        """What happened to one lead: its moments, owner and end."""
        rng, now = self.rng, self.now
        platform, source, channel = key
        _, hours, funnel = SOURCES[key]
        consultant = rng.choice(store.consultants)
        skill = consultant["skill"]
        lead = {"created": created, "store": store, "key": key, "consultant": consultant,
                "assigned": created + 0.1, "assignments": [(consultant["id"], "routing", created + 0.1)],
                "breaches": [], "depth": -1, "fc": None, "due": None, "status": None, "closed": None,
                "moments": {}, "pooled": None, "lost_at": None}
        if rng.random() < (0.03 if channel == "auto_show" else 0.008):  # a rule sent it to the claim pool
            lead["pooled"] = created
            lead["assignments"] = []
            claimed = created + rng.uniform(10 * MINUTE, 6 * HOUR)
            if rng.random() < 0.3 or claimed > now:
                lead["status"], lead["consultant"] = "pooled", None
                return lead
            lead["assignments"] = [(consultant["id"], "claim", claimed)]
            lead["assigned"], lead["pooled"] = claimed, None
        assigned = lead["assigned"]
        due = self.deadline(assigned, store.response_minutes)
        contacted = rng.random() < funnel[0]
        if hours == "store":  # at the store or on the phone with it: answered at once
            first = assigned + rng.uniform(0.5, 4) * MINUTE
        else:
            first = self.response(assigned, skill)
        if not contacted or first > now:
            self.uncontacted(lead, due)
            return lead
        # late: the deadline passed, the lead went to a colleague, who called
        late = first > due
        if late:
            self.breach(lead, due, first)
        lead["fc"], lead["depth"] = first, 0
        moments, t = lead["moments"], first
        walk_in = channel == "walk_in"
        if walk_in:
            moments["visited"] = first
        boost = skill ** 0.5
        steps = ("needs", "appointment", "visited", "proposal", "negotiation", "won")
        for depth, step in enumerate(steps, start=1):
            chance = funnel[depth] if step in ("needs", "won") else min(0.97, funnel[depth] * boost)
            if walk_in and step in ("appointment", "visited"):
                continue
            if rng.random() >= chance:
                break
            if step == "needs":
                t += (rng.uniform(5, 60) * MINUTE if walk_in
                      else max(5 * MINUTE, rng.lognormvariate(math.log(20 * HOUR), 1.0)))
            elif step == "appointment":
                t += max(10 * MINUTE, rng.lognormvariate(math.log(24 * HOUR), 0.8))
            elif step == "visited":
                t = in_hours(t + max(2 * HOUR, rng.lognormvariate(math.log(60 * HOUR), 0.6)), rng)
            elif step == "proposal":
                visit = moments["visited"]
                if rng.random() < 0.3:  # a test drive and the quote on the same visit
                    moments["test_drive"] = visit + rng.uniform(10, 40) * MINUTE
                    t = max(t, moments["test_drive"]) + rng.uniform(30, 90) * MINUTE
                elif rng.random() < 0.6:
                    t = max(t, visit) + rng.uniform(20, 120) * MINUTE
                else:
                    t = max(t, visit) + max(HOUR, rng.lognormvariate(math.log(48 * HOUR), 0.8))
            elif step == "negotiation":
                t += max(HOUR, rng.lognormvariate(math.log(48 * HOUR), 0.8))
            else:
                t = in_hours(t + max(HOUR, rng.lognormvariate(math.log(96 * HOUR), 0.8)), rng)
            if t > now:
                break
            moments[step] = t
            lead["depth"] = depth
        drives = 0.45 if walk_in else 0.55
        if "visited" in moments and "test_drive" not in moments and rng.random() < drives:
            drive = moments["visited"] + rng.uniform(10, 60) * MINUTE
            if drive <= now and drive < moments.get("proposal", math.inf):
                moments["test_drive"] = drive
        if "test_drive" in moments and moments["test_drive"] > now:
            del moments["test_drive"]
        if "won" in moments:
            lead["status"], lead["closed"] = "won", moments.pop("won")
            return lead
        last = max(moments.values(), default=first)
        # how it ends: lost after a while, or still open (in progress, or stalled)
        if rng.random() < 0.08:
            lead["status"] = "open"
            return lead
        lost = last + max(HOUR, rng.lognormvariate(math.log(10 * DAY), 0.7))
        approved = lost + rng.uniform(HOUR, 3 * DAY)
        if lost > now:
            lead["status"] = "open"
        elif approved > now:
            lead["status"], lead["lost_at"] = "loss_pending", lost
        else:
            lead["status"], lead["lost_at"], lead["closed"] = "lost", lost, approved
        return lead

    def deadline(self, t: float, minutes: int) -> float:
        """The first-contact deadline: ``minutes`` of opening hours after ``t``."""
        hour = (t + OFFSET) % DAY / HOUR
        if OPEN_HOUR <= hour < CLOSE_HOUR:
            closing_time = t + (CLOSE_HOUR - hour) * HOUR
            due = t + minutes * MINUTE
            return due if due <= closing_time else next_opening(closing_time) + (due - closing_time)
        return next_opening(t) + minutes * MINUTE

    def response(self, assigned: float, skill: float) -> float:
        """When a consultant first answered an online lead: minutes in
        opening hours (log-normal, a median of 3.5), the next morning for most
        leads of the night, and a tail of hours."""
        rng = self.rng
        hour = (assigned + OFFSET) % DAY / HOUR
        if rng.random() < 0.05:
            return assigned + rng.uniform(HOUR, 30 * HOUR)
        if OPEN_HOUR <= hour < CLOSE_HOUR or rng.random() < 0.2:
            return assigned + rng.lognormvariate(math.log(3.5 * MINUTE / skill), 1.0)
        return next_opening(assigned) + rng.lognormvariate(math.log(6 * MINUTE / skill), 0.9)

    def breach(self, lead: dict, due: float, first: float) -> None:
        """The deadline passed: an ``sla_breached`` event, and the lead re-routed to a colleague."""
        store = lead["store"]
        late = lead["consultant"]
        others = [c for c in store.consultants if c is not late]
        lead["breaches"].append((late["id"], due, len(lead["breaches"])))
        lead["consultant"] = self.rng.choice(others)
        lead["assignments"].append((lead["consultant"]["id"], "reroute", due))
        lead["assigned"] = due
        self.counts["breached"] += 1

    def uncontacted(self, lead: dict, due: float) -> None:
        """Nobody reached the customer: waiting for the deadline, or breached,
        re-routed twice and given to the manager (no clock); lost as
        unreachable by the manager after some days."""
        rng, now, store = self.rng, self.now, lead["store"]
        lead["depth"] = -1
        if due > now:
            lead["status"], lead["due"] = "assigned", due
            return
        for _ in range(3):  # the policy's two re-routes, then the manager
            if due > now:
                break
            self.breach(lead, due, now)
            due = self.deadline(due, store.response_minutes)
        if due > now:  # still on the clock with the last colleague
            lead["status"], lead["due"] = "assigned", due
            return
        lead["consultant"], escalated = store.manager, lead["assigned"]
        lead["assignments"][-1] = (store.manager["id"], "escalation", escalated)
        lost = escalated + rng.uniform(2, 7) * DAY
        lead["status"] = "lost_unreachable" if lost <= now else "assigned"
        lead["closed"] = lost if lost <= now else None

    # -- the rows ----------------------------------------------------------------------------

    def write(self, plans: list[dict]) -> None:
        """The rows of a batch of leads: the leads service's, then the records
        (milestones first, fillers shared out so that the total comes out as
        asked) and tasks of the followups service."""
        mandatory = [self.milestone_records(plan) for plan in plans]
        weights = [FILLER_WEIGHT[plan["depth"]] if plan["depth"] >= 0 else 0 for plan in plans]
        m_batch, w_batch = sum(len(m) for m in mandatory), sum(weights)
        # learn the averages, then give this batch its share of the records still to make
        self.seen["mandatory"] += m_batch
        self.seen["filler"] += w_batch
        self.seen["leads"] += len(plans)
        self.leads_left -= len(plans)
        mean_m = self.seen["mandatory"] / self.seen["leads"]
        mean_w = self.seen["filler"] / self.seen["leads"]
        rest_filler = self.records_left - m_batch - self.leads_left * mean_m
        share = w_batch / (w_batch + self.leads_left * mean_w) if w_batch else 0
        if self.leads_left:
            fillers = max(0, round(rest_filler * share))
        else:  # the last batch: whatever is left
            fillers = max(0, self.records_left - m_batch)
        counts = spread(fillers, weights) if w_batch else [0] * len(plans)
        for plan, records, count in zip(plans, mandatory, counts):
            records.extend(self.filler_records(plan, count))
            self.records_left -= len(records)
            self.lead_rows(plan, records)
            self.followup_rows(plan, records)

    def milestone_records(self, plan: dict) -> list[tuple]:
        """(time, channel, outcome) of the records the lead's moments need."""
        if plan["fc"] is None:
            return []
        rng, m = self.rng, plan["moments"]
        records = []
        if plan["key"][2] == "walk_in":
            records.append((plan["fc"], "visit", "visited"))
        else:
            channel = rng.choice(("call", "call", "wechat")) if plan["key"][1] != "store" else "call"
            outcome = rng.choices(("reached", "no_answer", "busy"), (70, 20, 10))[0]
            records.append((plan["fc"], channel, outcome))
        if "needs" in m:
            records.append((m["needs"], rng.choice(("call", "wechat")), "reached"))
        if "appointment" in m:
            records.append((m["appointment"], rng.choice(("call", "wechat")), "appointment"))
        if "visited" in m and plan["key"][2] != "walk_in":
            records.append((m["visited"], "visit", "visited"))
        if "test_drive" in m:
            records.append((m["test_drive"], "visit", "test_drive"))
        if "proposal" in m:
            records.append((m["proposal"], "wechat", "quote_sent"))
        if "negotiation" in m:
            records.append((m["negotiation"], "call", "reached"))
        if plan["status"] == "won":
            records.append((plan["closed"], "visit", "reached"))
        elif plan["lost_at"] is not None:
            records.append((plan["lost_at"], "call", "refused" if plan["depth"] >= 1 else "no_answer"))
        return records

    def activity_end(self, plan: dict) -> float:
        """Until when fillers happen: the lead's last moment, or now for one in progress."""
        if plan["status"] == "won":
            return plan["closed"]
        if plan["lost_at"] is not None:
            return plan["lost_at"]
        last = max(plan["moments"].values(), default=plan["fc"])
        return min(self.now, last + self.rng.uniform(1, 10) * DAY) if plan["status"] == "open" else last

    def filler_records(self, plan: dict, count: int) -> list[tuple]:
        """Calls, WeChats and texts between the milestones (none that would
        be a milestone: no appointment, visit or test drive); after a win,
        the delivery and care calls."""
        if not count:
            return []
        rng, first = self.rng, plan["fc"]
        end = max(first + MINUTE, self.activity_end(plan))
        after = plan["closed"] if plan["status"] == "won" else None
        cum, proposal = self.filler_cum, plan["moments"].get("proposal")
        records = []
        for _ in range(count):
            if after is not None and rng.random() < 0.35:
                t = min(self.now, after + rng.uniform(HOUR, 90 * DAY))
                records.append((max(t, after), rng.choice(("call", "wechat")), "reached"))
                continue
            t = first + rng.random() * (end - first)
            channel, outcome, _ = FILLER[bisect.bisect(cum, rng.random() * cum[-1])]
            if proposal is not None and t > proposal and rng.random() < 0.15:
                outcome = "quote_sent"
            records.append((t, channel, outcome))
        return records

    def lead_rows(self, plan: dict, records: list[tuple]) -> None:
        rng, store, (platform, source, channel) = self.rng, plan["store"], plan["key"]
        self.serial += 1
        n = self.serial
        plan["id"] = lead_id = uid(rng)
        created = plan["created"]
        name = self.names[bisect.bisect(self.names_cum, rng.random() * self.names_cum[-1])]
        phone = f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"
        cars = self.cars_by_brand[store.brand] if rng.random() < 0.8 else CARS
        cum = self.cars_cum[store.brand] if cars is not CARS else self.all_cars_cum
        brand, model, fuel, price, _ = cars[bisect.bisect(cum, rng.random() * cum[-1])]
        plan["car"] = (brand, model, price)
        interest = {"brand": brand, "model": model, "fuel_type": fuel}
        if rng.random() < 0.7:
            low = max(5, round(price * rng.uniform(0.75, 0.95)))
            high = round(price * rng.uniform(1.0, 1.2))
            interest.update(budget_min=low * 10_000_00, budget_max=high * 10_000_00)
        plan["interest"] = interest = jsonb(interest)
        plan["name"] = name
        customer = jsonb({"name": name, "phone": phone, "city": store.city})
        m, status, depth = plan["moments"], plan["status"], plan["depth"]
        first, consultant = plan["fc"], plan["consultant"]
        stage = ("initial_contact", "initial_contact", "needs_confirmed", "needs_confirmed",
                 "needs_confirmed", "proposal", "negotiation", "after_sales")[depth + 1]
        needs, proposal, negotiation = m.get("needs"), m.get("proposal"), m.get("negotiation")
        closed, deal, vehicle, lost_reason, lost_note = plan["closed"], None, None, None, None
        grade = ("N", "C", "B", "A", "A", "H", "H", "O")[depth + 1] if depth < 6 else "O"
        if status == "won":
            stage, grade = "after_sales", "O"
            needs, proposal, negotiation = needs or closed, proposal or closed, negotiation or closed
            deal = round(price * 10_000 * rng.uniform(0.92, 1.05) / 100) * 100 * 100  # fen, to the 100 yuan
            vehicle = jsonb({"brand": brand, "model": model})
            self.counts["won"] += 1
        elif status in ("lost", "loss_pending", "lost_unreachable"):
            band = 0 if depth <= 0 else 1 if depth <= 2 else 2
            reasons = LOSS_REASONS[band]
            lost_reason = "unreachable" if status == "lost_unreachable" else \
                reasons[bisect.bisect(self.loss_cum[band], rng.random() * self.loss_cum[band][-1])][0]
            lost_note = LOSS_NOTES.get(lost_reason)
            if status == "loss_pending":
                self.counts["loss_pending"] += 1
            else:
                status, grade = "lost", "F"
                self.counts["lost"] += 1
        elif status == "pooled":
            self.counts["pooled"] += 1
        else:
            status = "contacted" if first is not None else "assigned"
            self.counts["open"] += 1
        activity = max([t for t, _, _ in records] + [t for t in (needs, proposal, negotiation, closed) if t],
                       default=None)
        if plan["lost_at"] is not None:
            activity = max(activity or 0, plan["lost_at"])
        plan["last_activity"] = activity
        plan["stage"], plan["grade"], plan["final_status"] = stage, grade, status
        assigned = plan["assignments"][-1][2] if plan["assignments"] else None
        clocked = status == "assigned" and plan["consultant"] is not plan["store"].manager
        due = plan["due"] if clocked else None
        updated = max(t for t in (created, assigned, first, activity, closed) if t is not None)
        self.leads.rows["leads"].append((
            lead_id, platform, source, f"BD-{n}", channel, "json", status, store.code,
            consultant["id"] if consultant else None, customer, name, phone, f"+86{phone}", interest,
            ts(created - rng.uniform(1, 120)), ts(created - 0.3), ts(created), ts(assigned), ts(due),
            ts(first), grade, min(100, max(0, 30 + 12 * depth + rng.randrange(-10, 11))), "rules", stage,
            len(plan["breaches"]), ts(plan["pooled"]), lost_reason, lost_note, ts(closed), deal,
            "CNY" if deal else None, vehicle, ts(updated), ts(needs), ts(proposal), ts(negotiation),
            ts(m.get("appointment")), ts(m.get("visited")), ts(m.get("test_drive")), ts(activity),
            round(first - created) if first is not None else None,
            round(first - assigned) if first is not None and assigned is not None else None))
        events, assignments = self.leads.rows["lead_events"], self.leads.rows["assignments"]
        for late, at, reroutes in plan["breaches"]:
            events.append((lead_id, "sla_breached", None, ts(at), None,
                           jsonb({"consultant_id": late, "due_at": iso(at), "reroutes": reroutes})))
        for who, reason, at in plan["assignments"]:
            assignments.append((lead_id, who, reason, ts(at), who if reason == "claim" else None))

    def followup_rows(self, plan: dict, records: list[tuple]) -> None:
        """The lead's records, the tasks they completed, the open task of an
        open lead, and the followups service's copy of the lead."""
        rng, store = self.rng, plan["store"]
        lead_id, consultant = plan["id"], plan["consultant"]
        owner = consultant["id"] if consultant else None
        code, rows_r = store.code, self.followups.rows["followup_records"]
        records.sort(key=lambda r: r[0])
        m = plan["moments"]
        won = plan["closed"] if plan["final_status"] == "won" else None
        stages = [(t, stage) for stage, t in (
            ("needs_confirmed", m.get("needs")), ("proposal", m.get("proposal")),
            ("negotiation", m.get("negotiation")), ("after_sales", won)) if t is not None]
        if plan["assignments"]:  # the first-contact task, due at the deadline of its owner then
            assigned_to, _, assigned = plan["assignments"][-1]
            due = plan["due"] or self.deadline(assigned, store.response_minutes)
            first = plan["fc"]
            if first is not None:
                self.task(lead_id, assigned_to, code, "first_contact", "sla", assigned, due, first,
                          "contacted")
            elif plan["final_status"] == "assigned" and plan["due"]:
                self.task(lead_id, assigned_to, code, "first_contact", "sla", assigned, due, None, None)
            else:  # escalated to the manager: the consultant's task was closed then
                self.task(lead_id, plan["breaches"][-1][0] if plan["breaches"] else assigned_to, code,
                          "first_contact", "sla", plan["created"], due, None, None,
                          cancelled=assigned)
        previous = plan["fc"]
        for i, (t, channel, outcome) in enumerate(records):
            stage_at = "initial_contact"
            for moment, stage in stages:
                if moment <= t:
                    stage_at = stage
            task_id = None
            # done for a task of the cadence
            if i and rng.random() < 0.65 and consultant is not store.manager:
                task_id = self.task(lead_id, owner, code, TASK_KIND[channel], "cadence", previous,
                                    None, t, outcome)
            rows_r.append((uid(rng), lead_id, task_id, owner, code, channel,
                           "inbound" if rng.random() < 0.1 else "outbound", outcome,
                           rng.choice(NOTES) if rng.random() < 0.3 else None, stage_at, ts(t)))
            previous = t
        status = plan["final_status"]
        if owner and status in ("contacted", "loss_pending") and consultant is not store.manager:
            # the next follow-up: mostly ahead, some overdue (stalled leads' long overdue)
            last = plan["last_activity"] or plan["created"]
            due = last + rng.uniform(1, 4) * DAY
            self.task(lead_id, owner, code, "call", "cadence", last, due, None, None)
        elif owner and status in ("won", "lost") and rng.random() < 0.5:
            last = plan["last_activity"] or plan["created"]
            self.task(lead_id, owner, code, "call", "cadence", last, last + 2 * DAY, None, None,
                      cancelled=plan["closed"])
        self.followups.rows["lead_states"].append((
            lead_id, code, owner, plan["name"], plan["grade"], plan["stage"], status, len(records),
            plan["interest"]))

    def task(self, lead_id, owner, code, kind, source, created, due, completed, outcome, cancelled=None):
        """A task; ``due`` None: one of the cadence, done at ``completed``,
        on time most often. Moments that passed are marked done for the timer."""
        rng, now = self.rng, self.now
        if due is None:
            if rng.random() < ON_TIME:
                due = min(completed + rng.uniform(0, 8) * HOUR, max(completed, created + DAY))
            else:
                due = completed - max(10 * MINUTE, rng.lognormvariate(math.log(6 * HOUR), 1.0))
            due = max(due, created + MINUTE) if completed > created + MINUTE else completed
        remind, escalate = due - REMIND, due + ESCALATE
        if cancelled is not None:
            status, done_at = "cancelled", None
        elif completed is not None:
            status, done_at = "done", completed
        else:
            status, done_at = "open", None
        ended = completed if completed is not None else cancelled if cancelled is not None else now
        reminded = remind if remind <= ended and remind <= now else None
        escalated = escalate if escalate <= ended and escalate <= now else None
        if status == "open" and remind > now and remind - now < 60:
            remind = None  # due within a minute of the load: the timer needs not act on it
        task_id = uid(rng)
        self.followups.rows["tasks"].append((
            task_id, lead_id, owner, code, kind, status, source, ts(due), ts(min(created, due)),
            ts(remind), ts(reminded), ts(escalate), ts(escalated), ts(done_at),
            outcome if status == "done" else None, None if source == "sla" else owner))
        self.counts["tasks"] += 1
        if status != "cancelled" and due <= now:
            self.counts["tasks_due"] += 1
            self.counts["tasks_on_time"] += completed is not None and completed <= due
        return task_id

    def source_costs(self) -> list[tuple]:
        """Each store's monthly cost of its paid sources, over the range."""
        rng, rows = self.rng, []
        end = datetime.fromtimestamp(self.now + OFFSET, timezone.utc)
        months = max(1, math.ceil(self.size.years * 12)) + 1
        for store in self.stores:
            for back in range(months):
                year, month = divmod(end.year * 12 + end.month - 1 - back, 12)
                for source, (low, high) in PAID.items():
                    if source == "auto_show":
                        if month + 1 not in (4, 11):
                            continue
                        low, high = 60_000, 150_000
                    amount = round(rng.uniform(low, high) * store.weight / 100) * 100 * 100
                    rows.append((store.code, source, f"{year}-{month + 1:02d}", amount, "CNY",
                                 store.manager["id"], ts(self.now - back * 30 * DAY)))
        return rows


def cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def next_opening(t: float) -> float:
    """The next 09:00 local after ``t`` (``t`` itself if it is 09:00)."""
    local = (t + OFFSET) % DAY
    opening = OPEN_HOUR * HOUR
    return t + (opening - local) % DAY


def in_hours(t: float, rng: random.Random) -> float:
    """``t``, or a time the next opening hours if the store is closed then."""
    hour = (t + OFFSET) % DAY / HOUR
    if OPEN_HOUR + 1 <= hour < CLOSE_HOUR - 1:
        return t
    return next_opening(t) + rng.uniform(1, 10) * HOUR


# -- indexes, the load, the figures ------------------------------------------------------

def secondary_indexes(cursor, tables) -> list[tuple[str, str]]:
    """The indexes of ``tables`` that back no constraint (name, definition)."""
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                   "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint) "
                   "ORDER BY indexname", (list(tables),))
    return cursor.fetchall()


def load(urls: dict, size: Size, progress=print, rebuild_indexes: bool = True) -> dict:
    """Write the group into the databases ``urls`` (service: SQLAlchemy or
    libpq URL, at head); the counts and timings."""
    size.check()
    rng, started = random.Random(size.seed), time.monotonic()
    stores, admin = organisation(size, rng)
    users = write_organisation(urls, stores, admin)
    progress(f"organisation: {len(stores)} stores, {users} users ({time.monotonic() - started:.1f} s)")
    dropped = {}
    if rebuild_indexes:
        for service, tables in BIG.items():
            with connect(urls[service]) as connection, connection.cursor() as cursor:
                dropped[service] = secondary_indexes(cursor, tables)
                for name, _ in dropped[service]:
                    cursor.execute(f'DROP INDEX "{name}"')
                connection.commit()
    group = Group(size, stores, rng)
    group.leads = Loader(urls["leads"], {"leads": LEAD_COLUMNS, "lead_events": EVENT_COLUMNS,
                                         "assignments": ASSIGNMENT_COLUMNS, "source_costs": COST_COLUMNS})
    group.followups = Loader(urls["followups"], {"followup_records": RECORD_COLUMNS, "tasks": TASK_COLUMNS,
                                                 "lead_states": STATE_COLUMNS})
    loaders = (group.leads, group.followups)
    try:
        group.leads.rows["source_costs"].extend(group.source_costs())
        done, shown = 0, 0.0
        for count in group.batches():
            done += count
            # a batch's copies in the followups service first: a running leads service may re-route a
            # lead it has just been given (its deadline passed while loading), and the followups
            # service then updates the lead's copy instead of making one this load would collide with
            group.leads.flush(after=group.followups.flush())
            if done / size.leads >= shown + 0.05 or done == size.leads:
                shown = done / size.leads
                elapsed = time.monotonic() - started
                progress(f"leads {done:,}/{size.leads:,} ({shown:.0%}), follow-ups "
                         f"{size.followups - group.records_left:,}, tasks {group.counts['tasks']:,}; "
                         f"{elapsed:.0f} s, about {elapsed / shown - elapsed:.0f} s to go")
    finally:
        for loader in loaders:
            loader.close()
    generated = time.monotonic() - started
    for service, indexes in dropped.items():
        with connect(urls[service]) as connection, connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem TO '512MB'")
            for name, definition in indexes:
                progress(f"{service}: building {name}")
                cursor.execute(definition)
                connection.commit()
    indexed = time.monotonic() - started
    progress("VACUUM ANALYZE")
    for service in ("gateway", "leads", "followups", "notifications"):
        connection = psycopg2.connect(psycopg_url(urls[service]))
        connection.autocommit = True
        with closing(connection), connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    counts = dict(group.counts, stores=len(stores), users=users,
                  consultants=sum(len(s.consultants) for s in stores), leads=size.leads,
                  followups=size.followups - group.records_left)
    counts["on_time_rate"] = round(counts.pop("tasks_on_time") / max(1, counts.pop("tasks_due")), 3)
    copied = {table: n for loader in loaders for table, n in loader.counts.items()}
    return {"counts": counts, "copied": copied,
            "seconds": {"rows_and_copy": round(generated, 1), "indexes": round(indexed - generated, 1),
                        "vacuum_analyze": round(time.monotonic() - started - indexed, 1),
                        "total": round(time.monotonic() - started, 1)},
            "bytes": database_sizes(urls), "seed": size.seed, "now": size.now.isoformat(),
            "logins": {"group_admin": ADMIN, "manager": stores[0].manager["username"],
                       "consultant": stores[0].consultants[0]["username"], "password": PASSWORD},
            "stores": [s.code for s in stores]}


def database_sizes(urls: dict) -> dict:
    sizes = {}
    for service, url in urls.items():
        with closing(psycopg2.connect(psycopg_url(url))) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            sizes[service] = cursor.fetchone()[0]
    return sizes


def stack_urls(stack) -> dict:
    """The databases of a running ``Stack`` (PostgreSQL)."""
    if stack.backend != "postgresql":
        raise ValueError("the data set is written into PostgreSQL databases")
    return dict(stack.databases)


# -- make bench-data ---------------------------------------------------------------------

def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__.split("\n\n")[0])
    add, default = parser.add_argument, Size()
    add("--stores", type=int, default=default.stores)
    add("--consultants", type=int, default=default.consultants)
    add("--leads", type=int, default=default.leads)
    add("--followups", type=int, default=default.followups, help="follow-up records")
    add("--years", type=float, default=default.years)
    add("--seed", type=int, default=default.seed)
    add("--now", type=datetime.fromisoformat, default=None,
        help="the moment the data ends (ISO 8601, with its offset); default: now. Same seed, same --now: "
             "the same data")
    add("--server", default=DEFAULT_SERVER,
        help="PostgreSQL server, as a libpq URL (env BENCH_DATA_SERVER); the user must create databases")
    add("--prefix", default=DEFAULT_PREFIX,
        help="the databases are <prefix><service>, created and migrated if missing (env BENCH_DATA_PREFIX)")
    add("--replace", action="store_true", help="drop the databases first if they exist")
    add("--keep-indexes", action="store_true", help="keep the indexes up to date while loading (slower)")
    return parser.parse_args(argv)


def admin_execute(server: str, statement: str) -> None:
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres")
    connection.autocommit = True
    with closing(connection), connection.cursor() as cursor:
        cursor.execute(statement)


def prepare(server: str, prefix: str, replace: bool) -> dict:
    """The five databases, made and migrated with the services' own Alembic
    migrations; refuses to write into one that holds leads already."""
    from dealerflow.migrations import upgrade
    urls = {}
    for service in SERVICES:
        name = f"{prefix}{service}"
        if replace:
            admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with connect(f"{server.rstrip('/')}/postgres") as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            exists = cursor.fetchone() is not None
        if not exists:
            admin_execute(server, f'CREATE DATABASE "{name}"')
        urls[service] = f"{server.replace('postgresql://', 'postgresql+psycopg2://', 1).rstrip('/')}/{name}"
        upgrade(service, urls[service])
    with closing(psycopg2.connect(psycopg_url(urls["gateway"]))) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM users WHERE username = %s", (ADMIN,))
        if cursor.fetchone()[0]:
            raise SystemExit(f"{prefix}gateway holds a generated group already: --replace to start again")
    return urls


def check_disk(server: str, size: Size) -> None:
    """Stop before a load that would fill the disk (about 3 kB a lead with its follow-ups, twice over)."""
    try:
        with connect(f"{server.rstrip('/')}/postgres") as connection, connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            directory = cursor.fetchone()[0]
        free = shutil.disk_usage(directory).free
    except (psycopg2.Error, OSError):
        return  # not a local server, or not ours to look at
    need = 2 * (size.leads * 1800 + size.followups * 600)
    if free < need:
        raise SystemExit(f"{free / 1e9:.1f} GB free under {directory}; this data set wants about "
                         f"{need / 1e9:.1f} GB")


def main(argv=None) -> int:
    options = parse_args(argv if argv is not None else sys.argv[1:])
    size = Size(options.stores, options.consultants, options.leads, options.followups, options.years,
                options.seed, options.now or datetime.now(timezone.utc))
    try:
        size.check()
    except ValueError as exc:
        raise SystemExit(str(exc))
    check_disk(options.server, size)
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    progress(f"databases {options.prefix}<service> on {options.server}")
    urls = prepare(options.server, options.prefix, options.replace)
    result = load(urls, size, progress, rebuild_indexes=not options.keep_indexes)
    counts = result["counts"]
    print(f"\n{counts['stores']} stores, {counts['consultants']:,} consultants, {counts['leads']:,} leads "
          f"(won {counts['won']:,}, lost {counts['lost']:,}, pending {counts['loss_pending']:,}, open "
          f"{counts['open']:,}, pooled {counts['pooled']:,}), {counts['followups']:,} follow-up records, "
          f"{counts['tasks']:,} tasks (on time {counts['on_time_rate']:.0%}), "
          f"in {result['seconds']['total']:.0f} s; "
          f"{sum(result['bytes'].values()) / 1e9:.2f} GB on disk")
    print("\nTo run Dealerflow on it (make run migrates, seeds the demo group beside it, and starts):\n")
    for service, url in urls.items():
        print(f"  export {service.upper()}_DATABASE_URL={url}")
    print(f"  make run\n\nSign in as {ADMIN} (the group), {result['logins']['manager']} (a store) or "
          f"{result['logins']['consultant']}, password {PASSWORD}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
