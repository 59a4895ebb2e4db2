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
import html.entities
import re
from typing import NamedTuple
from xml.etree.ElementTree import ParseError, TreeBuilder, tostring

import defusedxml.ElementTree as DET
from dateutil import parser as dateparser
from defusedxml import DefusedXmlException

from dealerflow.phones import is_placeholder
from services.gateway.platform_lead import request_date_problem

MAX_PROSPECTS = 100
MAX_DEPTH = 64  # elements, <adf> included; ADF itself needs 6
MAX_ELEMENTS = 20_000  # 100 prospects of 200 elements; a rich one has 80
DECLARATION_WINDOW = 1024  # bytes at the start of the body read for the XML declaration (bounds its regex)
MAX_DATE_LENGTH = 64  # "2026-03-11T03:11:42.3770000+08:00" is 33
MAX_INT_DIGITS = 18  # a year or an odometer has a few; int() refuses more than 4300
MAX_SOURCE = 64  # a lead's source as the leads service stores it; the provider keeps its whole name
TRADE_INTERESTS = {"trade-in", "tradein", "sell"}
MOBILE_TYPES = {"cellphone", "mobile", "cell"}
LAST_RESORT_TYPES = {"fax", "pager"}
YES = {"1", "true", "yes", "y"}
# name parts in the order a person writes them (a CJK name: the family name first, no spaces)
NAME_PARTS = {"first": "first", "given": "first", "middle": "middle", "last": "last",
              "surname": "last", "family": "last", "suffix": "suffix", "full": "full"}
WRITING_ORDER = ("first", "middle", "last", "suffix")
CJK_ORDER = ("last", "first", "middle")
XML_ENTITIES = {"amp", "lt", "gt", "apos", "quot"}

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
_CHAR_REF = re.compile(r"&#(?:(\d+)|x([0-9a-fA-F]+));")
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
_CJK = re.compile(r"[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
                  r"\uf900-\ufaff\U00020000-\U0003134f·・]")
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
    """Outside CDATA: an HTML entity XML does not know (``&nbsp;``,
    ``&mdash;``) becomes its character; then an & that starts no XML
    reference and a < that starts no markup become text. Text is so decoded
    exactly once, by the parser: ``&amp;nbsp;`` is the text ``&nbsp;``, and
    CDATA is text as it stands. A character reference to a character XML
    forbids (``&#0;``) is text too."""
    text = _CHAR_REF.sub(_char_ref, _NAMED_ENTITY.sub(_html_entity, text))
    return _BARE_LT.sub("&lt;", _BARE_AMP.sub("&amp;", text))


def _char_ref(match) -> str:
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD \
        or 0x10000 <= code <= 0x10FFFF
    return match.group() if allowed else "&amp;" + match.group()[1:]


def _html_entity(match) -> str:
    name = match.group(1)
    char = None if name in XML_ENTITIES else html.entities.html5.get(name + ";")
    if char is None:
        return match.group()
    return (char.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


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
    """Stripped text (the parser decoded it; it is not decoded again); empty means None."""
    if value is None:
        return None
    return value.strip() or None


def _words(value):
    """Whitespace collapsed, as a name or a label is written."""
    return " ".join(value.split()) or None if value else None


def _yes(el, name) -> bool:
    return (_attr(el, name) or "").lower() in YES


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
    """One prospect. Its ``source`` is the platform that sent it, never the
    dealer receiving it (the ``<vendor>``): the ``<id source>``, else the
    ``<provider>``'s name; without either the gateway names the key's platform."""
    ids = p.findall("id")
    customer = p.find("customer")
    vehicles = p.findall("vehicle")
    wanted = [v for v in vehicles if _interest(v) not in TRADE_INTERESTS]
    trades = [_trade_in(v) for v in vehicles if _interest(v) in TRADE_INTERESTS]
    provider = _provider(p.find("provider"))
    source = next(filter(None, (_words(_attr(i, "source")) for i in ids)), None) or provider.get("name")
    received_at, note = _date(_text(p, "requestdate"))
    return _compact({
        "source": source[:MAX_SOURCE] if source else None,
        "external_id": next(filter(None, map(_text, ids)), None),
        "channel": "third_party",
        "received_at": received_at,
        "received_at_note": note,
        "customer": _customer(customer),
        "interest": _vehicle(wanted[0], bool(trades)) if wanted else None,
        "trade_in": trades,
        "comments": _comments(customer, vehicles),
        "provider": provider,
        "adf_status": _attr(p, "status") or "new",
        "raw": raw,
    })


def _comments(customer, vehicles) -> str | None:
    """The customer's comments, then each vehicle's, each once, their lines
    stripped of the document's indentation."""
    texts = [_text(customer, "comments") or _text(customer, "comment")]
    texts += [f"vehicle: {c}" for c in (_text(v, "comments") for v in vehicles)
              if c and c not in texts]
    return "\n".join(_lines(text) for text in dict.fromkeys(filter(None, texts))) or None


def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines()) if "\n" in text else text


