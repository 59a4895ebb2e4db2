"""Script templates (话术): what a sales consultant says or sends, per funnel
stage and situation, in Chinese and English.

Pure: no database, no nameko. The templates are data, in ``scripts.yaml``
beside this module; this module reads, validates, merges and renders them.

A template is a dict::

    {"id": "objection_price",                # stable slug, [a-z0-9][a-z0-9_-]{0,63}
     "situation": "objection_price",         # slug (SITUATIONS lists the built-in ones)
     "stages": ["needs_confirmed", ...],     # the funnel stages it fits (STAGES)
     "texts": {"zh": "...", "en": "..."},    # at least one language of LANGUAGES; 1..2000 chars each
     "title": {"zh": "...", "en": "..."},    # optional; 1..80 chars each
     "addresses": ["price_sensitive"],       # optional: trait ids it answers (customers' lexicon keys:
                                             #   finance, concern:range ...; "competitor:*" = any competitor)
     "channels": ["call"]}                   # optional: where it is used (CHANNELS); empty = anywhere

Placeholders. A text names a value as ``{name}``: a brace, a name from
PLACEHOLDERS, a brace, nothing else inside (no spaces, no dots, no format
specs). ``render`` replaces each with its value. A placeholder without a
usable value (missing, empty, not text or a number), or with a name outside
PLACEHOLDERS, stays visible as ``【name】`` for the consultant to fill, and is
reported. Nothing else is interpreted: a text is never passed to
``str.format``, a value is inserted as plain text and never scanned again, and
``{customer_name.__class__}`` or ``{0}`` are just characters.
``validate_template`` refuses placeholders outside PLACEHOLDERS, so a stored
template only ever shows a marker for a value the caller did not have.

Loading. ``load()`` reads the default ``scripts.yaml``, or, when the env var
``DEALERFLOW_SCRIPTS`` (or the ``path`` argument, which wins) names a file,
that file instead: a group's file replaces the default library, unless it says
``extends_default: true``, in which case its templates are merged over the
default's by ``merge`` (same id replaces, new ids are added). Every template
goes through ``validate_template``; a file that is missing, is not YAML, has
another shape, repeats an id or holds a bad template raises ``ScriptError``
naming the file, the template and the field. ``library()`` loads once per
process and hands out copies.

Values. ``customer_title(name, gender, language)`` and
``format_price(minor_units, currency, language)`` make the two values whose
shape is a convention (王先生, 21.58万元); the rest are the caller's text.

Store overrides (through the API) are validated with ``validate_template`` and
combined with the group's library by ``merge(group, store_overrides)``.
"""
from __future__ import annotations

import copy
import functools
import os
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("scripts.yaml")
ENV_VAR = "DEALERFLOW_SCRIPTS"

LANGUAGES = ("zh", "en")
STAGES = ("initial_contact", "needs_confirmed", "proposal", "negotiation", "after_sales")
CHANNELS = ("call", "wechat", "sms", "visit", "email")
PLACEHOLDERS = (
    "customer_name", "customer_title", "consultant_name", "store_name", "brand", "model", "trim",
    "price", "test_drive_time", "competitor", "concern",
)
# The situations of the default library (a group or store may add others).
SITUATIONS = (
    "first_contact", "needs_discovery", "product_introduction", "store_invitation",
    "test_drive_confirmation", "after_test_drive", "quote_followup",
    "objection_price", "objection_competitor", "objection_new_model", "objection_trade_in_value",
    "objection_financing", "concern", "unreachable", "nurture", "reactivation", "after_sales",
)

MAX_TEXT = 2000
MAX_TITLE = 80
MARKER = "【{}】"

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TRAIT = re.compile(r"^[a-z][a-z0-9_]{0,63}(?::(?:[a-z0-9_]{1,64}|\*))?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")        # a text may hold \t and \n
_VALUE_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")  # a value is one line of plain text
_TEMPLATE_KEYS = ("id", "situation", "stages", "texts", "title", "addresses", "channels")
_FILE_KEYS = {"version", "extends_default", "templates"}


class ScriptError(ValueError):
    """A template or a template file that cannot be used; ``field`` names the bad field."""

    def __init__(self, message: str, field: str | None = None, template: str | None = None):
        self.message = message
        self.field = field
        self.template = template
        super().__init__(f"{field}: {message}" if field else message)


# -- rendering -------------------------------------------------------------

