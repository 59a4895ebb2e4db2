"""Customers at a dealer group's scale, on the running system: how long a
dealer's 100,000-row Excel list takes to import (and what memory the
customers service needs for it), and how fast staff find a customer by a
phone fragment or a name once the group has a million of them (PostgreSQL).

Both go through HTTP as ``manager.sh`` (store ``SH-PUDONG``), as staff
would. The spreadsheet is generated at bench time into the stack's workdir;
the million customers are COPYed straight into the customers service's
database (creating them through the API would take the system hours)."""
import csv
import io
import os
import random
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from functools import cache

import openpyxl
import psycopg2
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from bench.common import cpu_snapshot, latency, say, settle
from bench.staff import MANAGER, STORE, connect, sign_in
from bench.system import labels
from dealerflow.actor import MANAGER as MANAGER_ROLE
from dealerflow.actor import USER, Actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ("客户姓名", "手机号", "邮箱", "城市", "意向品牌", "意向车型", "预算", "来源", "备注", "登记日期")
OTHER_STORE = "BJ-CHAOYANG"
POLL_S = 0.5

# The commonest Chinese surnames, the first ones far more often, as in life.
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
            "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵")
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "霞", "平", "刚", "辉", "玲", "鹏", "华", "飞", "鑫", "波", "斌", "宇", "浩", "凯", "健", "俊", "帆",
         "晨", "阳", "婷", "雪", "琳", "欣", "建华", "建国", "志强", "秀英", "桂英", "晓东", "海燕", "丽娟",
         "子涵", "浩然", "梓轩", "一诺", "欣怡", "雨桐", "思远", "佳怡", "俊杰", "文博", "嘉怡", "明轩",
         "晓明", "志伟", "红梅", "春梅", "国庆", "海涛", "金凤", "玉兰", "永刚", "丽华")
CITIES = (("上海", 80), ("苏州", 6), ("杭州", 4), ("南通", 3), ("嘉兴", 3), ("", 4))
CARS = (("比亚迪", "汉EV"), ("比亚迪", "海豹"), ("比亚迪", "宋PLUS DM-i"), ("特斯拉", "Model Y"),
        ("特斯拉", "Model 3"), ("蔚来", "ET5"), ("理想", "L7"), ("小米", "SU7"), ("问界", "M7"),
        ("大众", "ID.4"), ("丰田", "凯美瑞"), ("本田", "雅阁"), ("", ""))
BUDGETS = ("10-15万", "15-20万", "20-25万", "20-30万", "25万左右", "30万以上", "30-40万", "40万以上", "")
SOURCES = ("汽车之家", "懂车帝", "易车", "到店", "车展", "老客户介绍", "抖音", "电话咨询")
NOTES = ("关注续航，家里能装充电桩", "想置换旧车，问了贷款方案", "价格敏感，在对比特斯拉", "周末带家人来试驾",
         "二胎家庭，看重空间", "担心保值率", "问了金融政策，首付想低一点", "已在别家下定，再比较一下",
         "油耗太高想换新能源", "")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com")
BAD_PHONES = ("1381234567", "12345678901", "138-0013-800", "无", "0000000")
BAD_EMAILS = ("wang@", "zhang.qq.com", "li@@163.com")


def surname_weights() -> list[float]:
    return [1 / (rank + 3) for rank in range(len(SURNAMES))]  # the first few are 5-7 % each


@cache
def name_pool() -> tuple[list[str], list[float]]:
    """Every surname with every given name, and how often each is met."""
    names, weights = [], []
    for surname, weight in zip(SURNAMES, surname_weights()):
        for given in GIVEN:
            names.append(surname + given)
            weights.append(weight)
    return names, weights


# -- the import ------------------------------------------------------------------

def mobile(s: int) -> str:
    """The s-th of the 500 million mobiles 135-139 xxxx xxxx (all really in use)."""
    return f"13{5 + s // 10**8}{s % 10**8:08d}"