def _date(value) -> tuple[str | None, str | None]:
    """The ``<requestdate>`` as ISO 8601 via dateutil (accepts ``-08:0``,
    ``T8:47:50``, ``06/10/2024 06:25 PM``; naive stays naive), and why it was
    not used when it was not.

    A date dateutil cannot read, one before 1990 and one in the future are
    dropped: the lead then counts from its submission, the note says why, and
    its raw keeps the sender's text. A long text is no date (and dateutil
    takes time growing faster than its length on one).
    """
    if not value:
        return None, None
    shown = repr(value if len(value) <= 40 else value[:40] + "...")
    unread = f"The requestdate {shown} could not be read; the lead counts from its submission."
    if len(value) > MAX_DATE_LENGTH:
        return None, unread
    try:
        moment = dateparser.parse(value)
        problem = request_date_problem(moment)
    except (ValueError, OverflowError):  # also an offset of a day or more, met when comparing
        return None, unread
    if problem:
        return None, f"The requestdate {shown} is {problem}; the lead counts from its submission."
    return moment.isoformat(), None


def _customer(customer):
    if customer is None:
        return None
    contacts = customer.findall("contact")
    contact = next((c for c in contacts if _yes(c, "primarycontact")), contacts[0] if contacts else customer)
    phones = [_phone(el) for el in contact.findall("phone") if _text(el)]
    ranked = sorted((_phone_rank(phone), i) for i, phone in enumerate(phones) if not phone.get("placeholder"))
    emails = [_MAILTO.sub("", e).strip() for e in map(_text, contact.findall("email")) if e]
    address = _address(contact.find("address"))
    return _compact({
        "name": _name(contact),
        "phone": phones[ranked[0][1]]["number"] if ranked else None,
        "phones": phones,
        "email": next(filter(None, emails), None),
        "city": address.get("city"),
        "address": address,
    })


def _name(contact):
    """The name as a person writes it: its parts (``<name part="...">``, or
    ``<first>``/``<middle>``/``<last>`` inside a ``<name>``) in writing order,
    the family name first and without spaces for a CJK name; else the full
    name. Whitespace is collapsed; a one-letter name is a name."""
    parts = {}
    for el in contact.findall("name"):
        nested = [(NAME_PARTS[child.tag], child) for child in el if child.tag in NAME_PARTS]
        for part, value in nested or [(NAME_PARTS.get((_attr(el, "part") or "full").lower()), el)]:
            value = _words(_text(value))
            if part and value:
                parts.setdefault(part, value)
    given = [part for part in WRITING_ORDER if parts.get(part)]
    if not given:
        return parts.get("full")
    if all(_cjk(parts[part]) for part in given):
        return "".join(parts[part] for part in CJK_ORDER if parts.get(part)) + \
            (f" {parts['suffix']}" if parts.get("suffix") else "")
    return " ".join(parts[part] for part in given)


def _cjk(text: str) -> bool:
    """Written in Chinese, Japanese or Korean characters (spaces and the middle dot aside)."""
    letters = [ch for ch in text if not ch.isspace()]
    return bool(letters) and all(_CJK.match(ch) for ch in letters)


def _phone(el) -> dict:
    """A phone as sent, with its type; marked when the customer prefers it
    and when it is an obvious placeholder (kept, but never the lead's phone)."""
    number = _text(el)
    return _compact({
        "number": number,
        "type": (_attr(el, "type") or "voice").lower(),
        "preferred": _yes(el, "preferredcontact") or None,
        "placeholder": is_placeholder(number) or None,
    })


def _phone_rank(phone: dict) -> int:
    """The one to call: the one the customer prefers, then mobile, then
    voice/home/work/others; fax and pager always last."""
    if phone["type"] in LAST_RESORT_TYPES:
        return 3
    if phone.get("preferred"):
        return 0
    return 1 if phone["type"] in MOBILE_TYPES else 2


def _provider(el) -> dict:
    """The platform or lead service that sent the prospect."""
    if el is None:
        return {}
    name = next(filter(None, (_words(_text(n)) for n in el.findall("name"))), None)
    return _compact({
        "name": name,
        "service": _words(_text(el, "service")),
        "url": _text(el, "url"),
        "email": _text(el, "email"),
        "phone": _text(el, "phone"),
        "id": next(filter(None, map(_text, el.findall("id"))), None),
    })


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
