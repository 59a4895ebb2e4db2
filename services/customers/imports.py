"""Importing customers from a spreadsheet: upload, dry run, import.

An upload is stored with the header row found and a suggested mapping.
The dry run and the import are work in the background: a timer of the
service (``advance``) takes an import that waits, under a lease in the
database (one replica at a time; another takes over when the lease runs out,
after a crash), and works through it in batches, each committed with its
progress, so that ``GET`` shows how far it is and a restart resumes it.

The dry run reads every row (``spreadsheet.read_row``), reads its phones
and emails like every other customer's, and decides: ``create``, ``match``
(an existing customer's phone or email, or an earlier row of the file), or
``reject`` (with why). The import creates the ``create`` rows; a row whose
contact was taken since the dry run becomes a match. Matched customers are
left as they are. If the import fails, it is undone: the customers it
created are removed and it is marked ``failed``.
"""
import base64
import binascii
import contextvars
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.db import utcnow
from dealerflow.ops import progress
from services.customers import contacts, spreadsheet
from services.customers.derived import lexicon, new_traits
from services.customers.exceptions import CustomerNotFound, ImportNotReady, InvalidCustomer, NotAllowed
from services.customers.inserts import insert_batch
from services.customers.models import (
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomerTerm,
    Import,
    ImportRow,
    TimelineEntry,
    Trait,
)
from services.customers.profiles import (
    check_store,
    customer_row,
    email_rows,
    owners_of,
    phone_rows,
    term_rows,
    timeline_row,
)

log = logging.getLogger(__name__)

MAX_FILE = 20 * 1024 * 1024
MAX_ROWS = 200_000  # data rows an import reads: a compressed workbook can hold millions in 20 MiB
BATCH = 1000          # rows per committed step: the service's other work runs between two
YIELD_EVERY = 50      # rows an import makes between two green yields
LEASE = timedelta(seconds=60)
SAMPLE_ROWS = 5
REPORTED_ROWS = 1000  # rejected and matched rows an import's answer lists
WAITING = ("reading", "checking", "importing")
COUNTERS = {"create": "created", "match": "matched", "reject": "rejected"}


def may_import(actor: Actor) -> None:
    if not actor.is_user or actor.role == CONSULTANT:
        raise NotAllowed("Managers and group admins import customers.")


def find_import(session, actor: Actor, import_id: str) -> Import:
    job = session.get(Import, import_id)
    if job is None or job.store_code not in actor.stores:
        raise CustomerNotFound(f"No import {import_id}.")
    return job


def start(session, actor: Actor, store_code: str, filename: str, content_b64: str) -> dict:
    """Store an upload; its header row, suggested mapping and first rows
    are read in the background (a large workbook takes seconds to open)."""
    may_import(actor)
    check_store(actor, store_code)
    if not filename.lower().endswith((".xlsx", ".csv")):
        raise InvalidCustomer("Upload an .xlsx or a .csv file.", errors={"filename": ["Not .xlsx or .csv."]})
    try:
        content = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCustomer("The file was not sent as base64.", errors={"file": ["Not base64."]})
    if len(content) > MAX_FILE:
        raise InvalidCustomer(f"The file is over {MAX_FILE // 1024 // 1024} MiB.", errors={"file": ["Too large."]})
    now = utcnow()
    job = Import(id=str(uuid.uuid4()), store_code=store_code, actor_id=actor.user_id, filename=filename[:255],
                 status="reading", headers=[], mapping={}, sample=[], processed=0, created=0, matched=0,
                 rejected=0, skip_rejected=False, content=content, created_at=now, updated_at=now)
    session.add(job)
    session.commit()
    return view(session, job)