def write_spreadsheet(path, rows: int, seed: int = 2026) -> dict:
    """A dealer's customer list as Excel exports it (write-only openpyxl, so
    100,000 rows never sit in memory): names, unique mobiles typed several
    ways, some emails, budgets like 15-20万, Excel dates; about 3 % of rows
    are bad (no real phone, a broken email or budget, an ambiguous date) and
    2 % repeat an earlier row's phone. Returns what went in."""
    rng = random.Random(seed)
    names, weights = name_pool()
    numbers = rng.sample(range(5 * 10**8), rows)
    cities, city_weights = zip(*CITIES)
    today, planted = date.today(), Counter()
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("客户名单")
    sheet.append(["2025年客户名单（浦东店）"])  # a banner above the header, as dealers' files have
    sheet.append(list(HEADERS))
    for n in range(rows):
        phone = mobile(numbers[n])
        style = rng.random()
        if style < 0.1:
            phone = int(phone)                                     # stored as a number
        elif style < 0.15:
            phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        elif style < 0.2:
            phone = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
        email = (f"{10000 + n * 37}@{rng.choice(EMAIL_DOMAINS)}" if rng.random() < 0.3 else None)
        brand, model = rng.choice(CARS)
        registered = today - timedelta(days=rng.randrange(3 * 365))
        row = [rng.choices(names, weights)[0], phone, email, rng.choices(cities, city_weights)[0] or None,
               brand or None, model or None, rng.choice(BUDGETS) or None, rng.choice(SOURCES),
               (rng.choice(NOTES) or None) if rng.random() < 0.3 else None,
               registered if rng.random() < 0.95 else registered.isoformat()]
        fault = rng.random()
        if n > 100 and fault < 0.02:
            row[1], planted["duplicate_phone"] = mobile(numbers[rng.randrange(n - 100)]), planted["duplicate_phone"] + 1
        elif fault < 0.035:
            row[1], planted["bad_phone"] = rng.choice(BAD_PHONES), planted["bad_phone"] + 1
        elif fault < 0.04:
            row[2], planted["bad_email"] = rng.choice(BAD_EMAILS), planted["bad_email"] + 1
        elif fault < 0.045:
            row[6], planted["bad_budget"] = "15", planted["bad_budget"] + 1        # 15 yuan: 万 forgotten
        elif fault < 0.048:
            row[9], planted["bad_date"] = registered.strftime("%-m/%-d/%Y"), planted["bad_date"] + 1
        sheet.append(row)
    book.save(path)
    return {"rows": rows, "bytes": os.path.getsize(path), "planted": dict(planted)}


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    return tree


def memory_mb(pid: int) -> dict:
    """VmHWM (peak resident) and VmRSS of the process and each descendant, in MB; the largest peak."""
    found = {}
    for each in process_tree(pid):
        try:
            with open(f"/proc/{each}/status") as f:
                fields = dict(line.split(":", 1) for line in f if line.startswith(("VmHWM", "VmRSS")))
        except OSError:
            continue
        found[each] = {key.lower(): round(int(value.split()[0]) / 1024, 1) for key, value in fields.items()}
    return {"peak_mb": max((m["vmhwm"] for m in found.values()), default=None),
            "rss_mb": max((m["vmrss"] for m in found.values()), default=None), "processes": found}


class Client:
    """A keep-alive session signed in as ``username``; signs in again on a 401."""

    def __init__(self, stack, username: str):
        self.stack, self.username, self.session = stack, username, requests.Session()
        self.session.headers.update(sign_in(stack, username))

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        answer = self.session.request(method, self.stack.url + path, timeout=120, **kwargs)
        if answer.status_code == 401:
            self.session.headers.update(sign_in(self.stack, self.username))
            answer = self.session.request(method, self.stack.url + path, timeout=120, **kwargs)
        return answer

    def close(self) -> None:
        self.session.close()


