"""Every message on the bus is plain JSON, both ways.

kombu's own JSON codec decodes with an object hook: a dict shaped
``{"__type__": ..., "__value__": ...}`` becomes a datetime, a UUID or a
Decimal, or makes decoding raise. A lead's free-form parts come from outside
and may hold exactly such a dict; the consumer would then log "Can't decode
message body" and ack: the lead gone after a 202. Replacing the codec
registered as ``json`` (which nameko and kombu use by name) with the
standard library's makes every process read back what was written.
Payloads are dumped by marshmallow schemas first, so they hold only JSON
types; anything else is a bug and fails loudly at the publisher.
"""
import json

from kombu.serialization import register


def plain_json() -> None:
    register("json", json.dumps, json.loads, content_type="application/json",
             content_encoding="utf-8")
