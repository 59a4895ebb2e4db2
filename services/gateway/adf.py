"""Read ADF 1.0 (Auto-lead Data Format) XML into our JSON lead shape.

ADF in the wild is often not well-formed (the ``<?adf?>`` instruction before
``<?xml?>``, leading whitespace, bare ``&`` and ``<`` in comments, HTML
entities, Latin-1 bytes), so a lenient pre-pass repairs the text without
losing a character before a strict, DTD-refusing parser reads it.
The pipeline follows the project research on ADF (shared/research/integrations.md, 1.2-1.6).
"""

import html
import re
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DET
from dateutil import parser as dateparser
from defusedxml import DefusedXmlException

MAX_PROSPECTS = 100
TRADE_INTERESTS = {"trade-in", "tradein", "sell"}
MOBILE_TYPES = {"cellphone", "mobile", "cell"}
LAST_RESORT_TYPES = {"fax", "pager"}

_BOM = b"\xef\xbb\xbf"
_DECLARED_ENCODING = re.compile(rb"""<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.I)
_PI = re.compile(r"<\?(?:xml|adf)(?=[\s?]).*?\?>", re.I | re.S)
_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)
_CDATA = re.compile(r"(<!\[CDATA\[.*?\]\]>)", re.S)
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|apos|quot|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LT = re.compile(r"<(?![A-Za-z_/!?])")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_PROSPECT = re.compile(r"<prospect\b(?:[^>]*/>|.*?</prospect\s*>)", re.I | re.S)
_MAILTO = re.compile(r"^\s*mailto:", re.I)


class AdfError(ValueError):
    """The body is not an ADF document we can read (the gateway answers 400 with str(exc) as description)."""


def parse_adf(body: bytes) -> list[dict]:
    """One dict per <prospect>, in the shape of our JSON lead."""
    text = _decode_body(bytes(body))
    if _DTD.search(text):
        raise AdfError("DTDs and entities are not accepted in ADF documents")
    root = _parse(_repair(text))
    if root.tag != "adf":
        raise AdfError(f"root element is <{root.tag}>, expected <adf>")
    prospects = root.findall("prospect")
    if not prospects:
        raise AdfError("ADF document has no <prospect>")
    if len(prospects) > MAX_PROSPECTS:
        raise AdfError(f"ADF document has {len(prospects)} prospects, at most {MAX_PROSPECTS} are accepted")
    raws = [m.group() for m in _PROSPECT.finditer(text)]
    return [_prospect(p, raws[i] if i < len(raws) else None) for i, p in enumerate(prospects)]


# --- bytes to repaired text -------------------------------------------------

def _decode_body(data: bytes) -> str:
    """Drop a UTF-8 BOM and leading whitespace, then decode.

    The encoding named by the XML declaration wins when Python knows it and it
    decodes the bytes (and is ASCII-compatible, which it must be since we read
    the declaration as ASCII); otherwise UTF-8, then cp1252, then Latin-1 for
    the five bytes cp1252 leaves undefined, so decoding never fails.
    """
    data = data.removeprefix(_BOM).lstrip()
    if not data:
        raise AdfError("empty body: no ADF document")
    declared = _DECLARED_ENCODING.search(data)
    for encoding in (declared and declared.group(1).decode("ascii"), "utf-8", "cp1252", "latin-1"):
        if not encoding:
            continue
        try:
            if b"<?xml".decode(encoding) == "<?xml":
                return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    raise AdfError("cannot decode the body")  # unreachable: latin-1 decodes anything


def _repair(text: str) -> str:
    """Outside CDATA sections: remove <?xml?>/<?adf?> instructions, escape bare & and <."""
    parts = _CDATA.split(text)
    for i in range(0, len(parts), 2):  # even indexes lie outside CDATA
        part = _PI.sub("", parts[i])
        part = _BARE_AMP.sub("&amp;", part)
        parts[i] = _BARE_LT.sub("&lt;", part)
    return "".join(parts).strip()


def _parse(text: str):
    """Strict parse; tags and attribute names are lower-cased local names."""
    try:
        root = DET.fromstring(text.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise AdfError("DTDs and entities are not accepted in ADF documents") from exc
    except ParseError as exc:
        raise AdfError(f"ADF document is not well-formed XML: {exc}") from exc
    for el in root.iter():
        el.tag = _local(el.tag)
        el.attrib = {_local(k): v for k, v in el.attrib.items()}
    return root


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


# --- tolerant getters --------------------------------------------------------

def _clean(value):
    """Resolve HTML entities (only complete `&name;` forms), strip; empty means None."""
    if value is None:
        return None
    value = _ENTITY.sub(lambda m: html.unescape(m.group()), value).strip()
    return value or None


def _text(el, path=None):
    if el is not None and path:
        el = el.find(path)
    return None if el is None else _clean("".join(el.itertext()))


def _attr(el, name):
    return None if el is None else _clean(el.get(name))


def _int(value):
    return int(value) if value and value.isascii() and value.isdigit() else value


def _compact(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None and v != "" and v != [] and v != {}}


# --- mapping -----------------------------------------------------------------

def _prospect(p, raw) -> dict:
    ids = p.findall("id")
    customer = p.find("customer")
    vehicles = p.findall("vehicle")
    wanted = [v for v in vehicles if _interest(v) not in TRADE_INTERESTS]
    trades = [_trade_in(v) for v in vehicles if _interest(v) in TRADE_INTERESTS]
    source = (_attr(ids[0], "source") if ids else None) or _text(p, "provider/name") \
        or _text(p, "vendor/vendorname") or "adf"
    comments = [_text(customer, "comments") or _text(customer, "comment")]
    comments += [f"vehicle: {c}" for c in map(lambda v: _text(v, "comments"), vehicles) if c]
    return _compact({
        "source": source,
        "external_id": next(filter(None, map(_text, ids)), None),
        "channel": "third_party",
        "received_at": _date(_text(p, "requestdate")),
        "customer": _customer(customer),
        "interest": _vehicle(wanted[0], bool(trades)) if wanted else None,
        "trade_in": trades,
        "comments": "\n".join(filter(None, comments)),
        "adf_status": _attr(p, "status") or "new",
        "raw": raw,
    })


def _date(value):
    """ISO 8601 via dateutil (accepts `-08:0`, `T8:47:50`, `06/10/2024 06:25 PM`); naive stays naive."""
    if not value:
        return None
    try:
        return dateparser.parse(value).isoformat()
    except (ValueError, OverflowError):
        return None


def _customer(customer):
    if customer is None:
        return None
    contact = customer.find("contact")
    if contact is None:
        contact = customer
    phones = [(_phone_rank(el), i, {"number": _text(el), "type": _attr(el, "type") or "voice"})
              for i, el in enumerate(contact.findall("phone")) if _text(el)]
    emails = [_MAILTO.sub("", e).strip() for e in map(_text, contact.findall("email")) if e]
    address = _address(contact.find("address"))
    return _compact({
        "name": _name(contact),
        "phone": min(phones)[2]["number"] if phones else None,
        "phones": [phone for _, _, phone in phones],
        "email": next(filter(None, emails), None),
        "city": address.get("city"),
        "address": address,
    })


def _name(contact):
    """Parts joined as "first middle last suffix" when any is given, else the full name."""
    parts = {}
    for el in contact.findall("name"):
        part, value = (_attr(el, "part") or "full").lower(), _text(el)
        if value:
            parts.setdefault(part, value)
    last = parts.get("last") or parts.get("surname")
    split = [parts.get("first"), parts.get("middle"), last, parts.get("suffix")]
    return " ".join(filter(None, split)) or parts.get("full")


def _phone_rank(el) -> int:
    """Mobile first, then preferredcontact="1", then voice/home/work/others; fax and pager always last."""
    kind = (_attr(el, "type") or "voice").lower()
    if kind in LAST_RESORT_TYPES:
        return 3
    if kind in MOBILE_TYPES:
        return 0
    return 1 if _attr(el, "preferredcontact") == "1" else 2


def _address(el) -> dict:
    if el is None:
        return {}
    street = [_text(s) for s in el.findall("street")] + [_text(el, "apartment")]
    return _compact({
        "street": ", ".join(filter(None, street)),
        "city": _text(el, "city"),
        "region": _text(el, "regioncode"),
        "postal_code": _text(el, "postalcode"),
        "country": _text(el, "country"),
    })


def _interest(vehicle) -> str:
    return (_attr(vehicle, "interest") or "buy").lower()


def _vehicle(v, has_trade_in: bool) -> dict:
    status = _attr(v, "status") or "new"
    finance = v.find("finance")
    return _compact({
        "brand": _text(v, "make"),
        "model": _text(v, "model"),
        "trim": _text(v, "trim"),
        "year": _int(_text(v, "year")),
        "condition": status.lower() if status.lower() in ("new", "used") else status,
        "vin": _text(v, "vin"),
        "stock": _text(v, "stock"),
        "test_drive": _interest(v) == "test-drive",
        "finance": finance is not None and (_text(finance, "method") or "").lower() in ("finance", "lease"),
        "trade_in": has_trade_in,
    })


def _trade_in(v) -> dict:
    return _compact({
        "interest": _attr(v, "interest"),
        "brand": _text(v, "make"),
        "model": _text(v, "model"),
        "year": _int(_text(v, "year")),
        "vin": _text(v, "vin"),
        "odometer": _int(_text(v, "odometer")),
        "odometer_units": _attr(v.find("odometer"), "units"),
    })