def read_header(session, job: Import, worker: str) -> None:
    """The header row, a suggested mapping and the first rows of an upload."""
    try:
        sheet = spreadsheet.open_sheet(job.content, job.filename)
        sample = []
        for _, values in sheet.rows:
            sample.append([value.isoformat() if isinstance(value, (date, datetime)) else value
                           for value in values])
            if len(sample) == SAMPLE_ROWS:
                break
    except spreadsheet.UnreadableFile as exc:
        finish(session, job, "failed", error=f"The file cannot be read: {exc}", content=None)
        return
    finish(session, job, "uploaded", headers=sheet.headers, sample=sample, total=sheet.total, mapping={
        str(index): field for index, field in spreadsheet.suggest_mapping(sheet.headers).items()})


def view(session, job: Import, rows: int | None = REPORTED_ROWS) -> dict:
    """The import as its answer shows it, with its first rejected and matched rows (all: None)."""
    rows = session.scalars(select(ImportRow).where(ImportRow.import_id == job.id, ImportRow.outcome != "create")
                           .order_by(ImportRow.row).limit(rows)).all()
    return dict({column: getattr(job, column) for column in (
        "id", "store_code", "filename", "status", "headers", "mapping", "total", "processed", "created",
        "matched", "rejected", "skip_rejected", "error", "created_at", "updated_at")},
        fields_=list(spreadsheet.FIELDS), sample=job.sample, rows=rows)


def get(session, actor: Actor, import_id: str, rows: int | None = REPORTED_ROWS) -> dict:
    may_import(actor)
    return view(session, find_import(session, actor, import_id), rows)


def check(session, actor: Actor, import_id: str, mapping: dict) -> dict:
    """Start the dry run with this mapping (column index -> field)."""
    may_import(actor)
    job = find_import(session, actor, import_id)
    if job.status not in ("uploaded", "checked") or job.content is None:
        raise ImportNotReady(f"The import is {job.status}; it cannot be checked again.")
    mapping = {index: field for index, field in mapping.items() if field}
    errors = {index: [f"Unknown field {field}."] for index, field in mapping.items()
              if field not in spreadsheet.FIELDS or int(index) >= len(job.headers)}
    doubled = {field for field in mapping.values() if list(mapping.values()).count(field) > 1}
    if doubled:
        errors["mapping"] = [f"Mapped twice: {', '.join(sorted(doubled))}."]
    if errors:
        raise InvalidCustomer("The mapping is not valid; see errors.", errors=errors)
    session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.mapping, job.status, job.error = mapping, "checking", None
    job.processed = job.created = job.matched = job.rejected = 0
    job.updated_at = utcnow()
    session.commit()
    return view(session, job)


def commit(session, actor: Actor, import_id: str, skip_rejected: bool) -> dict:
    """Start the import of a checked file."""
    may_import(actor)
    job = find_import(session, actor, import_id)
    if job.status != "checked":
        raise ImportNotReady(f"The import is {job.status}: run the dry run first." if job.status == "uploaded"
                             else f"The import is {job.status}.")
    if job.rejected and not skip_rejected:
        raise ImportNotReady(f"{job.rejected} rows are rejected: fix the file, or import the others with "
                             "skip_rejected.", errors={"skip_rejected": ["Required while rows are rejected."]})
    job.status, job.skip_rejected, job.processed, job.created = "importing", skip_rejected, 0, 0
    job.updated_at = utcnow()
    session.commit()
    return view(session, job)


# -- the work in the background ----------------------------------------------

def claim(session, worker: str) -> Import | None:
    """An import that waits and whose lease is free, leased to this worker."""
    now = utcnow()
    for job_id in session.scalars(select(Import.id).where(Import.status.in_(WAITING))
                                  .order_by(Import.updated_at).limit(5)).all():
        taken = session.execute(update(Import).where(
            Import.id == job_id, Import.status.in_(WAITING),
            (Import.lease_until.is_(None)) | (Import.lease_until < now) | (Import.leased_by == worker))
            .values(leased_by=worker, lease_until=now + LEASE))
        session.commit()
        if taken.rowcount == 1:
            return session.get(Import, job_id)
    return None


