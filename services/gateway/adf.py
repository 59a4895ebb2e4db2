"""Read ADF 1.0 (Auto-lead Data Format) XML into our JSON lead shape.

ADF in the wild is often not well-formed (the ``<?adf?>`` instruction before
``<?xml?>``, leading whitespace, bare ``&`` and ``<`` in comments, HTML
entities, Latin-1 bytes), so a lenient pre-pass repairs the text without
losing a character before a strict, DTD-refusing parser reads it.
The pipeline follows the project research on ADF (shared/research/integrations.md, 1.2-1.6).

This is the gateway's public intake: every step takes time linear in the body
(at most 1 MiB), whatever the body holds, and every body gives leads or an
AdfError (the gateway's 400), never another exception.
"""

import codecs
import copy
import html
import re
from typing import NamedTuple
from xml.etree.ElementTree import ParseError, TreeBuilder, tostring

import defusedxml.ElementTree as DET
from dateutil import parser as dateparser
from defusedxml import DefusedXmlException

from services.gateway.platform_lead import received_at_in_range

MAX_PROSPECTS = 100
MAX_DEPTH = 64  # elements, <adf> included; ADF itself needs 6
MAX_ELEMENTS = 20_000  # 100 prospects of 200 elements; a rich one has 80
DECLARATION_WINDOW = 1024  # bytes at the start of the body read for the XML declaration (bounds its regex)
MAX_DATE_LENGTH = 64  # "2026-03-11T03:11:42.3770000+08:00" is 33
MAX_INT_DIGITS = 18  # a year or an odometer has a few; int() refuses more than 4300
TRADE_INTERESTS = {"trade-in", "tradein", "sell"}
MOBILE_TYPES = {"cellphone", "mobile", "cell"}
LAST_RESORT_TYPES = {"fax", "pager"}