def import_figures(stack, options) -> dict:
    """A generated ``--import-rows`` spreadsheet through upload, dry run and
    commit, as ``manager.sh`` into SH-PUDONG: each step's time (polled every
    0.5 s), the customers service's memory, and what was created, matched
    and rejected. Gives up after ``--import-budget`` seconds and says where
    the import was."""
    path = stack.workdir / "customers.xlsx"
    started = time.monotonic()
    result = {"file": write_spreadsheet(path, options.import_rows)}
    result["file"]["generate_s"] = round(time.monotonic() - started, 1)
    say(f"  import: {options.import_rows:,} rows generated in {result['file']['generate_s']:g} s, "
        f"{result['file']['bytes'] / 1e6:.1f} MB")
    customers_pid = stack.processes["customers"].pid
    result["memory_before"] = memory_mb(customers_pid)
    result["settled_s"] = settle()
    client, samples, who = Client(stack, MANAGER), [], labels(stack)
    deadline = time.monotonic() + options.import_budget
    steps, job = {}, None

    def wait(step: str, until: str, step_started: float) -> dict | None:
        """Poll until the import is ``until``; None if it failed or the budget ran out."""
        nonlocal job, cpu
        while True:
            answer = client.call("GET", f"/v1/customers/imports/{job['id']}")
            rss = memory_mb(customers_pid)["rss_mb"]
            samples.append(rss)
            if answer.status_code == 200:
                job = answer.json()
            if job["status"] == until or job["status"] == "failed" or time.monotonic() > deadline:
                seconds = time.monotonic() - step_started
                now = cpu_snapshot(who)
                used, cpu = cpu_seconds(cpu, now), now
                steps[step] = {"seconds": round(seconds, 1), "status": job["status"],
                               "processed": job["processed"], "total": job["total"], "cpu_s": used}
                if job["processed"] and step != "upload":
                    steps[step]["rows_per_s"] = round(job["processed"] / seconds, 1)
                say(f"  import {step}: {job['status']} after {seconds:.1f} s "
                    f"({job['processed']:,} of {job['total'] or 0:,} rows, customers RSS {rss} MB; CPU s {used})")
                return job if job["status"] == until else None
            time.sleep(POLL_S)

    try:
        t0, cpu = time.monotonic(), cpu_snapshot(who)
        with open(path, "rb") as f:
            answer = client.call("POST", f"/v1/customers/imports?store_code={STORE}&filename=客户名单.xlsx",
                                 data=f.read(), headers={"Content-Type": XLSX})
        if answer.status_code != 201:
            raise RuntimeError(f"the upload answered {answer.status_code}: {answer.text[:300]}")
        job = answer.json()
        result["upload_answer_s"] = round(time.monotonic() - t0, 2)
        done = wait("upload", "uploaded", t0)
        if done:
            result["mapping"] = {job["headers"][int(i)]: field for i, field in job["mapping"].items()}
            t1 = time.monotonic()
            answer = client.call("POST", f"/v1/customers/imports/{job['id']}/dry-run",
                                 json={"mapping": job["mapping"]})
            answer.raise_for_status()
            done = wait("dry_run", "checked", t1)
        if done:
            result["checked"] = {key: job[key] for key in ("total", "created", "matched", "rejected")}
            result["rejected_reasons"] = reasons(client, job["id"])
            t2 = time.monotonic()
            answer = client.call("POST", f"/v1/customers/imports/{job['id']}/commit", json={"skip_rejected": True})
            answer.raise_for_status()
            done = wait("commit", "done", t2)
        result["total_s"] = round(time.monotonic() - t0, 1)
    finally:
        client.close()
    result.update(steps=steps, status=job["status"] if job else None, error=job and job.get("error"),
                  gave_up=bool(job) and job["status"] not in ("done", "failed"),
                  budget_s=options.import_budget,
                  counts={key: job[key] for key in ("created", "matched", "rejected")} if job else None,
                  memory_after=memory_mb(customers_pid),
                  rss_sampled_max_mb=max(samples, default=None))
    result["memory_peak_mb"] = result["memory_after"]["peak_mb"]
    return result


def cpu_seconds(before: tuple, after: tuple) -> dict:
    """CPU seconds each group of processes (``cpu_snapshot``) used between two
    snapshots, from 0.1 s: the customers service's and PostgreSQL's (all its
    processes) apart from anyone else's (``other``) on a shared machine."""
    used = {group: seconds - before[1].get(group, 0) for group, seconds in after[1].items()}
    return {group: round(seconds, 1) for group, seconds in sorted(used.items(), key=lambda kv: -kv[1])
            if seconds >= 0.1}