def advance(session, worker: str) -> bool:
    """Work on one waiting import until it is done or the lease is lost; whether there was one."""
    job = claim(session, worker)
    if job is None:
        return False
    try:
        STEPS[job.status](session, job, worker)
    except Exception as exc:  # a bug or a file that cannot be read: undo and say so
        session.rollback()
        log.exception("import %s failed", job.id)
        fail(session, job.id, repr(exc))
    return True


def renew(session, job: Import, worker: str) -> bool:
    """Commit a batch with the import's progress; False if another worker holds it now."""
    now = utcnow()
    held = session.execute(update(Import).where(Import.id == job.id, Import.leased_by == worker)
                           .values(processed=job.processed, created=job.created, matched=job.matched,
                                   rejected=job.rejected, lease_until=now + LEASE, updated_at=now))
    if held.rowcount != 1:
        session.rollback()
        return False
    session.commit()
    progress()  # a long import is not a hung worker (dealerflow.ops)
    time.sleep(0)  # a green yield: leads keep being matched while a long import runs
    return True


def finish(session, job: Import, status: str, **values) -> None:
    session.execute(update(Import).where(Import.id == job.id).values(
        status=status, leased_by=None, lease_until=None, updated_at=utcnow(), **values))
    session.commit()


def batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def dry_run(session, job: Import, worker: str) -> None:
    """Decide every row, a batch at a time: the batch's phones and emails
    are looked up in one query, its decisions inserted in one statement."""
    sheet = spreadsheet.open_sheet(job.content, job.filename)
    mapping = {int(index): field for index, field in job.mapping.items()}
    known = set(session.scalars(select(ImportRow.row).where(ImportRow.import_id == job.id)))
    seen = {}  # contact -> the row it was first seen in (this file)
    for row, found in session.execute(select(ImportRow.row, ImportRow.fields).where(
            ImportRow.import_id == job.id, ImportRow.outcome == "create")):
        for contact in contact_keys(found):
            seen.setdefault(contact, row)
    today = datetime.now(timezone.utc).date()
    fresh = ((number, values) for number, values in sheet.rows if number not in known)  # after a restart
    for batch in batches(fresh, BATCH):
        if job.processed + len(batch) > MAX_ROWS:
            session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
            finish(session, job, "failed", error=f"The file has more than {MAX_ROWS:,} rows: split it.",
                   content=None)
            return
        read = [(number, *read_row(values, mapping, today)) for number, values in batch]
        owners = owners_of(session, [phone for *_, phones, _ in read for phone in phones],
                           [email for *_, emails in read for email in emails])
        outcomes = [dict(import_id=job.id, row=number, **decide(found, errors, phones, emails, owners, seen, number))
                    for number, found, errors, phones, emails in read]
        insert_batch(session, ImportRow.__table__, outcomes)
        job.processed += len(outcomes)
        for outcome in outcomes:
            counter = COUNTERS[outcome["outcome"]]
            setattr(job, counter, getattr(job, counter) + 1)
        if not renew(session, job, worker):
            return
    if renew(session, job, worker):
        finish(session, job, "checked", total=job.processed)


def contact_keys(found: dict) -> list[tuple]:
    return [("phone", phone["e164"], phone["extension"]) for phone in found.get("phones", [])] + \
           [("email", email) for email in found.get("emails", [])]


def read_row(values, mapping, today) -> tuple[dict, dict, list, list]:
    """A row's fields and errors, and its phones and emails read like every customer's."""
    found, errors = spreadsheet.read_row(values, mapping, today=today)
    phones = []
    for raw in found.get("phones", []):
        phone = contacts.read(raw)
        if phone is None:
            errors.setdefault("phone", []).append(f"{raw} is not a real phone number.")
        elif phone not in phones:
            phones.append(phone)
    emails = []
    for raw in found.get("emails", []):
        email = contacts.normalize_email(raw)
        if email is None:
            errors.setdefault("email", []).append(f"{raw} is not an email address.")
        elif email not in emails:
            emails.append(email)
    return found, errors, phones, emails