_BOM = b"\xef\xbb\xbf"
_DECLARED_ENCODING = re.compile(rb"""<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.I)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)


class _Section(NamedTuple):
    """What the repair pass copies or drops whole, from its start to its terminator."""
    start: str  # a regex without groups of its own
    terminator: str
    kept: bool


_CDATA = _Section(r"<!\[CDATA\[", "]]>", kept=True)
_PI = _Section(r"<\?(?i:xml|adf)(?=[\s?])", "?>", kept=False)  # <?xml?> and <?adf?>
_SECTION_START = {kinds: re.compile("|".join(f"({kind.start})" for kind in kinds))
                  for kinds in [(_CDATA, _PI), (_CDATA,), (_PI,)]}
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|apos|quot|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LT = re.compile(r"<(?![A-Za-z_/!?])")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_MAILTO = re.compile(r"^\s*mailto:", re.I)


class AdfError(ValueError):
    """The body is not an ADF document we can read (the gateway answers 400 with str(exc) as description)."""


def parse_adf(body: bytes) -> list[dict]:
    """One dict per <prospect>, in the shape of our JSON lead."""
    text = _decode_body(bytes(body))
    if _DTD.search(text):
        raise AdfError("DTDs and entities are not accepted in ADF documents")
    root = _parse(_repair(text))
    if _local(root.tag) != "adf":
        raise AdfError(f"root element is <{_local(root.tag)}>, expected <adf>")
    prospects = [el for el in root if _local(el.tag) == "prospect"]
    if not prospects:
        raise AdfError("ADF document has no <prospect>")
    if len(prospects) > MAX_PROSPECTS:
        raise AdfError(f"ADF document has {len(prospects)} prospects, at most {MAX_PROSPECTS} are accepted")
    raws = [_raw(p) for p in prospects]  # before _lower_names: the sender's own tags
    _lower_names(root)
    return [_prospect(p, raw) for p, raw in zip(prospects, raws)]


# --- bytes to repaired text -------------------------------------------------

def _decode_body(data: bytes) -> str:
    """Drop a UTF-8 BOM and leading whitespace, then decode.

    The encoding named by the XML declaration wins when it decodes the bytes;
    otherwise UTF-8, then cp1252, then Latin-1 for the five bytes cp1252
    leaves undefined (real senders declare UTF-8 and send Latin-1).
    """
    data = data.removeprefix(_BOM).lstrip()
    if not data:
        raise AdfError("empty body: no ADF document")
    for encoding in (_declared_encoding(data[:DECLARATION_WINDOW]), "utf-8", "cp1252"):
        if encoding:
            try:
                return data.decode(encoding)
            except ValueError:  # UnicodeDecodeError, or any codec's own complaint: the next one
                continue
    return data.decode("latin-1")


def _declared_encoding(head: bytes) -> str | None:
    """The encoding the XML declaration at the start of the body names, if any.

    A declaration is a promise about the bytes: a name Python does not know,
    a codec that is no text encoding (rot13, base64, zlib) or one that is not
    ASCII-compatible (utf-16, cp500, utf-7; we read the declaration itself as
    ASCII) is a bogus one, and the body is refused rather than guessed at.
    """
    declared = _DECLARED_ENCODING.search(head)
    if not declared:
        return None
    name = declared.group(1).decode("ascii")
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise AdfError(f"the XML declaration names an unknown encoding, {name}") from None
    if not codec._is_text_encoding or not _ascii_compatible(codec):
        raise AdfError(f"the XML declaration names {name}, which is not an ASCII-compatible text encoding")
    return codec.name


def _ascii_compatible(codec: codecs.CodecInfo) -> bool:
    """Whether each printable ASCII byte, fed alone, decodes at once to itself:
    utf-16 holds a byte back, cp500 maps it elsewhere, utf-7 and hz shift on
    '+' and '~', the escape codecs on a backslash."""
    if codec.incrementaldecoder is None:
        return False
    decoder = codec.incrementaldecoder()
    try:
        return all(decoder.decode(bytes([byte])) == chr(byte) for byte in _PRINTABLE_ASCII)
    except ValueError:  # punycode and undefined refuse ASCII outright
        return False


def _repair(text: str) -> str:
    """Outside CDATA sections: remove <?xml?>/<?adf?> instructions, escape bare & and <.

    One left-to-right pass in time linear in the text: from one section start
    to the next, it copies a CDATA section as it is, drops an instruction and
    escapes the text in between. A start whose terminator is missing stays as
    text (for the parser to refuse), and as no later start of its kind could
    find one either, that kind is no longer looked for.
    """
    out, done, kinds = [], 0, (_CDATA, _PI)
    while kinds and (start := _SECTION_START[kinds].search(text, done)):
        kind = kinds[start.lastindex - 1]
        end = text.find(kind.terminator, start.end())
        if end < 0:
            kinds = tuple(k for k in kinds if k is not kind)
            continue
        end += len(kind.terminator)
        out.append(_escape(text[done:start.start()]))
        if kind.kept:
            out.append(text[start.start():end])
        done = end
    out.append(_escape(text[done:]))
    return "".join(out).strip()


def _escape(text: str) -> str:
    """An & that starts no XML reference and a < that starts no markup become text."""
    return _BARE_LT.sub("&lt;", _BARE_AMP.sub("&amp;", text))


# --- repaired text to a tree ------------------------------------------------

class _Limits(TreeBuilder):
    """Builds the tree, but refuses a document nested deeper than MAX_DEPTH or
    holding more than MAX_ELEMENTS elements as soon as the parser gets there:
    no deep tree is ever built for ElementTree's recursive serialiser to
    reach Python's recursion limit on, and no huge one for the mapping to
    spend seconds on."""

    depth = elements = 0

    def start(self, tag, attrs):
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise AdfError(f"ADF document is nested deeper than {MAX_DEPTH} elements")
        if self.elements > MAX_ELEMENTS:
            raise AdfError(f"ADF document has more than {MAX_ELEMENTS} elements")
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


def _parse(text: str):
    """Strict parse; the names keep the sender's case and namespaces."""
    parser = DET.XMLParser(target=_Limits(), forbid_dtd=True)
    try:
        parser.feed(text.encode("utf-8"))
        return parser.close()
    except DefusedXmlException as exc:
        raise AdfError("DTDs and entities are not accepted in ADF documents") from exc
    except ParseError as exc:
        raise AdfError(f"ADF document is not well-formed XML: {exc}") from exc


def _raw(prospect) -> str:
    """The prospect's XML as the sender tagged it, serialised from its own
    element without its tail (the text after it): the same prospect gives the
    same raw alone or among others, wherever it stands, and the gateway hashes
    raw to recognise a resent prospect."""
    alone = copy.copy(prospect)
    alone.tail = None
    return tostring(alone, encoding="unicode")


def _lower_names(root) -> None:
    """Tags and attribute names become lower-cased local names, as the mapping reads them."""
    for el in root.iter():
        el.tag = _local(el.tag)
        el.attrib = {_local(k): v for k, v in el.attrib.items()}


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
    """Digits as a number; anything else, and more digits than MAX_INT_DIGITS,
    stays text for validation to judge."""
    if value and value.isascii() and value.isdigit() and len(value) <= MAX_INT_DIGITS:
        return int(value)
    return value


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
    """ISO 8601 via dateutil (accepts `-08:0`, `T8:47:50`, `06/10/2024 06:25 PM`); naive stays naive.

    A date dateutil cannot read, or one that received_at_in_range finds
    implausible, is dropped: the lead then counts from when it was submitted,
    and its raw keeps the sender's text. A long text is no date (and dateutil
    takes time growing faster than its length on one).
    """
    if not value or len(value) > MAX_DATE_LENGTH:
        return None
    try:
        moment = dateparser.parse(value)
        return moment.isoformat() if received_at_in_range(moment) else None
    except (ValueError, OverflowError):  # also an offset of a day or more, met when comparing
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