def reasons(client: Client, import_id: str) -> dict:
    """How many of the listed (first 1,000) rejected rows were rejected for each field."""
    answer = client.call("GET", f"/v1/customers/imports/{import_id}")
    found = Counter()
    for row in answer.json().get("rows", []):
        if row.get("outcome") == "reject":
            found.update((row.get("errors") or {}).keys())
    return dict(found)


def describe_import(result: dict) -> str:
    steps = result["steps"]
    parts = [f"{step} {s['seconds']:g} s" for step, s in steps.items()]
    return (f"{result['file']['rows']:,} rows ({result['file']['bytes'] / 1e6:.1f} MB): "
            + ", ".join(parts) + f", total {result.get('total_s')} s; status {result['status']}"
            + (" (gave up)" if result["gave_up"] else "")
            + f"; counts {result['counts']}; customers peak {result['memory_peak_mb']} MB")


# -- search at a million customers (PostgreSQL) -----------------------------------

FILL_PREFIXES = ("150", "151", "152", "153", "155", "156", "157", "158", "159", "186", "187", "188", "189")
FILL_BATCH = 50_000
SEARCH_WARM_UP = 20
SEARCH_BUDGET_S = 120   # at most this long per kind for the timed requests
PAGE = 50               # the default page size


def fill_national(n: int) -> str:
    """The n-th loaded customer's mobile: unique (48271 is prime to 10^8), and
    apart from the import's 135-139 and the leads' 139."""
    return FILL_PREFIXES[n % len(FILL_PREFIXES)] + f"{(n // len(FILL_PREFIXES) * 48271 + 12345) % 10**8:08d}"


@cache
def folded_pool() -> dict[str, tuple[str, str]]:
    """Each pool name's name_key and initials, computed as the service does."""
    from services.customers.contacts import initials, name_key
    return {name: (name_key(name), initials(name)) for name in name_pool()[0]}


def consultants_by_store(stack) -> dict[str, list[str]]:
    with connect(stack, "gateway") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT s.store_code, u.id FROM users u JOIN user_stores s ON s.user_id = u.id "
                       "WHERE u.role = 'consultant' ORDER BY u.username")
        found = {}
        for store, user_id in cursor.fetchall():
            found.setdefault(store, []).append(user_id)
        return found


def fill_rows(rng: random.Random, first: int, last: int, now: datetime, consultants: dict) -> tuple:
    """CSV text for customers, customer_phones, customer_leads and customer_emails, customers first..last-1."""
    names, weights = name_pool()
    folded = folded_pool()
    out = {table: io.StringIO() for table in ("customers", "customer_phones", "customer_leads", "customer_emails")}
    writers = {table: csv.writer(buffer) for table, buffer in out.items()}
    picked = rng.choices(names, weights, k=last - first)
    for n, name in zip(range(first, last), picked):
        customer_id = str(uuid.uuid4())
        store = STORE if rng.random() < 0.85 else OTHER_STORE
        created = now - timedelta(seconds=rng.uniform(0, 2 * 365 * 86400))
        updated = created + (now - created) * rng.random() ** 3
        from_lead = rng.random() < 0.6
        consultant = rng.choice(consultants[store]) if from_lead and consultants.get(store) else None
        key, letters = folded[name]
        writers["customers"].writerow((
            customer_id, name, key, letters, "上海" if store == STORE else "北京",
            rng.choice(("autohome", "dongchedi", "yiche", "walk_in")) if from_lead else "import",
            store, consultant, "potential", "[]", "{}", created.isoformat(), updated.isoformat(), 1))
        national = fill_national(n)
        writers["customer_phones"].writerow((customer_id, "+86" + national, "", national,
                                             ("86" + national)[::-1], created.isoformat()))
        if from_lead:
            writers["customer_leads"].writerow((str(uuid.uuid4()), customer_id, store, "autohome", consultant,
                                                created.isoformat()))
        if store == OTHER_STORE and rng.random() < 0.03:  # also asked at the other store: manager.sh sees it
            writers["customer_leads"].writerow((str(uuid.uuid4()), customer_id, STORE, "dongchedi", None,
                                                updated.isoformat()))
        if rng.random() < 0.2:
            writers["customer_emails"].writerow((customer_id, f"c{n}@163.com", created.isoformat()))
    for buffer in out.values():
        buffer.seek(0)
    return out