def placeholders(text: str) -> list[str]:
    """The placeholder names in ``text``, in order of first use."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(text)))


def _plain(value) -> str | None:
    """A value as one line of plain text, or None when it is not usable.

    Only exact ``int``/``float``/``Decimal`` and strings count; no ``__str__``
    or ``__format__`` of the caller's objects is ever called.
    """
    if isinstance(value, str):
        text = str.__str__(value)
    elif type(value) in (int, float, Decimal):
        text = repr(value) if type(value) is not Decimal else str(value)
    else:
        return None
    text = _VALUE_CONTROL.sub(" ", text).strip()
    return text or None


def render(text: str, values: Mapping | None) -> tuple[str, list[str]]:
    """``text`` with each ``{placeholder}`` filled from ``values``; and the names left unfilled.

    An unfilled placeholder (no usable value, or a name outside PLACEHOLDERS)
    stays as ``【name】``. Never raises; never evaluates anything.
    """
    if not isinstance(text, str):
        return "", []
    values = values if isinstance(values, Mapping) else {}
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        name = match.group(1)
        value = None
        if name in PLACEHOLDERS:
            try:
                value = _plain(values.get(name))
            except Exception:  # a hostile Mapping: a missing value, not a crash
                value = None
        if value is None:
            if name not in missing:
                missing.append(name)
            return MARKER.format(name)
        return value

    return _PLACEHOLDER.sub(fill, text), missing


# -- values ----------------------------------------------------------------

_COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
    "司徒", "夏侯", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "澹台", "公冶", "太史", "申屠",
)
_HAN = re.compile(r"^[\u3400-\u9fff]+$")
_MALE = {"m", "male", "man", "mr", "男", "先生"}
_FEMALE = {"f", "female", "woman", "ms", "mrs", "女", "女士"}


def customer_title(name: str | None, gender: str | None = None, language: str = "zh") -> str | None:
    """How a script addresses the customer: 王先生 / 王女士 (zh), Mr. 王 / Ms. Wang Lei (en).

    The surname is the first character of a Chinese name (two for 欧阳, 司马 ...);
    a name in Latin letters is used whole. Without a known gender, the name
    itself; without a name, None (the placeholder stays for the consultant).
    """
    name = _plain(name)
    if name is None:
        return None
    sex = "m" if str(gender or "").strip().casefold() in _MALE else (
        "f" if str(gender or "").strip().casefold() in _FEMALE else None)
    if sex is None:
        return name
    han = bool(_HAN.match(name))
    surname = name
    if han and len(name) >= 2:
        surname = name[:2] if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else name[0]
    if str(language or "zh").lower().startswith("zh"):
        return f"{surname}{'先生' if sex == 'm' else '女士'}"
    return f"{'Mr.' if sex == 'm' else 'Ms.'} {surname}"


def format_price(minor_units: int | None, currency: str = "CNY", language: str = "zh") -> str | None:
    """A price for ``{price}``: 21.58万元 / 8,800元 (zh, CNY), CNY 215,800 (en); None without one."""
    if type(minor_units) is not int:
        return None
    currency = (currency or "CNY").upper()
    digits = 0 if currency in ("JPY", "KRW") else 2
    amount = Decimal(minor_units).scaleb(-digits)
    whole = amount == amount.to_integral_value()
    if currency == "CNY" and str(language or "zh").lower().startswith("zh"):
        if abs(amount) >= 10000:
            wan = (amount / 10000).quantize(Decimal("0.01"))
            return f"{wan.normalize():f}万元"
        return f"{amount:,.0f}元" if whole else f"{amount:,.2f}元"
    return f"{currency} {amount:,.0f}" if whole else f"{currency} {amount:,.2f}"


# -- validating ------------------------------------------------------------

def validate_template(template: Mapping) -> dict:
    """The template, checked and normalised; ``ScriptError(message, field)`` if it is not usable.

    Checks: no unknown keys; ``id`` and ``situation`` slugs; ``stages`` a
    non-empty list of STAGES; ``texts`` a map of LANGUAGES (at least one) to
    1..2000 characters, without control characters, using only PLACEHOLDERS;
    optional ``title`` (1..80 characters per language), ``addresses`` (trait
    ids) and ``channels`` (CHANNELS). Texts are stripped and get ``\\n`` line ends.
    """
    if not isinstance(template, Mapping):
        raise ScriptError("a template must be an object", "template")
    unknown = [str(k) for k in template if k not in _TEMPLATE_KEYS]
    if unknown:
        raise ScriptError(f"unknown field(s) {', '.join(sorted(unknown))}; a template has "
                          f"{', '.join(_TEMPLATE_KEYS)}", unknown[0])
    out: dict = {}
    for key in ("id", "situation"):
        value = template.get(key)
        if not isinstance(value, str) or not _SLUG.match(value):
            raise ScriptError("required: lower-case letters, digits, '_' or '-', at most 64 characters", key)
        out[key] = value

    stages = template.get("stages")
    if not isinstance(stages, list) or not stages:
        raise ScriptError(f"required: a non-empty list of stages ({', '.join(STAGES)})", "stages")
    for i, stage in enumerate(stages):
        if stage not in STAGES:
            raise ScriptError(f"unknown stage {stage!r} (known: {', '.join(STAGES)})", f"stages[{i}]")
    out["stages"] = list(dict.fromkeys(stages))

    out["texts"] = _texts(template.get("texts"), "texts", MAX_TEXT, required=True, check_placeholders=True)
    out["title"] = _texts(template.get("title"), "title", MAX_TITLE, required=False, check_placeholders=False)

    out["addresses"] = _list(template.get("addresses"), "addresses",
                             lambda v: isinstance(v, str) and _TRAIT.match(v),
                             "a trait id such as finance, concern:range or competitor:*")
    out["channels"] = _list(template.get("channels"), "channels", lambda v: v in CHANNELS,
                            f"one of {', '.join(CHANNELS)}")
    return out


def _texts(value, field: str, limit: int, *, required: bool, check_placeholders: bool) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping) or not value:
        raise ScriptError(f"required: an object of language to text ({', '.join(LANGUAGES)})", field)
    out = {}
    for lang, text in value.items():
        where = f"{field}.{lang}"
        if lang not in LANGUAGES:
            raise ScriptError(f"unknown language (known: {', '.join(LANGUAGES)})", where)
        if not isinstance(text, str):
            raise ScriptError("must be text", where)
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not 1 <= len(text) <= limit:
            raise ScriptError(f"must be 1 to {limit} characters (has {len(text)})", where)
        if _CONTROL.search(text):
            raise ScriptError("control characters are not allowed", where)
        if check_placeholders:
            unknown = [name for name in placeholders(text) if name not in PLACEHOLDERS]
            if unknown:
                raise ScriptError(
                    f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                    f"known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}", where)
        out[lang] = unicodedata.normalize("NFC", text)
    return {lang: out[lang] for lang in LANGUAGES if lang in out}


def _list(value, field: str, ok, expected: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScriptError(f"must be a list, each {expected}", field)
    for i, item in enumerate(value):
        if not ok(item):
            raise ScriptError(f"{item!r} is not {expected}", f"{field}[{i}]")
    return list(dict.fromkeys(value))


# -- combining -------------------------------------------------------------

def merge(group: list[dict], store_overrides: list[dict]) -> list[dict]:
    """The group's templates with the store's over them.

    A store template with a group template's id takes its place (same
    position); a store-only id is added after the group's, in the store's
    order; within one list, a repeated id's last occurrence wins. Neither
    argument is changed.
    """
    out: dict[str, dict] = {}
    for template in list(group or []) + list(store_overrides or []):
        out[template["id"]] = dict(template)  # dict keeps the first position of a replaced key
    return list(out.values())


def fits(template: Mapping, stage: str) -> bool:
    """Whether ``template`` is meant for ``stage``."""
    return stage in (template.get("stages") or ())


def find(templates: list[dict], template_id: str) -> dict | None:
    """The template with ``template_id``, or None."""
    return next((t for t in templates if t.get("id") == template_id), None)


# -- loading ---------------------------------------------------------------

def load(path: str | os.PathLike | None = None) -> list[dict]:
    """The validated library: ``path``, else $DEALERFLOW_SCRIPTS, else the default file."""
    chosen = path if path is not None else (os.environ.get(ENV_VAR) or "").strip() or None
    if chosen is None:
        templates, _ = _read(DEFAULT_PATH)
        return templates
    templates, extends = _read(Path(chosen))
    if extends:
        default, _ = _read(DEFAULT_PATH)
        templates = merge(default, templates)
    return templates


@functools.cache
def _cached() -> tuple[dict, ...]:
    return tuple(load())


def library() -> list[dict]:
    """The process's library (loaded and validated at the first call); a copy the caller may change."""
    return copy.deepcopy(list(_cached()))


