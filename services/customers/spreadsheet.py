"""Reading the customer spreadsheets dealers bring (.xlsx and .csv).

Pure: bytes in; the header texts, a suggested column mapping and each row's
customer fields (with plain-English errors) out. No database, no nameko; the
customers service does the rest (E.164 phones, dedupe, storing).

How a file is read
------------------
* ``.xlsx``/``.xlsm``: openpyxl reads the workbook's parts (which sheet is first,
  its styles, which say what numbers are dates) with defusedxml; the first
  worksheet's XML and the shared strings are read here with expat, a document
  type declaration (where entities would be declared) refused, and streamed row
  by row: a 100,000-row file never sits in memory as a workbook, and each cell
  costs a tenth of openpyxl's read-only mode. The values are the ones openpyxl's
  read-only, data-only mode gives (formulas give their cached value). The sheet's
  recorded dimension gives ``Sheet.total`` but is not trusted to bound the reading
  (some writers record a wrong one), so rows beyond it are still read. A file that
  is really a zip workbook is read as one even when it was named ``.csv``.
* ``.csv`` (also ``.tsv``/``.txt``): UTF-8 with or without BOM, UTF-16 with a BOM
  (Excel's "Unicode text"), else GB18030 (a superset of the GBK Chinese Excel
  saves). The delimiter is the one of comma, semicolon and tab that splits the
  first lines into the most rows of one same width (comma on a tie); an Excel
  ``sep=;`` first line is obeyed and is not a row. Row numbers are record numbers,
  as Excel shows the file (a quoted cell spanning lines is one row).
* The header row is the first row with at least two cells ``suggest_mapping``
  recognises, looked for in the first 30 non-blank rows; rows above it (a merged
  "2025年客户名单" banner, a date line) are skipped. When no row qualifies, the
  first non-blank row is the header.
* Two-row headers. Read-only openpyxl shows a merged cell's text in its first
  cell only, so "联系方式" merged over "手机" | "邮箱" arrives as
  ``["姓名", "联系方式", None]`` then ``[None, "手机", "邮箱"]``. The row right
  below the header is taken as a sub-header when all its cells are text, none
  holds an "@" or five digits in a row (a data row's email or phone), and a
  recognised header text sits under a blank header cell (the mark of a
  horizontally merged parent). Then each column's header is the sub-header's
  text when it has one, else the parent's (a vertically merged "姓名" leaves the
  sub-header cell blank). A row right below a header without blank cells is
  never a sub-header, so a first data row whose source is "微信" stays data.
* ``Sheet.headers`` loses trailing blank header cells; each row is cut or padded
  with ``None`` to the headers' width (cells beyond the last header have no column
  to map to). Blank rows are skipped; 10,000 blank rows in a row end the sheet
  (a sheet formatted down to row 1,048,576 is not read to its end).
* ``Sheet.total`` is an estimate for progress bars, worked out when first asked
  (a dry run never does): for xlsx the recorded last row minus the header rows
  (blank rows included); when the workbook records no dimension (openpyxl's
  write-only mode), the ``<row>`` elements counted in the XML as it is
  decompressed, not parsed, instead of that last row. For CSV the non-blank
  lines after the header.
* ``UnreadableFile`` is raised by ``open_sheet`` (empty file, unknown extension,
  old .xls or password-protected workbook, damaged workbook, undecodable text, a
  sheet with no rows) and, should the file turn out damaged further down, while
  iterating ``Sheet.rows``.

Cells and fields
----------------
* ``clean_cell`` also reads Excel's error values (``#N/A``, ``#REF!``, ...) and
  non-finite numbers as empty, booleans as ``TRUE``/``FALSE``, a time cell as
  ``HH:MM:SS`` text; ``\\r\\n`` becomes ``\\n``; zero-width spaces and BOMs at
  either end are stripped like spaces. A text number is made integer text only
  when it is whole and written with an exponent or a ``.0`` tail (so "0138" keeps
  its zero, "+86..." its plus).
* ``read_row`` cleans each cell itself, so raw or already-cleaned values both do.
  A field with an error is left out of the result; "phones" and "emails" are
  always there (possibly empty) and keep the valid entries of a cell that also
  had a bad one. "tags" is there only when the cell had at least one tag.
* budget: ``{"min": fen, "max": fen}``. "N万以上"/"N万起" gives ``max`` None; a
  range written high-low is swapped; 元/¥/RMB/约/左右/thousands commas are
  ignored; k/千 are thousands. A sum below 1,000 yuan is refused as a likely
  missing 万 ("15" -> "write 15万"), as is one above 1,000,000,000 yuan.
* fuel_type: 新能源 alone is EV; range extenders (增程/EREV) are PHEV, as Chinese
  NEV statistics count them; mild hybrids (轻混/MHEV) are HEV; 柴油/diesel is ICE.
* created_at: a naive datetime (time zones written in ISO text are dropped: the
  sheet's wall-clock time is kept); a date is midnight; 20250301 (8 digits) is
  read as a date too; day-first/month-first texts like 3/1/2025 are refused as
  ambiguous.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from itertools import chain
from typing import Callable, Iterator
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

FIELDS = ("name", "phone", "email", "wechat_id", "city", "language", "source", "tags",
          "brand", "model", "budget", "fuel_type", "notes", "created_at")

# Header texts each field is recognised by. Compared after NFKC, case folding and
# removing everything but letters and digits ("E-mail" = "email", "Customer Name" =
# "customername"); a header is also tried without bracketed asides ("手机号（必填）").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "客户姓名", "客户名称", "名字", "客户", "联系人", "name", "customer",
             "customer name", "full name"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "联系方式", "电话号码", "移动电话",
              "客户手机", "客户电话", "客户手机号", "mobile", "phone", "tel", "telephone",
              "phone number", "mobile phone", "cellphone", "cell phone"),
    "email": ("邮箱", "电子邮箱", "邮件", "电子邮件", "邮箱地址", "email", "e-mail", "email address",
              "mail"),
    "wechat_id": ("微信", "微信号", "微信id", "wechat", "wechat id", "weixin"),
    "city": ("城市", "所在城市", "city"),
    "language": ("语言", "语种", "language"),
    "source": ("来源", "客户来源", "线索来源", "渠道", "来源渠道", "source", "lead source", "channel"),
    "tags": ("标签", "客户标签", "tags", "tag"),
    "brand": ("品牌", "意向品牌", "brand"),
    "model": ("车型", "意向车型", "车系", "意向车系", "model"),
    "budget": ("预算", "购车预算", "预算范围", "budget"),
    "fuel_type": ("燃料", "燃料类型", "能源类型", "动力", "动力类型", "fuel", "fuel type"),
    "notes": ("备注", "说明", "备注说明", "notes", "note", "remark", "remarks", "comments", "comment"),
    "created_at": ("创建时间", "创建日期", "登记日期", "登记时间", "日期", "录入时间", "录入日期",
                   "created", "created at", "created date", "date"),
}

HEADER_SCAN_ROWS = 30        # non-blank rows searched for the header row
MAX_BLANK_RUN = 10_000       # this many blank rows in a row end the sheet
MAX_TEXT = 200
MAX_NOTES = 2000
MIN_BUDGET_YUAN = 1000
MAX_BUDGET_YUAN = 1_000_000_000
EXCEL_EPOCH = datetime(1899, 12, 30)


class UnreadableFile(ValueError):
    """The upload cannot be read as a spreadsheet; the message says why."""


@dataclass
class Sheet:
    headers: list[str]
    rows: Iterator[tuple[int, list]]
    count: Callable[[], int | None]  # what ``total`` is, worked out only when asked

    @cached_property
    def total(self) -> int | None:
        return self.count()


# ---------------------------------------------------------------- headers

def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕|<[^>]*>|《[^》]*》")


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field, synonyms in SYNONYMS.items():
        for synonym in synonyms:
            key = _key(synonym)
            if lookup.setdefault(key, field) != field:
                raise AssertionError(f"header {synonym!r} is listed for two fields")
    return lookup


_LOOKUP = _build_lookup()


def _field_for(header) -> str | None:
    if header is None:
        return None
    text = unicodedata.normalize("NFKC", header if isinstance(header, str) else str(header))
    field = _LOOKUP.get(_key(text))
    if field is None and _BRACKETED.search(text):
        field = _LOOKUP.get(_key(_BRACKETED.sub("", text)))
    return field


def suggest_mapping(headers: list[str]) -> dict[int, str]:
    """Column index -> field for the headers recognised; the first column wins a field."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        field = _field_for(header)
        if field is not None and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping


# ---------------------------------------------------------------- cells

_EDGE_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!",
                 "#GETTING_DATA", "#SPILL!", "#CALC!"}
_FLOAT_TEXT = re.compile(r"\d+(?:\.\d*)?[eE][+-]?\d+|\d*\.\d+[eE][+-]?\d+|\d+\.0+")


def _strip(text: str) -> str:
    while True:
        stripped = text.strip().strip(_EDGE_INVISIBLE)
        if stripped == text:
            return text
        text = stripped


def _whole_number_text(number: Decimal) -> str | None:
    if not number.is_finite() or abs(number.adjusted()) > 30:
        return None
    if number != number.to_integral_value():
        return None
    return str(int(number))


def clean_cell(value) -> str | datetime | date | None:
    """A cell as openpyxl or csv gave it -> stripped NFKC text, a date/datetime, or None."""
    if value is None:
        return None
    if type(value) is str:  # most cells: the other types' checks skipped
        return _clean_text(value)
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:          # beyond Python's int-to-text digit limit
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return _whole_number_text(value) or format(value, "f")
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return _clean_text(value if isinstance(value, str) else str(value))


def _clean_text(text: str) -> str | None:
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _strip(text)
    if not text or text in _EXCEL_ERRORS:
        return None
    if text[0] in "0123456789." and _FLOAT_TEXT.fullmatch(text):
        try:
            whole = _whole_number_text(Decimal(text))
        except InvalidOperation:
            whole = None
        if whole is not None:
            return whole
    return text


