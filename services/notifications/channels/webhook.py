"""Our own outgoing webhook: a signed JSON POST a dealer's IT can receive.

The body is ``{id, kind, title, body, link, language, sent_at}``. Headers:
``X-Dealerflow-Id`` (the delivery's dedupe key: the same id twice is the same
message, delivered again), ``X-Dealerflow-Timestamp`` (Unix seconds) and,
when the channel has a secret, ``X-Dealerflow-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<raw body>"`` keyed by the secret. Signing the
timestamp with the body lets a receiver refuse an old request replayed with
its valid signature; ``verify`` is what a receiver runs (docs/webhooks.md).

Any 2xx is sent. 429 is "slow down", 408 and 5xx "try again"; 410 and any
other 4xx are refusals that a retry would repeat. Redirects are not
followed: the URL must be changed instead.
"""
import hashlib
import hmac
import time
import uuid
from datetime import datetime, timezone

from services.notifications.channels import SENT, Message, Outcome, Target
from services.notifications.channels.posting import answer_of, by_status, post, to_json

TOLERANCE = 300  # seconds a receiver accepts between our clock and its own


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` of ``"<timestamp>.<raw body>"`` keyed by ``secret``."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature_header: str, now: float,
           tolerance: float = TOLERANCE) -> bool:
    """Whether a request is ours and fresh: the signature matches (compared in
    constant time, so that timing does not leak it) and the timestamp is
    within ``tolerance`` seconds of ``now`` either way (an old request
    replayed, or a forged future one, is refused)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), signature_header or "")


def body_of(message: Message, delivery_id: str, sent_at: datetime) -> bytes:
    """The JSON a receiver gets."""
    return to_json({"id": delivery_id, "kind": message.kind,
                    "title": message.title, "body": message.body, "link": message.link,
                    "language": message.language,
                    "sent_at": sent_at.isoformat(timespec="seconds").replace("+00:00", "Z")})


def headers_of(secret: str | None, timestamp: int, body: bytes, delivery_id: str) -> dict:
    """The id, timestamp and (with a secret) signature headers."""
    headers = {"X-Dealerflow-Id": delivery_id, "X-Dealerflow-Timestamp": str(timestamp),
               "User-Agent": "Dealerflow-Webhook/1"}
    if secret:
        headers["X-Dealerflow-Signature"] = signature(secret, timestamp, body)
    return headers


def send(target: Target, message: Message, timeout: float) -> Outcome:
    """POST ``message`` to ``target.url`` once, signed with ``target.secret``."""
    now = int(time.time())
    delivery_id = message.event_id or str(uuid.uuid4())  # a test message has no event behind it
    body = body_of(message, delivery_id, datetime.fromtimestamp(now, timezone.utc))
    response = post(target.url, body, timeout, headers_of(target.secret, now, body, delivery_id))
    if isinstance(response, Outcome):
        return response
    return by_status(response) or Outcome(SENT, answer_of(response))