library.cache_clear = _cached.cache_clear  # tests and a reload after changing the env var


def _read(path: Path) -> tuple[list[dict], bool]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read the script templates: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ScriptError(f"{path}: must be a mapping with a 'templates' list", "templates")
    unknown = sorted(str(k) for k in doc if k not in _FILE_KEYS)
    if unknown:
        raise ScriptError(f"{path}: unknown top-level key(s) {', '.join(unknown)}", unknown[0])
    extends = doc.get("extends_default", False)
    if not isinstance(extends, bool):
        raise ScriptError(f"{path}: extends_default must be true or false", "extends_default")
    items = doc.get("templates")
    if not isinstance(items, list) or not items:
        raise ScriptError(f"{path}: 'templates' must be a non-empty list", "templates")
    templates: list[dict] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get("id") if isinstance(item, dict) else None
        label = f"template {name!r} (#{i + 1})" if isinstance(name, str) else f"template #{i + 1}"
        try:
            template = validate_template(item)
        except ScriptError as exc:
            raise ScriptError(f"{path}: {label}: {exc}", exc.field, name if isinstance(name, str) else None) from None
        if template["id"] in seen:
            raise ScriptError(f"{path}: {label}: id: repeats an earlier template's id", "id", template["id"])
        seen.add(template["id"])
        templates.append(template)
    return templates, extends
