"""Lead intake for platforms: read the body, validate, make the lead safe.

The order of checks: the key (401) and its rate (429), the media type
(415) and the Idempotency-Key (400) before the body is read; then size
(413), a replayed Idempotency-Key (200, or 422 for another body), parsing
(400), validation and storability (422), the key's stores (403), and
safety (503).

A lead's identity decides its id (``identity``), so every way the same lead
comes back (the same external id, the same ADF prospect, the same
Idempotency-Key) finds the same id, even from two requests at once.
"""
import hashlib
import json
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from dealerflow.contracts import LeadSubmitted, schema
from dealerflow.db import utcnow
from services.gateway.adf import AdfError, parse_adf
from services.gateway.auth import Platform
from services.gateway.errors import BadRequest, Forbidden, Invalid, UnsupportedType
from services.gateway.models import IdempotencyKey, IntakeRecord, Store
from services.gateway.platform_lead import LeadIn
from services.gateway.storable import TooDeep, text_problem, unstorable

JSON_TYPES = ("application/json",)
XML_TYPES = ("application/xml", "text/xml", "application/x-adf+xml")
LEAD_NAMESPACE = uuid.UUID("5b0c7f3e-2d55-4c39-9d7e-4f6f1b8a8d21")
MAX_IDEMPOTENCY_KEY = 200


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


def read_leads(content_type: str | None, body: bytes) -> tuple[str, list[dict]]:
    """The format and the raw lead dicts of a body (each ADF one keeps ``raw``)."""
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
        return "adf", parse_adf(body)
    except AdfError as exc:
        raise BadRequest(str(exc))


def validate(documents: list[dict]) -> list[dict]:
    """The leads loaded with the contract's schema; ``Invalid`` names every
    bad field, including values no service could store."""
    leads, errors = [], {}
    for index, document in enumerate(documents):
        try:
            problems = unstorable(document)
        except TooDeep as exc:
            raise BadRequest(str(exc))
        try:
            lead = schema(LeadIn).load({k: v for k, v in document.items() if k != "raw"})
        except ValidationError as exc:
            problems = problems or exc.messages
        if problems:
            errors[index] = problems
        else:
            leads.append(lead)
    if errors:
        raise Invalid("The lead does not meet the contract; see errors.",
                      errors=errors[0] if len(documents) == 1 else {"leads": errors})
    return leads


def read_and_validate(content_type: str | None, body: bytes) -> tuple[str, list[dict], list[dict]]:
    """The format, the documents and the loaded leads of a body: all the
    CPU work of intake, in one call that can run off the event loop."""
    fmt, documents = read_leads(content_type, body)
    return fmt, documents, validate(documents)


def resolve_store(session, platform: Platform, store_code: str | None) -> Store:
    if store_code is None:
        if len(platform.stores) != 1:
            raise Invalid("This key serves several stores; say which.",
                          errors={"store_code": ["Required for a key that serves several stores."]})
        store_code = platform.stores[0]
    if store_code not in platform.stores:
        raise Forbidden(f"This API key may not submit leads for store {store_code}.")
    store = session.get(Store, store_code)
    if store is None or not store.active:
        raise Invalid("Unknown store.", errors={"store_code": [f"No active store {store_code}."]})
    return store


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


def replayed(session, platform: Platform, idempotency_key: str, body_hash: str) -> list[str] | None:
    """The lead ids a request with this Idempotency-Key was answered with;
    None for a new key. The same key with another body is refused, as
    Stripe does: the platform is confused, and guessing would lose a lead."""
    row = session.get(IdempotencyKey, (platform.platform, idempotency_key))
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise Invalid("This Idempotency-Key was used before with a different request.",
                      errors={"Idempotency-Key": ["Already used with another body; use a new key."]})
    return row.lead_ids


def prepare(session, platform: Platform, documents: list[dict], leads: list[dict], fmt: str,
            idempotency_key: str | None, store_code: str | None = None) -> list[dict]:
    """For each lead: its id, whether it is new, and its message. A lead's
    own ``store_code`` wins over the one of the request (the ``store_code``
    query parameter, for ADF senders). A lead repeated within the request
    (ADF prospects sharing an ``<id>``) is new only the first time."""
    prepared, seen = [], set()
    for document, lead in zip(documents, leads):
        store = resolve_store(session, platform, lead.pop("store_code", None) or store_code)
        if lead.get("received_at") is not None and lead["received_at"].tzinfo is None:
            lead["received_at"] = lead["received_at"].replace(tzinfo=ZoneInfo(store.timezone))
        raw = document.get("raw") if fmt == "adf" else None
        lead_id = lead_id_for(identity(platform, store.code, lead, raw, idempotency_key))
        new = lead_id not in seen and session.get(IntakeRecord, lead_id) is None
        seen.add(lead_id)
        prepared.append({
            "id": lead_id, "new": new, "store_code": store.code,
            "message": schema(LeadSubmitted).dump({
                "id": lead_id, "platform": platform.platform, "api_key_id": platform.key_id,
                "store_code": store.code, "submitted_at": utcnow(), "format": fmt,
                "raw": raw, "lead": lead}),
        })
    return prepared


def remember(session, platform: Platform, item: dict) -> bool:
    """Write the ledger row of a published lead; False when a concurrent
    twin wrote it first (then this one is a repeat)."""
    try:
        session.add(IntakeRecord(lead_id=item["id"], platform=platform.platform,
                                 store_code=item["store_code"], created_at=utcnow()))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def remember_key(session, platform: Platform, idempotency_key: str, body_hash: str,
                 lead_ids: list[str]) -> None:
    """Bind the key to this request; a concurrent twin may have done it first."""
    try:
        session.add(IdempotencyKey(platform=platform.platform, key=idempotency_key,
                                   request_hash=body_hash, lead_ids=lead_ids, created_at=utcnow()))
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