COPIES = {
    "customers": "COPY customers (id, name, name_key, initials, city, source, store_code, owner_id, lifecycle, "
                 "tags, preferences, created_at, updated_at, revision) FROM STDIN WITH (FORMAT csv)",
    "customer_phones": "COPY customer_phones (customer_id, e164, extension, national, reversed, added_at) "
                       "FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (extension))",
    "customer_leads": "COPY customer_leads (lead_id, customer_id, store_code, source, consultant_id, linked_at) "
                      "FROM STDIN WITH (FORMAT csv)",
    "customer_emails": "COPY customer_emails (customer_id, email, added_at) FROM STDIN WITH (FORMAT csv)",
}


def fill_customers(stack, total: int) -> dict:
    """Bring the customers service's database to ``total`` customers, then
    VACUUM ANALYZE (what autovacuum would have done by then)."""
    rng, now, started = random.Random(2027), datetime.now(timezone.utc), time.monotonic()
    consultants = consultants_by_store(stack)
    with connect(stack, "customers") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers")
        existing = cursor.fetchone()[0]
        for first in range(0, max(0, total - existing), FILL_BATCH):
            last = min(first + FILL_BATCH, total - existing)
            for table, buffer in fill_rows(rng, first, last, now, consultants).items():
                cursor.copy_expert(COPIES[table], buffer)
            connection.commit()
            if (last // FILL_BATCH) % 4 == 0:
                say(f"  search: {existing + last:,} customers")
        loaded_s = time.monotonic() - started
        connection.autocommit = True
        for table in COPIES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        counts = {}
        for table in COPIES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM customers WHERE store_code = %s", (STORE,))
        in_store = cursor.fetchone()[0]
    return {"customers": counts["customers"], "loaded": counts["customers"] - existing, "rows": counts,
            "in_store": in_store, "load_s": round(loaded_s, 1),
            "vacuum_analyze_s": round(time.monotonic() - started - loaded_s, 1)}


def queries(rng: random.Random, loaded: int) -> dict:
    """Each kind of search, as a function giving the next ``q``."""
    names, weights = name_pool()
    folded = folded_pool()
    return {
        "phone_last4": lambda: f"{rng.randrange(10000):04d}",
        "phone_first7": lambda: fill_national(rng.randrange(max(loaded, 1)))[:7],
        "name": lambda: rng.choices(names, weights)[0],
        "initials": lambda: folded[rng.choices(names, weights)[0]][1],
    }


def timed_searches(client: Client, next_q, count: int) -> dict:
    """``count`` sequential searches (within ``SEARCH_BUDGET_S``) after a warm-up."""
    for _ in range(SEARCH_WARM_UP):
        client.call("GET", "/v1/customers", params={"q": next_q()})
    timings, items, others = [], [], Counter()
    deadline = time.monotonic() + SEARCH_BUDGET_S
    while len(timings) + others.total() < count and time.monotonic() < deadline:
        q = next_q()
        started = time.perf_counter()
        answer = client.session.get(client.stack.url + "/v1/customers", params={"q": q}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code == 200:
            timings.append(elapsed)
            items.append(len(answer.json()["items"]))
        else:
            others[str(answer.status_code)] += 1
    return {"requests": len(timings) + others.total(), "other_statuses": dict(others),
            "latency_ms": latency(timings, (50, 95, 99, 100)),
            "items": {"mean": round(sum(items) / len(items), 1) if items else None, "min": min(items, default=None),
                      "max": max(items, default=None), "full_pages": sum(1 for i in items if i == PAGE)}}


def manager_actor(stack) -> Actor:
    with connect(stack, "gateway") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT u.id, s.store_code FROM users u JOIN user_stores s ON s.user_id = u.id "
                       "WHERE u.username = %s", (MANAGER,))
        rows = cursor.fetchall()
    return Actor(kind=USER, stores=tuple(sorted(store for _, store in rows)), user_id=rows[0][0], role=MANAGER_ROLE)


def search_sql(session, actor: Actor, q: str) -> str:
    """The first page's SQL of ``search.search_customers`` for ``q`` (default
    sort ``-updated_at``, 50 a page, so 51 rows asked; the page's ids and sort
    values, as the service asks them before the customers), with its values
    inlined (a phone's matches' ids, when few, are looked up first, as the service does)."""
    from sqlalchemy.orm import load_only

    from services.customers.models import Customer
    from services.customers.scoping import visible_customers
    from services.customers.search import matches_q
    statement = (select(Customer).options(load_only(Customer.id, Customer.updated_at))
                 .where(visible_customers(actor)).where(matches_q(session, q))
                 .order_by(Customer.updated_at.desc(), Customer.id.desc()).limit(PAGE + 1))
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


WALK = "Scan Backward using ix_customers_updated_at"  # the plan that reads customers newest first
PLAN_SAMPLES = 100      # queries of each kind whose plan (EXPLAIN, not run) is looked at


def explain(stack, actor: Actor, kinds: dict) -> dict:
    """Per kind: how many of ``PLAN_SAMPLES`` queries PostgreSQL plans as a
    walk of all customers newest first (filtering each by ``q``) rather than
    from the fragment's own index; and EXPLAIN (ANALYZE, BUFFERS) of one
    query (one that walks, if any does; at most 10 s)."""
    plans = {}
    engine = create_engine(stack.databases["customers"])
    with connect(stack, "customers") as connection, connection.cursor() as cursor, Session(engine) as session:
        cursor.execute("SET statement_timeout = '10s'")
        for kind, next_q in kinds.items():
            walking, chosen = [], None
            for _ in range(PLAN_SAMPLES):
                q = next_q()
                cursor.execute("EXPLAIN " + search_sql(session, actor, q))
                if any(WALK in row[0] for row in cursor.fetchall()):
                    walking.append(q)
                chosen = chosen or q
            q = walking[0] if walking else chosen
            sql = search_sql(session, actor, q)
            try:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                lines = [row[0] for row in cursor.fetchall()]
            except psycopg2.errors.QueryCanceled:
                connection.rollback()
                cursor.execute("SET statement_timeout = '10s'")
                cursor.execute("EXPLAIN " + sql)
                lines = ["(EXPLAIN ANALYZE cancelled after 10 s; the plan:)"] + [row[0] for row in cursor.fetchall()]
            execution = next((float(line.split()[-2]) for line in lines if line.startswith("Execution Time")), None)
            plans[kind] = {"q": q, "walks": WALK in "\n".join(lines), "sql": sql, "plan": lines,
                           "execution_ms": execution, "sampled": PLAN_SAMPLES, "walking": len(walking),
                           "walking_examples": walking[:10]}
        connection.rollback()
    engine.dispose()
    return plans


def search_figures(stack, options) -> dict:
    """``GET /v1/customers?q=`` with ``--search-customers`` customers in the
    database, as ``manager.sh``: ``--search-requests`` sequential searches of
    each kind on one keep-alive session, and the plan of one of each kind."""
    try:
        result = fill_customers(stack, options.search_customers)
    except psycopg2.Error as exc:
        raise RuntimeError(f"loading the customers failed: {exc}") from exc
    say(f"  search: {result['customers']:,} customers ({result['loaded']:,} loaded in {result['load_s']:g} s, "
        f"VACUUM ANALYZE {result['vacuum_analyze_s']:g} s), {result['in_store']:,} in {STORE}")
    result["settled_s"] = settle()
    rng = random.Random(2028)
    kinds = queries(rng, result["loaded"])
    client, result["kinds"] = Client(stack, MANAGER), {}
    try:
        for kind, next_q in kinds.items():
            timed = result["kinds"][kind] = timed_searches(client, next_q, options.search_requests)
            n = timed["latency_ms"]
            say(f"  search {kind}: {timed['requests']} requests, p50/p95/p99 {n['p50']}/{n['p95']}/{n['p99']} ms, "
                f"items mean {timed['items']['mean']}, others {timed['other_statuses'] or '-'}")
    finally:
        client.close()
    result["plans"] = explain(stack, manager_actor(stack), kinds)
    for kind, plan in result["plans"].items():
        say(f"  plan {kind}: {plan['walking']} of {plan['sampled']} planned as a walk of customers by updated_at; "
            f"q={plan['q']}: {plan['execution_ms']} ms in PostgreSQL" + (" (walks)" if plan["walks"] else ""))
    return result