def _as_text(value) -> str:
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _shown(value) -> str:
    text = _as_text(value)
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


# ---------------------------------------------------------------- fields

_PHONE_SPLIT = re.compile(r"[/,;、\n]+")
_EMAIL_SPLIT = re.compile(r"[/,;、\s]+")
_TAG_SPLIT = re.compile(r"[,，;；、/\n]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DIGIT = re.compile(r"[0-9]")


def _read_text(field: str, limit: int) -> Callable:
    def read(value, found, error, today):
        text = _as_text(value)
        if len(text) > limit:
            error(field, f"{field} is longer than {limit} characters")
        else:
            found[field] = text
    return read


def _read_phone(value, found, error, today):
    if not isinstance(value, str):
        error("phone", f"{_shown(value)} is not a phone number")
        return
    if len(_DIGIT.findall(value)) < 5:     # "n/a", "无/空" are one bad cell, not two
        error("phone", f"{_shown(value)} is not a phone number")
        return
    for piece in _PHONE_SPLIT.split(value):
        piece = piece.strip()
        if not piece:
            continue
        if len(_DIGIT.findall(piece)) < 5:
            error("phone", f"{_shown(piece)} is not a phone number")
        elif len(piece) > 50:
            error("phone", f"{_shown(piece)} is too long for a phone number")
        elif piece not in found["phones"]:
            found["phones"].append(piece)


def _read_email(value, found, error, today):
    text = _as_text(value)
    if "@" not in text:                          # "无", "wl at example": one bad cell
        error("email", f"{_shown(value)} is not an email address")
        return
    for piece in _EMAIL_SPLIT.split(text):
        email = piece.strip().lower()
        if email.startswith("mailto:"):
            email = email[len("mailto:"):]
        if not email:
            continue
        if len(email) > 254 or not _EMAIL.fullmatch(email):
            error("email", f"{_shown(piece)} is not an email address")
        elif email not in found["emails"]:
            found["emails"].append(email)


def _read_tags(value, found, error, today):
    tags: list[str] = []
    for piece in _TAG_SPLIT.split(_as_text(value)):
        tag = piece.strip()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TEXT:
            error("tags", f"a tag is longer than {MAX_TEXT} characters")
        else:
            tags.append(tag)
    if tags:
        found["tags"] = tags


# Budget texts: qualifiers are taken off first, then "N[unit]" or "N[unit]-M[unit]".
_BUDGET_NOISE = ("人民币", "rmb", "cny", "¥", "元", "块", "左右", "上下", "之间", "大约", "大概", "约")
_UP_TO_SUFFIX = ("以内", "以下", "之内", "内")
_UP_TO_PREFIX = ("不超过", "最多", "最高", "<=", "≤", "<")
_FROM_SUFFIX = ("及以上", "以上", "起")
_FROM_PREFIX = ("至少", "不低于", "最低", ">=", "≥", ">")
_AMOUNT = r"(\d{1,15}(?:\.\d{1,6})?)(万|w|千|k)?"
_BUDGET = re.compile(rf"{_AMOUNT}(?:(?:-|~|至|到|—|–){_AMOUNT})?")
_UNITS = {None: 1, "万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}
_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def _parse_budget(text: str) -> tuple[int | None, int | None]:
    """(min, max) in fen; ValueError with the reason when the text is not a budget."""
    t = _THOUSANDS.sub("", _SPACES.sub("", text.lower()))
    for noise in _BUDGET_NOISE:
        t = t.replace(noise, "")
    bound = None
    for suffix in _UP_TO_SUFFIX + _FROM_SUFFIX:
        if t.endswith(suffix):
            bound = "up_to" if suffix in _UP_TO_SUFFIX else "from"
            t = t[:-len(suffix)]
            break
    for prefix in _UP_TO_PREFIX + _FROM_PREFIX:
        if bound is None and t.startswith(prefix):
            bound = "up_to" if prefix in _UP_TO_PREFIX else "from"
            t = t[len(prefix):]
    match = _BUDGET.fullmatch(t)
    if not match:
        raise ValueError(f"{_shown(text)} is not a budget (write e.g. 15万 or 15-20万)")
    low, low_unit, high, high_unit = match.groups()
    if high is None:
        amounts = [(low, low_unit)]
    else:
        amounts = [(low, low_unit or high_unit), (high, high_unit or low_unit)]
    fen = []
    for number, unit in amounts:
        yuan = Decimal(number) * _UNITS[unit]
        if yuan < MIN_BUDGET_YUAN:
            raise ValueError(f"budget {_shown(text)} is under 1,000 yuan; write {number}万 for "
                             f"{number} × 10,000 yuan")
        if yuan > MAX_BUDGET_YUAN:
            raise ValueError(f"budget {_shown(text)} is too large")
        fen.append(int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    if len(fen) == 2:
        return min(fen), max(fen)
    if bound == "up_to":
        return 0, fen[0]
    if bound == "from":
        return fen[0], None
    return fen[0], fen[0]


def _read_budget(value, found, error, today):
    if not isinstance(value, str):
        error("budget", f"{_shown(value)} is not a budget")
        return
    try:
        low, high = _parse_budget(value)
    except ValueError as exc:
        error("budget", str(exc))
    else:
        found["budget"] = {"min": low, "max": high}


_FUEL_EXACT = {
    **dict.fromkeys(("ice", "汽油", "燃油", "油车", "汽油车", "燃油车", "柴油", "gasoline", "petrol",
                     "diesel", "gas"), "ICE"),
    **dict.fromkeys(("hev", "混动", "油电混合", "油电混动", "混合动力", "hybrid", "轻混", "mhev",
                     "强混"), "HEV"),
    **dict.fromkeys(("phev", "插混", "插电混动", "插电混合", "插电式混合动力", "pluginhybrid",
                     "增程", "增程式", "erev", "reev"), "PHEV"),
    **dict.fromkeys(("ev", "bev", "纯电", "纯电动", "电动", "电动车", "电车", "新能源", "electric",
                     "nev"), "EV"),
}
# Tried in order when the whole text is not a known word: plug-ins before hybrids
# before electric before "油" (which hybrids contain too).
_FUEL_KEYWORDS = (("插电", "PHEV"), ("插混", "PHEV"), ("增程", "PHEV"), ("plug", "PHEV"),
                  ("phev", "PHEV"), ("混", "HEV"), ("hybrid", "HEV"), ("hev", "HEV"),
                  ("纯电", "EV"), ("电动", "EV"), ("新能源", "EV"), ("bev", "EV"),
                  ("electric", "EV"), ("油", "ICE"), ("gasoline", "ICE"), ("petrol", "ICE"),
                  ("diesel", "ICE"))


def _read_fuel(value, found, error, today):
    key = _key(_as_text(value))
    fuel = _FUEL_EXACT.get(key)
    if fuel is None:
        words = set(re.findall(r"[a-z]+", _as_text(value).lower()))
        for keyword, candidate in _FUEL_KEYWORDS:
            if (keyword in words) if keyword.isascii() else (keyword in key):
                fuel = candidate
                break
        else:
            if "ev" in words:
                fuel = "EV"
    if fuel is None:
        error("fuel_type", f"{_shown(value)} is not a fuel type (汽油, 混动, 插混 or 纯电)")
    else:
        found["fuel_type"] = fuel


_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T|\s*日?)(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?)?")


_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?")
_YYYYMMDD = re.compile(r"(?:19|20)\d{6}")


def _parse_date(value) -> datetime:
    """ValueError when ``value`` is not a date this module can read."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    text = _as_text(value)
    if _SERIAL.fullmatch(text):
        serial = float(text)
        if 20000 <= serial <= 80000:
            return EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))
    if _YYYYMMDD.fullmatch(text):
        return datetime.strptime(text, "%Y%m%d")
    match = _DATE_TEXT.fullmatch(text)
    if match:
        parts = [int(part) if part else 0 for part in match.groups()]
        return datetime(*parts)
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=None)


def _read_created_at(value, found, error, today):
    try:
        created = _parse_date(value)
    except (ValueError, OverflowError):
        error("created_at", f"{_shown(value)} is not a date (write e.g. 2025-03-01)")
        return
    if created.date() > today:
        error("created_at", f"{_shown(value)} is in the future")
    else:
        found["created_at"] = created


_READERS: dict[str, Callable] = {
    "name": _read_text("name", MAX_TEXT),
    "phone": _read_phone,
    "email": _read_email,
    "wechat_id": _read_text("wechat_id", MAX_TEXT),
    "city": _read_text("city", MAX_TEXT),
    "language": _read_text("language", MAX_TEXT),
    "source": _read_text("source", MAX_TEXT),
    "tags": _read_tags,
    "brand": _read_text("brand", MAX_TEXT),
    "model": _read_text("model", MAX_TEXT),
    "budget": _read_budget,
    "fuel_type": _read_fuel,
    "notes": _read_text("notes", MAX_NOTES),
    "created_at": _read_created_at,
}


def read_row(values: list, mapping: dict[int, str], *, today: date) -> tuple[dict, dict[str, list[str]]]:
    """One data row -> (the customer fields found, error messages by field)."""
    found: dict = {"phones": [], "emails": []}
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for index, field in sorted(mapping.items()):
        reader = _READERS.get(field)
        if reader is None or not 0 <= index < len(values):
            continue
        value = clean_cell(values[index])
        if value is not None:
            reader(value, found, error, today)
    if not (found.get("name") or found["phones"] or found["emails"]):
        error("row", "no name, phone or email")
    return found, errors


# ---------------------------------------------------------------- files

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_sheet(content: bytes, filename: str) -> Sheet:
    """The first worksheet of an .xlsx or a .csv upload, its header found, rows streamed."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not content:
        raise UnreadableFile("The file is empty.")
    if suffix in (".xls", ".et") or content.startswith(_OLE_MAGIC):
        raise UnreadableFile("This is an old-style .xls workbook or a password-protected one; "
                             "save it as .xlsx (without a password) or .csv and upload it again.")
    if suffix in (".xlsx", ".xlsm") or (suffix in (".csv", ".tsv", ".txt")
                                        and content.startswith(_ZIP_MAGIC)):
        return _open_xlsx(content)
    if suffix in (".csv", ".tsv", ".txt"):
        return _open_csv(content)
    raise UnreadableFile(f"Only .xlsx and .csv files can be read, not "
                         f"{suffix or 'a file without an extension'}.")


def _open_xlsx(content: bytes) -> Sheet:
    if not content.startswith(_ZIP_MAGIC):
        raise UnreadableFile("This is not an .xlsx workbook; save it from Excel as .xlsx or .csv.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
            reader.read_manifest()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
        path = next((rel.target for _, rel in reader.parser.find_sheets()
                     if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
        strings: list[str] = []
        part = reader.package.find(SHARED_STRINGS)
        if path is not None and part is not None:
            with reader.archive.open(part.PartName[1:]) as source:
                for _ in _read_xml(source, strings, _Dates(reader.wb), {}):
                    pass
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile("The .xlsx workbook is damaged and cannot be read; open it in Excel, "
                             "save it again and upload it again.") from exc
    if path is None:
        reader.archive.close()
        raise UnreadableFile("The workbook has no worksheet.")
    seen: dict = {}

    def numbered() -> Iterator[tuple[int, list]]:
        try:
            with reader.archive.open(path) as source:
                expected = 1
                for number, values in _read_xml(source, strings, _Dates(reader.wb), seen):
                    for missing in range(expected, number):  # rows the XML leaves out are blank
                        yield missing, []
                    if number >= expected:
                        yield number, values
                        expected = number + 1
        except UnreadableFile:
            raise
        except Exception as exc:
            raise UnreadableFile("The .xlsx workbook is damaged further down and cannot be read "
                                 "to its end.") from exc

    def total(header_end: int) -> int | None:
        last_row = _dimension_last_row(seen.get("dimension")) or _count_rows(content, path)
        return last_row - header_end if last_row and last_row >= header_end else None

    return _sheet(numbered(), total, reader.archive.close)


# The worksheet's XML is read with expat's own handlers rather than
# ElementTree's (through defusedxml, openpyxl spends about ten times as long
# per element): the values come out as openpyxl's read-only, data-only mode
# gives them. Like defusedxml, no entity is ever declared, let alone expanded:
# a document type declaration, the only place one can be, is refused.
_TAGS = {tag: f"{SHEET_MAIN_NS} {tag}" for tag in ("row", "c", "v", "is", "si", "t", "rPh", "dimension")}
_ROW, _CELL, _VALUE, _INLINE, _ITEM, _TEXT, _PHONETIC, _DIMENSION = _TAGS.values()
_CHUNK = 1 << 16
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?row[\s/>]")


class _Dates:
    """Which cells hold dates: the styles openpyxl read from the workbook."""

    def __init__(self, workbook):
        self.styles, self.durations, self.epoch = (workbook._date_formats, workbook._timedelta_formats,
                                                   workbook.epoch)

    def read(self, number: float, style: int):
        try:
            return from_excel(number, self.epoch, timedelta=style in self.durations)
        except (OverflowError, ValueError):
            return "#VALUE!"  # openpyxl's reading of a date out of range: an error, so empty


def _refuse_doctype(*_) -> None:
    raise UnreadableFile("The .xlsx workbook holds a document type declaration, which Excel never "
                         "writes; it is not read.")


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        return int(number)


def _column(reference: str) -> int:
    return column_index_from_string(reference.rstrip("0123456789"))


def _typed(kind: str, style: str | None, text: str, strings: list, dates: _Dates):
    """A cell's ``<v>`` as openpyxl's data-only reading makes it (formulas give their value)."""
    if not text:
        return None
    if kind == "n":
        number = float(text) if "." in text or "E" in text or "e" in text else int(text)
        if style and int(style) in dates.styles:
            return dates.read(number, int(style))
        return number
    if kind == "s":
        return strings[int(text)]
    if kind == "b":
        return bool(int(text))
    if kind == "d":
        return from_ISO8601(text)
    return text  # str (a formula's text), e (an error such as #N/A)


def _read_xml(source, strings: list, dates: _Dates, seen: dict) -> Iterator[tuple[int, list]]:
    """The rows of a worksheet's XML (a binary stream), each ``(row number,
    cleaned values)`` with ``None`` for a cell left out, in the order
    written; the range of ``<dimension>`` in ``seen``. Of a shared strings
    table, each ``<si>``'s text is appended to ``strings`` (as openpyxl
    reads one: runs joined, phonetic guides left out)."""
    rows: list = []
    cells: list = []
    parts: list = []
    number = column = 0
    kind = style = inline = None
    collecting = phonetic = False

    def start(name, attributes):
        nonlocal number, column, kind, style, inline, collecting, phonetic
        if name == _CELL:
            reference = attributes.get("r")
            column = _column(reference) if reference else column + 1
            kind, style, inline = attributes.get("t", "n"), attributes.get("s"), None
            parts.clear()
        elif name == _VALUE:
            collecting = True
            parts.clear()
        elif name == _TEXT:
            collecting = not phonetic
        elif name == _ROW:
            reference = attributes.get("r")
            number = _row_number(reference) if reference else number + 1
            column = 0
            cells.clear()
        elif name == _INLINE or name == _ITEM:
            parts.clear()
        elif name == _PHONETIC:
            phonetic = True
        elif name == _DIMENSION:
            seen["dimension"] = attributes.get("ref")

    def end(name):
        nonlocal inline, collecting, phonetic
        if name == _CELL:
            value = inline if kind == "inlineStr" else _typed(kind, style, "".join(parts), strings, dates)
            cells.append((column, clean_cell(value)))
        elif name == _VALUE or name == _TEXT:
            collecting = False
        elif name == _ROW:
            width = cells[-1][0] if cells else 0  # as openpyxl: up to the last cell written
            values = [None] * width
            for index, value in cells:
                if 0 < index <= width:
                    values[index - 1] = value
            rows.append((number, values))
        elif name == _INLINE:
            inline = "".join(parts)
        elif name == _ITEM:
            strings.append("".join(parts).replace("x005F_", ""))
        elif name == _PHONETIC:
            phonetic = False

    def text(data):
        if collecting:
            parts.append(data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    while chunk := source.read(_CHUNK):
        parser.Parse(chunk, False)
        yield from rows
        rows.clear()
    parser.Parse(b"", True)
    yield from rows


def _dimension_last_row(reference: str | None) -> int | None:
    try:
        return range_boundaries(reference)[3] if reference else None
    except (ValueError, TypeError):
        return None  # unreadable: as if none were recorded


def _count_rows(content: bytes, path: str) -> int:
    """The ``<row>`` elements of a worksheet without a recorded dimension,
    counted in its XML as it is decompressed, not parsed (a tenth of a
    second for 100,000 rows): an estimate of its last row for progress."""
    count, pending = 0, b""
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open(path) as source:
        while chunk := source.read(1 << 20):
            pending += chunk
            # a row's start tag cut off by the chunk's end begins at the last "<", near the end
            cut = pending.rfind(b"<", max(len(pending) - 64, 0))
            cut = len(pending) if cut < 0 else cut
            count += len(_ROW_START.findall(pending, 0, cut))
            pending = pending[cut:]
    return count + len(_ROW_START.findall(pending))


def _decode(content: bytes) -> str:
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", errors="replace")
    if b"\x00" in content[:4096]:
        raise UnreadableFile("This is not a CSV text file.")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise UnreadableFile("The CSV file's text encoding is not UTF-8 or GBK; save it as "
                             "\"CSV UTF-8\" and upload it again.") from None


def _sniff_delimiter(text: str) -> str:
    sample = list(_first_lines(text, 50))
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t"):
        widths = []
        reader = csv.reader(sample, delimiter=delimiter)
        try:
            for record in reader:
                if any(cell.strip() for cell in record):
                    widths.append(len(record))
        except csv.Error:
            pass
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = (count, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_lines(text: str, count: int) -> Iterator[str]:
    for index, line in enumerate(io.StringIO(text, newline="")):
        if index >= count:
            return
        yield line


def _open_csv(content: bytes) -> Sheet:
    text = _decode(content)
    first = next(_first_lines(text, 1), "")
    hint = re.fullmatch(r"sep=(.)\r?\n?", first)
    if hint:
        delimiter = hint.group(1)
        text = text[len(first):]
    else:
        delimiter = _sniff_delimiter(text)
    line_of: dict[int, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def numbered() -> Iterator[tuple[int, list]]:
        number = 0
        try:
            for number, record in enumerate(reader, 1):
                if number <= HEADER_SCAN_ROWS * 10:
                    line_of[number] = reader.line_num
                yield number, [clean_cell(cell) for cell in record]
        except csv.Error as exc:
            raise UnreadableFile(f"The CSV file cannot be read after row {number}: {exc}.") from exc

    def total(header_end: int) -> int | None:
        after = line_of.get(header_end)
        if after is None:
            return None
        strip = " \t\r\n,;\ufeff"
        return sum(1 for index, line in enumerate(io.StringIO(text, newline=""), 1)
                   if index > after and line.strip(strip))

    return _sheet(numbered(), total, lambda: None)


def _blank(values: list) -> bool:
    return all(value is None for value in values)


def _header_texts(values: list) -> list[str]:
    texts = [_as_text(value) for value in values]
    while texts and not texts[-1]:
        texts.pop()
    return texts


_LOOKS_LIKE_DATA = re.compile(r"\d{5}|@")     # a phone, an email: a data row, not a sub-header


def _is_sub_header(header: list[str], below: list) -> bool:
    if _blank(below) or not all(value is None or isinstance(value, str) for value in below):
        return False
    texts = _header_texts(below)
    if any(_LOOKS_LIKE_DATA.search(text) for text in texts):
        return False
    return any(_field_for(text) is not None and (index >= len(header) or not header[index])
               for index, text in enumerate(texts))


def _sheet(numbered: Iterator[tuple[int, list]], total: Callable[[int], int | None],
           close: Callable[[], None]) -> Sheet:
    head: list[tuple[int, list]] = []
    header_at = None
    non_blank = blank_run = 0
    try:
        for number, values in numbered:
            head.append((number, values))
            if _blank(values):
                blank_run += 1
                if blank_run >= MAX_BLANK_RUN:
                    break
                continue
            blank_run = 0
            non_blank += 1
            if len(suggest_mapping(_header_texts(values))) >= 2:
                header_at = len(head) - 1
                break
            if non_blank >= HEADER_SCAN_ROWS:
                break
        if header_at is None:
            header_at = next((i for i, (_, values) in enumerate(head) if not _blank(values)), None)
        if header_at is None:
            raise UnreadableFile("The file has no rows to read (in .xlsx, the first worksheet is empty).")
        header = _header_texts(head[header_at][1])
        header_end = head[header_at][0]
        rest = chain(head[header_at + 1:], numbered)
        following = next(rest, None)
        if following is not None and _is_sub_header(header, following[1]):
            below = _header_texts(following[1])
            width = max(len(header), len(below))
            header += [""] * (width - len(header))
            header = [below[i] if i < len(below) and below[i] else header[i] for i in range(width)]
            header_end = following[0]
        elif following is not None:
            rest = chain([following], rest)
    except BaseException:
        close()
        raise
    width = len(header)

    def rows() -> Iterator[tuple[int, list]]:
        run = 0
        try:
            for number, values in rest:
                values = list(values[:width]) + [None] * (width - len(values))
                if _blank(values):
                    run += 1
                    if run >= MAX_BLANK_RUN:
                        return
                    continue
                run = 0
                yield number, values
        finally:
            close()

    return Sheet(headers=header, rows=rows(), count=lambda: total(header_end))
