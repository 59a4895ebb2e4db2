"""Lead intake for platforms: read the body, validate, make the lead safe.

The order of checks: the key (401) and its rate (429), the media type
(415) and the Idempotency-Key (400) before the body is read; then size
(413), a replayed Idempotency-Key (200, or 422 for another body), parsing
(400), validation and storability (422), the key's stores (403), and
safety (503).

A lead's identity decides its id (``identity``), so every way the same lead
comes back (the same external id, the same ADF prospect, the same
Idempotency-Key) finds the same id, even from two requests at once.

An ADF document is taken prospect by prospect: its valid prospects are
accepted and its invalid ones refused in the same answer (``validate``);
only a document with no valid prospect is refused whole (422).
"""
import hashlib
import json
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from marshmallow import ValidationError, fields
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from dealerflow.contracts import LeadSubmitted, schema
from dealerflow.db import utcnow
from dealerflow.phones import read_phone
from services.gateway.adf import AdfError, parse_adf
from services.gateway.auth import Platform
from services.gateway.errors import BadRequest, Forbidden, Invalid, UnsupportedType
from services.gateway.models import IdempotencyKey, IntakeRecord, Store
from services.gateway.platform_lead import LeadIn, country_names, country_region, phone_region
from services.gateway.storable import TooDeep, text_problem, unstorable

JSON_TYPES = ("application/json",)
XML_TYPES = ("application/xml", "text/xml", "application/x-adf+xml")
LEAD_NAMESPACE = uuid.UUID("5b0c7f3e-2d55-4c39-9d7e-4f6f1b8a8d21")
MAX_IDEMPOTENCY_KEY = 200
country_names()  # loaded as the gateway starts, so that no lead waits for it

# what the gateway itself adds to an ADF prospect, beside the platform's lead
DERIVED = ("raw", "received_at_note", "provider")


class AdfLeadIn(LeadIn):
    """An ADF prospect: its ``<requestdate>`` was judged when it was read
    (one before 1990 or in the future is dropped, with a note), so every date
    it carries is kept."""
    received_at = fields.DateTime()


def body_format(content_type: str | None) -> str:
    """``json`` or ``adf`` by the Content-Type; ``UnsupportedType`` otherwise."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in JSON_TYPES:
        return "json"
    if media in XML_TYPES:
        return "adf"
    raise UnsupportedType(
        f"Send application/json or ADF XML ({', '.join(XML_TYPES)}), not {media or 'no type'}.")


def check_idempotency_key(value: str | None) -> str | None:
    if value is not None and not 0 < len(value) <= MAX_IDEMPOTENCY_KEY:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters.")
    if value is not None and text_problem(value):
        raise BadRequest(f"Idempotency-Key: {text_problem(value)}")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_leads(content_type: str | None, body: bytes, platform: str | None = None) -> tuple[str, list[dict]]:
    """The format and the raw lead dicts of a body (each ADF one keeps ``raw``).
    An ADF prospect that names no source (no ``<id source>``, no
    ``<provider>``) is the ``platform``'s, the key's: never the dealer's."""
    if body_format(content_type) == "json":
        try:
            document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}")
        except RecursionError:
            raise BadRequest("The JSON document nests too deeply.")
        if not isinstance(document, dict):
            raise Invalid("The JSON lead must be an object.", errors={"_schema": ["Expected an object."]})
        return "json", [document]
    try:
        documents = parse_adf(body)
    except AdfError as exc:
        raise BadRequest(str(exc))
    for document in documents:
        if platform and not document.get("source"):
            document["source"] = platform
    return "adf", documents


def validate(documents: list[dict], fmt: str = "json") -> tuple[list[tuple[int, dict]], list[dict]]:
    """The leads loaded with the contract's schema, each with its index in
    the body, and the refused ones (``{"index", "errors"}``, naming every bad
    field, including values no service could store). ``Invalid`` when none
    is valid: a JSON lead's errors, or an ADF document's by prospect."""
    accepted, refused = [], []
    for index, document in enumerate(documents):
        try:
            problems = unstorable(document)
        except TooDeep as exc:
            raise BadRequest(str(exc))
        try:
            lead = schema(AdfLeadIn if fmt == "adf" else LeadIn).load(
                {k: v for k, v in document.items() if k not in DERIVED})
        except ValidationError as exc:
            problems = problems or exc.messages
        if problems:
            refused.append({"index": index, "errors": problems})
        else:
            if fmt == "adf":
                lead.update({k: document[k] for k in DERIVED if document.get(k) is not None})
            accepted.append((index, lead))
    if not accepted:
        errors = {item["index"]: item["errors"] for item in refused}
        raise Invalid("The lead does not meet the contract; see errors.",
                      errors=errors[0] if len(documents) == 1 else {"leads": errors})
    return accepted, refused