def decide(found, errors, phones, emails, owners: dict, seen: dict, number: int) -> dict:
    """What the import will do with one row (every key, for one multi-row insert)."""
    outcome = {"outcome": "reject", "errors": errors or None, "fields": None, "customer_id": None,
               "matched_by": None}
    if errors:
        return outcome
    found = dict(found, phones=[{"e164": phone.e164, "extension": phone.extension} for phone in phones],
                 emails=emails)
    if isinstance(found.get("created_at"), datetime):
        found["created_at"] = found["created_at"].isoformat()
    mine = [(kind, owners[(kind, value)]) for kind, value in
            [("phone", phone) for phone in phones] + [("email", email) for email in emails] if (kind, value) in owners]
    if mine:
        return dict(outcome, outcome="match", customer_id=mine[0][1], matched_by=mine[0][0])
    earlier = [seen[key] for key in contact_keys(found) if key in seen]
    if earlier:
        return dict(outcome, outcome="match", matched_by=f"row {earlier[0]}")
    for key in contact_keys(found):
        seen[key] = number
    return dict(outcome, outcome="create", fields=found)


def run_import(session, job: Import, worker: str) -> None:
    """Create the rows to create, a batch at a time, each in a few multi-row
    inserts; the batch's rows are read after the last one done (keyset), so
    a batch never walks the rows before it again. A batch's rows are made
    (customers, phones, terms, timeline, traits: the import's CPU) while the
    database stores the batch before, in a thread of its own (green in the
    service, where it waits for PostgreSQL while this one works): on two
    cores, the commit took the two one after the other. The next batch and
    its contacts' owners are read before a batch is stored: the dry run
    left no contact in two rows to create."""
    with ThreadPoolExecutor(max_workers=1) as database:
        batch, stored = waiting_rows(session, job, after=0), None
        owners = owners_of_rows(session, batch)
        while batch:
            made = make_batch(job, batch, owners)
            if stored is not None and not stored.result():
                return  # the lease was lost
            following = waiting_rows(session, job, after=batch[-1].row)
            owners = owners_of_rows(session, following)
            # with this worker's context, so that the batch's progress counts for it (dealerflow.ops)
            stored = database.submit(contextvars.copy_context().run, store_batch, session, job, worker, made)
            time.sleep(0)  # a green yield: the batch's first statement is on its way before the next is made
            batch = following
        if stored is not None and not stored.result():
            return
    finish(session, job, "done", content=None, processed=job.processed, created=job.created, matched=job.matched)


def waiting_rows(session, job: Import, after: int) -> list:
    return session.execute(
        select(ImportRow.row, ImportRow.fields)
        .where(ImportRow.import_id == job.id, ImportRow.outcome == "create", ImportRow.customer_id.is_(None),
               ImportRow.row > after)
        .order_by(ImportRow.row).limit(BATCH)).all()


def owners_of_rows(session, batch) -> dict:
    return owners_of(session, [contacts.Phone(phone["e164"], phone["extension"])
                               for _, found in batch for phone in found["phones"]],
                     [email for _, found in batch for email in found["emails"]])


