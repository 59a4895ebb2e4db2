"""Lead intake for platforms: read the body, validate, make the lead safe.

The order of checks: the key (401) and its rate (429), the media type
(415) and the Idempotency-Key (400) before the body is read; then size
(413), parsing (400), validation (422), the key's stores (403), and
safety (503).
"""
import hashlib
import json
import uuid
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dealerflow.contracts import Lead, LeadSubmitted, schema
from dealerflow.db import utcnow
from services.gateway.adf import AdfError, parse_adf
from services.gateway.auth import Platform
from services.gateway.errors import BadRequest, Forbidden, Invalid, UnsupportedType
from services.gateway.models import IntakeRecord, Store

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
    return value


def read_leads(content_type: str | None, body: bytes) -> tuple[str, list[dict]]:
    """The format and the raw lead dicts of a body (each ADF one keeps ``raw``)."""
    if body_format(content_type) == "json":
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}")
        if not isinstance(document, dict):
            raise Invalid("The JSON lead must be an object.", errors={"_schema": ["Expected an object."]})
        return "json", [document]
    try:
        return "adf", parse_adf(body)
    except AdfError as exc:
        raise BadRequest(str(exc))


def validate(documents: list[dict]) -> list[dict]:
    """The leads loaded with the contract's schema; ``Invalid`` names every bad field."""
    leads, errors = [], {}
    for index, document in enumerate(documents):
        try:
            leads.append(schema(Lead).load({k: v for k, v in document.items() if k != "raw"}))
        except ValidationError as exc:
            errors[index] = exc.messages
    if errors:
        raise Invalid("The lead does not meet the contract; see errors.",
                      errors=errors[0] if len(documents) == 1 else {"leads": errors})
    return leads


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


def dedupe_keys(platform: Platform, lead: dict, idempotency_key: str | None, index: int,
                raw: str | None = None) -> list[str]:
    """The ways this lead is recognised when the same platform sends it
    again: its Idempotency-Key, its source and external id, and for ADF the
    exact text of its prospect (a resent document is the same lead)."""
    keys = []
    if idempotency_key:
        keys.append(f"key:{platform.platform}:{idempotency_key}:{index}")
    if lead.get("external_id"):
        keys.append(f"ext:{platform.platform}:{lead['source']}:{lead['external_id']}")
    if raw:
        keys.append(f"adf:{platform.platform}:{hashlib.sha256(raw.encode()).hexdigest()}")
    return keys


def lead_id_for(keys: list[str]) -> str:
    """The same submission always gets the same id, so that even a publish
    repeated after a crash is recognised downstream."""
    return str(uuid.uuid5(LEAD_NAMESPACE, keys[0])) if keys else str(uuid.uuid4())


def prepare(session, platform: Platform, documents: list[dict], leads: list[dict], fmt: str,
            idempotency_key: str | None, store_code: str | None = None) -> list[dict]:
    """For each lead: its id, whether it is new, its ledger keys and message.
    A lead's own ``store_code`` wins over the one of the request (the
    ``store_code`` query parameter, for ADF senders)."""
    prepared = []
    for index, (document, lead) in enumerate(zip(documents, leads)):
        store = resolve_store(session, platform, lead.pop("store_code", None) or store_code)
        if lead.get("received_at") is not None and lead["received_at"].tzinfo is None:
            lead["received_at"] = lead["received_at"].replace(tzinfo=ZoneInfo(store.timezone))
        raw = document.get("raw") if fmt == "adf" else None
        keys = dedupe_keys(platform, lead, idempotency_key, index, raw)
        known = session.scalar(select(IntakeRecord.lead_id).where(
            IntakeRecord.dedupe_key.in_(keys))) if keys else None
        lead_id = known or lead_id_for(keys)
        prepared.append({
            "id": lead_id, "new": known is None, "store_code": store.code,
            "keys": keys + [f"id:{lead_id}"],
            "message": schema(LeadSubmitted).dump({
                "id": lead_id, "platform": platform.platform, "api_key_id": platform.key_id,
                "store_code": store.code, "submitted_at": utcnow(), "format": fmt,
                "raw": raw, "lead": lead}),
        })
    return prepared


def remember(session, platform: Platform, item: dict) -> bool:
    """Write the ledger rows of a published lead; False when a concurrent
    twin wrote them first (then this one is a repeat)."""
    now = utcnow()
    try:
        for key in item["keys"]:
            session.add(IntakeRecord(dedupe_key=key, lead_id=item["id"], platform=platform.platform,
                                     store_code=item["store_code"], created_at=now))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def find_accepted(session, platform: Platform, lead_id: str) -> IntakeRecord | None:
    """A lead this platform submitted that the leads service has not stored yet."""
    return session.scalar(select(IntakeRecord).where(
        IntakeRecord.dedupe_key == f"id:{lead_id}", IntakeRecord.platform == platform.platform,
        IntakeRecord.store_code.in_(platform.stores)))