def read_and_validate(content_type: str | None, body: bytes, platform: str | None = None):
    """The format, the documents, the loaded leads (with their indexes) and
    the refused ones of a body: all the CPU work of intake, in one call that
    can run off the event loop."""
    fmt, documents = read_leads(content_type, body, platform)
    return (fmt, documents, *validate(documents, fmt))


def normalise_phones(lead: dict, store_country: str, fmt: str) -> None:
    """The lead's phone in E.164 (``phone_e164``, and ``phone_extension``),
    beside the customer's number as sent; for ADF, each of the prospect's
    ``phones`` too. A number without a country code is read in the region of
    the customer's address, else (ADF) North America when it is plainly
    written so, else the store's country."""
    customer = lead.get("customer") or {}
    address = customer.get("address") if isinstance(customer.get("address"), dict) else {}
    country = address.get("country")
    address_region = country_region(country) if isinstance(country, str) else None

    def read(number):
        return read_phone(number, phone_region(number, address_region, store_country, fmt == "adf"))

    chosen = read(customer["phone"]) if customer.get("phone") else {}
    lead["phone_e164"], lead["phone_extension"] = chosen.get("e164"), chosen.get("extension")
    if fmt == "adf":
        for phone in customer.get("phones") or []:
            phone.update(read(phone["number"]))


def store_code_for(platform: Platform, store_code: str | None) -> str:
    """The store a lead is for: the one named, which the key must serve, else
    the key's only store."""
    if store_code is None:
        if len(platform.stores) != 1:
            raise Invalid("This key serves several stores; say which.",
                          errors={"store_code": ["Required for a key that serves several stores."]})
        store_code = platform.stores[0]
    if store_code not in platform.stores:
        raise Forbidden(f"This API key may not submit leads for store {store_code}.")
    return store_code


# read for every lead: built once, run as Core (a row, no ORM objects)
ACTIVE_STORE_AND_LEDGER = select(
    Store.timezone, Store.country,
    select(IntakeRecord.lead_id).where(IntakeRecord.lead_id == bindparam("lead_id")).exists().label("known"),
).where(Store.code == bindparam("store_code"), Store.active)


def read_store(session, store_code: str, lead_id: str):
    """The active store's ``timezone`` and ``country``, and ``known``:
    whether the intake ledger has the lead already. One statement."""
    row = session.connection().execute(ACTIVE_STORE_AND_LEDGER,
                                       {"store_code": store_code, "lead_id": lead_id}).first()
    if row is None:
        raise Invalid("Unknown store.", errors={"store_code": [f"No active store {store_code}."]})
    return row


def identity(platform: Platform, store_code: str, lead: dict, raw: str | None,
             idempotency_key: str | None) -> str | None:
    """What makes a lead the same lead when it comes again, scoped to the
    platform and the store: its source and external id; else, for ADF, the
    prospect's own text; else the request's Idempotency-Key. A JSON lead with
    none of these is new every time. The same external id sent for two
    stores is two leads: a store never learns of another's."""
    scope = f"{platform.platform}:{store_code}"
    if lead.get("external_id"):
        return f"ext:{scope}:{lead['source']}:{lead['external_id']}"
    if raw:
        return f"adf:{scope}:{hashlib.sha256(raw.encode()).hexdigest()}"
    if idempotency_key:
        return f"key:{scope}:{idempotency_key}"
    return None


def lead_id_for(lead_identity: str | None) -> str:
    """The same lead always gets the same id, so that twins posted at once,
    or a publish repeated after a crash, are recognised downstream."""
    return str(uuid.uuid5(LEAD_NAMESPACE, lead_identity)) if lead_identity else str(uuid.uuid4())


def request_hash(body: bytes, store_code: str | None) -> str:
    """What an Idempotency-Key is bound to: the body and the store asked for."""
    return hashlib.sha256(body + b"\0" + (store_code or "").encode()).hexdigest()