def make_batch(job: Import, batch, owners: dict) -> dict:
    """The rows a batch of import rows makes, as plain rows for one Core
    multi-row insert a table (no ORM object is made only to read its
    columns), with the phones the dry run read; a row whose phone or email
    someone got since the dry run becomes a match. The rows' decisions are
    written again, without the fields read, which are no longer needed."""
    now = utcnow()
    rows, tables = [], {model: [] for model in (Customer, CustomerPhone, CustomerEmail, CustomerTerm,
                                                 TimelineEntry, Trait)}
    for index, (row, found) in enumerate(batch):
        if index % YIELD_EVERY == 0:
            time.sleep(0)  # a green yield: the batch before goes on being stored meanwhile
        phones = [contacts.Phone(phone["e164"], phone["extension"]) for phone in found["phones"]]
        taken = [(kind, owners[(kind, value)]) for kind, value in [("phone", phone) for phone in phones]
                 + [("email", email) for email in found["emails"]] if (kind, value) in owners]
        decided = {"import_id": job.id, "row": row, "outcome": "create", "fields": None, "errors": None,
                   "customer_id": None, "matched_by": None}
        if taken:
            rows.append(dict(decided, outcome="match", customer_id=taken[0][1], matched_by=taken[0][0]))
            continue
        customer = customer_from_row(job, found, now)
        customer_id = customer["id"]
        rows.append(dict(decided, customer_id=customer_id))
        tables[Customer].append(customer)
        tables[CustomerPhone] += phone_rows(customer_id, phones, now)
        tables[CustomerEmail] += email_rows(customer_id, found["emails"], now)
        tables[CustomerTerm] += term_rows(customer_id, customer["tags"], customer["preferences"])
        tables[TimelineEntry].append(timeline_row(customer_id, "imported", {
            "import_id": job.id, "filename": job.filename, "row": row, "notes": found.get("notes")},
            actor_id=job.actor_id, at=now))
        if found.get("notes"):
            tables[Trait] += new_traits(customer_id, lexicon().infer(
                found["notes"], source="import_note", at=customer["created_at"], ref=job.id))
    return {"tables": tables, "rows": rows, "first": batch[0].row, "last": batch[-1].row}


def store_batch(session, job: Import, worker: str, made: dict) -> bool:
    """A made batch inserted, its rows' decisions written again (a delete
    and an insert for the batch rather than one UPDATE a row), committed
    with the import's progress; False if the lease was lost."""
    for model, values in made["tables"].items():
        insert_batch(session, model.__table__, values)
    session.execute(delete(ImportRow).where(  # the batch's rows: those waiting from its first to its last
        ImportRow.import_id == job.id, ImportRow.outcome == "create", ImportRow.customer_id.is_(None),
        ImportRow.row.between(made["first"], made["last"])))
    insert_batch(session, ImportRow.__table__, made["rows"])
    job.processed += len(made["rows"])
    job.created += len(made["tables"][Customer])
    job.matched += len(made["rows"]) - len(made["tables"][Customer])
    return renew(session, job, worker)


def customer_from_row(job: Import, found: dict, now: datetime) -> dict:
    """The customer row a row makes, every column (the batch is inserted at once)."""
    created_at = datetime.fromisoformat(found["created_at"]) if found.get("created_at") else now
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    preferences = {key: value for key, value in {
        "brands": [found["brand"]] if found.get("brand") else None,
        "models": [found["model"]] if found.get("model") else None,
        "budget": dict(found["budget"], currency="CNY") if found.get("budget") else None,
        "fuel_types": [found["fuel_type"]] if found.get("fuel_type") else None}.items() if value}
    return customer_row(found.get("name"), wechat_id=found.get("wechat_id"), city=found.get("city"),
                        language=found.get("language"), source=found.get("source"), store_code=job.store_code,
                        tags=found.get("tags") or [], preferences=preferences, created_at=created_at,
                        updated_at=now, import_id=job.id)


def fail(session, import_id: str, error: str) -> None:
    """Undo what the import created, and say why it failed."""
    created = select(Customer.id).where(Customer.import_id == import_id).scalar_subquery()
    for model in (CustomerPhone, CustomerEmail, CustomerTerm, Trait, TimelineEntry):
        session.execute(delete(model).where(model.customer_id.in_(created)))
    session.execute(update(ImportRow).where(ImportRow.import_id == import_id, ImportRow.outcome == "create")
                    .values(customer_id=None))
    session.execute(delete(Customer).where(Customer.import_id == import_id))
    session.execute(update(Import).where(Import.id == import_id).values(
        status="failed", error=error[:2000], leased_by=None, lease_until=None, updated_at=utcnow()))
    session.commit()


STEPS = {"reading": read_header, "checking": dry_run, "importing": run_import}