IDEMPOTENCY_KEY_ANSWER = select(IdempotencyKey.request_hash, IdempotencyKey.lead_ids).where(
    IdempotencyKey.platform == bindparam("platform"), IdempotencyKey.key == bindparam("key"))


def replayed(session, platform: Platform, idempotency_key: str, body_hash: str) -> list[str] | None:
    """What a request with this Idempotency-Key was answered with (a lead id
    for each accepted lead, ``{"index", "errors"}`` for each refused ADF
    prospect); None for a new key. The same key with another body is refused, as
    Stripe does: the platform is confused, and guessing would lose a lead."""
    row = session.connection().execute(IDEMPOTENCY_KEY_ANSWER, {
        "platform": platform.platform, "key": idempotency_key}).first()
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise Invalid("This Idempotency-Key was used before with a different request.",
                      errors={"Idempotency-Key": ["Already used with another body; use a new key."]})
    return row.lead_ids


def prepare(session, platform: Platform, leads: list[dict], fmt: str,
            idempotency_key: str | None, store_code: str | None = None) -> list[dict]:
    """For each lead: its id, whether it is new, and its message. A lead's
    own ``store_code`` wins over the one of the request (the ``store_code``
    query parameter, for ADF senders). A lead repeated within the request
    (ADF prospects sharing an ``<id>``) is new only the first time."""
    prepared, seen = [], set()
    for lead in leads:
        code = store_code_for(platform, lead.pop("store_code", None) or store_code)
        raw = lead.pop("raw", None) if fmt == "adf" else None
        lead_id = lead_id_for(identity(platform, code, lead, raw, idempotency_key))
        store = read_store(session, code, lead_id)
        if lead.get("received_at") is not None and lead["received_at"].tzinfo is None:
            lead["received_at"] = lead["received_at"].replace(tzinfo=ZoneInfo(store.timezone))
        normalise_phones(lead, store.country, fmt)
        new = lead_id not in seen and not store.known
        seen.add(lead_id)
        prepared.append({
            "id": lead_id, "new": new, "store_code": code,
            "message": schema(LeadSubmitted).dump({
                "id": lead_id, "platform": platform.platform, "api_key_id": platform.key_id,
                "store_code": code, "submitted_at": utcnow(), "format": fmt,
                "raw": raw, "lead": lead}),
        })
    return prepared


RECORD_INTAKE = insert(IntakeRecord)


def remember(session, platform: Platform, item: dict) -> bool:
    """Write the ledger row of a published lead; False when a concurrent
    twin wrote it first (then this one is a repeat). One statement: the
    session may be ``db.for_single_writes``'s."""
    try:
        session.connection().execute(RECORD_INTAKE, {
            "lead_id": item["id"], "platform": platform.platform, "store_code": item["store_code"],
            "created_at": utcnow()})
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


RECORD_IDEMPOTENCY_KEY = insert(IdempotencyKey)


def remember_key(session, platform: Platform, idempotency_key: str, body_hash: str,
                 lead_ids: list[str]) -> None:
    """Bind the key to this request; a concurrent twin may have done it
    first. One statement, as ``remember``."""
    try:
        session.connection().execute(RECORD_IDEMPOTENCY_KEY, {
            "platform": platform.platform, "key": idempotency_key, "request_hash": body_hash,
            "lead_ids": lead_ids, "created_at": utcnow()})
        session.commit()
    except IntegrityError:
        session.rollback()


def find_accepted(session, platform: Platform, lead_id: str) -> IntakeRecord | None:
    """A lead this platform submitted that the leads service has not stored yet."""
    record = session.get(IntakeRecord, lead_id)
    if record is None or record.platform != platform.platform or record.store_code not in platform.stores:
        return None
    return record


def prune(session, retention: timedelta) -> int:
    """Forget accepted leads and Idempotency-Keys older than ``retention``;
    how many rows went. A lead long stored answers ``GET`` from the leads
    service and is recognised there by its id, so nothing is lost."""
    cutoff = utcnow() - retention
    gone = sum(session.execute(delete(model).where(model.created_at < cutoff)).rowcount
               for model in (IntakeRecord, IdempotencyKey))
    session.commit()
    return gone
