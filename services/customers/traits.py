"""The derived customer profile: traits inferred from what a customer wrote
(a lead's comments, a chat), what consultants noted (follow-up notes) and what
the customer did (behaviours sent by platforms and the dealer's website).

Pure: no database, no nameko. The words are data, in ``lexicon.yaml`` beside
this module; the code only reads it.

Traits. A trait is a lexicon key (``nev_interest``, ``finance``, ``trade_in``,
``price_sensitive``, ``competitor:byd``, ``concern:range`` ...). ``infer`` gives
at most one ``Hit`` per trait per text (repeating a word in one comment is not
more evidence), at the trait's first mention that is not negated, with the
trait's weight. ``confidence`` combines a trait's hits from different texts as
independent evidence: ``1 - prod(1 - w)``.

Matching. The text is NFKC-normalised first (full-width ``ＥＶ`` is ``EV``); every
evidence snippet is a slice of that normalised text.

- ``zh`` terms match as substrings, case-insensitively (``小米su7``).
- ``en`` terms match case-insensitively on word boundaries: not inside a run of
  Latin letters or digits ("EV" is not in "every", but is in "想买EV"). A space
  or hyphen in a term matches any run of spaces/hyphens or none ("trade in" =
  "trade-in" = "tradein"); a term ending in a letter also matches with a plural
  or possessive s ("EVs", "Tesla's").
- Mentions may overlap ("长安全" is Changan and safety); a mention inside a
  longer mention of the same trait counts once ("plug-in hybrid").
- A mention inside one of its trait's ``exclude`` phrases does not count
  ("electric seats", "砍价空间", "图个吉利").

Negation. A mention is negated, and gives no hit, when inside its clause:

- a ``before`` cue lies within ``window_before`` characters (zh cues) or words
  (en cues) before it: "不需要贷款", "不考虑置换", "no trade-in", "don't need
  finance", "不要电车";
- or an ``after`` cue starts within ``window_after`` characters/words after it:
  "贷款就算了", "置换暂时不考虑", "financing not needed".

A clause ends at punctuation (。，！？；,.!?; and line breaks; not the colon or
、) or at a ``breaks`` word (但是, but, however): in "不需要贷款，想置换" only the loan
is negated. Phrases in ``not_negation`` hold a cue but negate nothing and are
ignored: the A-not-A questions "有没有优惠", "要不要贷款", "能不能便宜点", and 不过,
不错, 无息, 无线, "not sure", "no matter". A term that starts with a cue is a
mention of its own ("不安全" is a safety concern, "免息" and "零首付" are finance).
Negated mentions are dropped, not turned into negative traits.

Behaviours. ``from_behaviour`` applies the lexicon's ``behaviours`` rules: a
rule names the behaviour kinds it applies to and either gives its trait
unconditionally (finance_calculator -> finance), or when ``details[field]``
(NFKC, case-folded, trimmed) is one of ``values`` (fuel_type EV/PHEV/HEV ->
nev_interest), or, with ``match: <prefix>``, gives each trait with that key
prefix whose terms match ``details[field]`` (brand "Tesla"/"特斯拉" ->
competitor:tesla). Unknown kinds and missing fields give nothing.

Extending. ``Lexicon.load()`` reads the default lexicon and merges over it the
file named by ``path`` or, without one, by the env var ``DEALERFLOW_LEXICON``
(``path`` wins over the variable). Merge rule:

- traits: a new key is added (it needs ``label.en`` and ``terms``); for an
  existing key, ``terms`` and ``exclude`` are extended per language (union,
  order kept), ``label`` is replaced per language, ``weight`` and ``enabled``
  are replaced;
- negation: every cue list (``before``, ``after``, ``not_negation``,
  ``breaks``) is extended per language; window sizes are replaced;
- behaviours: rules are keyed by name; a new name is added; for an existing
  rule ``kinds`` and ``values`` are extended and every other field replaced;
- ``default_weight`` is replaced;
- lists never shrink: a trait or rule is dropped with ``enabled: false`` (a BYD
  dealer group turns ``competitor:byd`` off).

A file that is missing, is not YAML, or does not have this shape raises
``ValueError`` naming the file and the problem. Each load compiles one regex
per language for the terms (plus a few for cues), so ``infer`` does no
compiling; load once and keep the ``Lexicon``.
"""
from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("lexicon.yaml")
ENV_VAR = "DEALERFLOW_LEXICON"
LANGUAGES = ("zh", "en")
CONTEXT_CHARS = 20          # evidence: the mention with up to this many characters each side
_LOOK = 48                  # how far negation looks for the clause around a mention
_MAX_EVIDENCE = 200

_KEY = re.compile(r"^[a-z][a-z0-9_]*(?::[a-z0-9_]+)?$")
_LATIN = "0-9A-Za-z\u00c0-\u024f"
_NOT_BEFORE = f"(?<![{_LATIN}])"
_NOT_AFTER = f"(?![{_LATIN}])"
_SEP_CHARS = r"\s\-\u2010-\u2015_"
_SEP = f"[{_SEP_CHARS}]*"
_PUNCT = r"[。，！？；,.!?;\n\r…]"
_WORD = re.compile(f"[{_LATIN}'\u2019]+")
_MASK = "\x00"

_TOP_KEYS = {"default_weight", "negation", "traits", "behaviours"}
_TRAIT_KEYS = {"label", "weight", "terms", "exclude", "enabled"}
_NEGATION_LISTS = ("before", "after", "not_negation", "breaks")
_NEGATION_WINDOWS = ("window_before", "window_after")
_RULE_KEYS = {"kinds", "trait", "field", "values", "match", "weight", "enabled"}


@dataclass(frozen=True)
class Evidence:
    source: str             # "lead_comment", "followup_note", "behaviour", ... (given by the caller)
    text: str               # the snippet that matched: the term with up to ~20 chars of context each side
    at: datetime            # when the text was written (given by the caller)
    ref: str | None = None  # the caller's id of the text (lead id, record id)


@dataclass(frozen=True)
class Hit:
    trait: str              # lexicon key
    evidence: Evidence
    weight: float           # this hit's contribution, 0 < w <= 1


@dataclass(frozen=True)
class Trait:
    key: str
    labels: Mapping[str, str]
    weight: float
    terms: Mapping[str, tuple[str, ...]]
    exclude: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Rule:
    name: str
    kinds: frozenset[str]
    weight: float
    trait: str | None = None
    field: str | None = None
    values: frozenset[str] = frozenset()
    match: str | None = None


def confidence(weights: list[float]) -> float:
    """Independent hits combined: ``1 - prod(1 - w)``, rounded to 2 decimals.

    In [0, 1]; adding a hit never lowers it; the order of the hits does not
    matter. Weights outside [0, 1] are clipped, NaN counts as 0.
    """
    remaining = 1.0
    for w in sorted(_clip(w) for w in weights):
        remaining *= 1.0 - w
    return min(1.0, max(0.0, round(1.0 - remaining, 2)))


def _clip(w) -> float:
    try:
        w = float(w)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(w):
        return 0.0
    return min(1.0, max(0.0, w))


def normalize(text: str) -> str:
    """What matching sees: NFKC (full-width letters and digits become ASCII)."""
    return unicodedata.normalize("NFKC", text)


class Lexicon:
    """The words that make traits, compiled; build with ``Lexicon.load``."""

    def __init__(self, doc: dict, origin: str):
        self.origin = origin
        self.default_weight = float(doc.get("default_weight", 0.5))
        self.traits: dict[str, Trait] = {}
        for key, spec in (doc.get("traits") or {}).items():
            if spec.get("enabled", True) is False:
                continue
            self.traits[key] = Trait(
                key=key,
                labels=dict(spec.get("label") or {}),
                weight=float(spec.get("weight", self.default_weight)),
                terms={lang: tuple(_norm_terms(spec.get("terms", {}).get(lang))) for lang in LANGUAGES},
                exclude={lang: tuple(_norm_terms(spec.get("exclude", {}).get(lang))) for lang in LANGUAGES},
            )
        self.rules: list[Rule] = []
        for name, spec in (doc.get("behaviours") or {}).items():
            if spec.get("enabled", True) is False:
                continue
            self.rules.append(Rule(
                name=name,
                kinds=frozenset(spec.get("kinds") or ()),
                weight=float(spec.get("weight", self.default_weight)),
                trait=spec.get("trait"),
                field=spec.get("field"),
                values=frozenset(_fold(v) for v in spec.get("values") or ()),
                match=spec.get("match"),
            ))
        self._compile(doc.get("negation") or {})

    # -- loading ---------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Lexicon":
        """The default lexicon, merged with ``path`` or else with $DEALERFLOW_LEXICON if set."""
        doc = _read(DEFAULT_PATH)
        _check(doc, DEFAULT_PATH, extension=False)
        extension = path if path is not None else (os.environ.get(ENV_VAR) or "").strip() or None
        origin = str(DEFAULT_PATH)
        if extension is not None:
            extra = _read(Path(extension))
            _check(extra, Path(extension), extension=True)
            doc = _merge(doc, extra, Path(extension))
            origin = f"{DEFAULT_PATH} + {extension}"
        return cls(doc, origin)

    def __repr__(self) -> str:
        return f"<Lexicon {len(self.traits)} traits from {self.origin}>"

    # -- reading ---------------------------------------------------------

    def label(self, trait: str, language: str) -> str:
        """The trait's label in ``language`` (zh-CN, en), else its English label, else the key."""
        spec = self.traits.get(trait)
        if spec is None:
            return trait
        labels = spec.labels
        wanted = (language or "").replace("_", "-").casefold()
        folded = {k.casefold(): v for k, v in labels.items()}
        if wanted in folded:
            return folded[wanted]
        primary = wanted.split("-")[0]
        for k, v in folded.items():
            if primary and k.split("-")[0] == primary:
                return v
        return labels.get("en") or trait

    def infer(self, text: str, *, source: str, at: datetime, ref: str | None = None) -> list[Hit]:
        """The traits ``text`` shows, one hit per trait, in the order first mentioned."""
        if not text:
            return []
        norm = normalize(str(text))
        mentions = self._mentions(norm)
        excluded = self._excluded(norm)
        hits: dict[str, Hit] = {}
        for start, end, trait in mentions:
            if trait in hits:
                continue
            if any(s <= start and end <= e for s, e in excluded.get(trait, ())):
                continue
            if self._negated(norm, start, end):
                continue
            snippet = norm[max(0, start - CONTEXT_CHARS):end + CONTEXT_CHARS].strip()
            hits[trait] = Hit(trait, Evidence(source, snippet, at, ref), self.traits[trait].weight)
        return list(hits.values())

    def from_behaviour(self, kind: str, details: dict, *, at: datetime, ref: str | None = None) -> list[Hit]:
        """The traits a behaviour (model_viewed, configurator, finance_calculator ...) shows."""
        details = details if isinstance(details, Mapping) else {}
        hits: dict[str, Hit] = {}
        described = None
        for rule in self.rules:
            if kind not in rule.kinds:
                continue
            if rule.field is None:
                found = [rule.trait]
            else:
                value = details.get(rule.field)
                if not isinstance(value, str) or not value.strip():
                    continue
                if rule.match is not None:
                    found = [t for t in self._traits_in(value) if t.startswith(rule.match)]
                else:
                    found = [rule.trait] if _fold(value) in rule.values else []
            for trait in found:
                if trait in self.traits and trait not in hits:
                    described = described or _describe(kind, details)
                    hits[trait] = Hit(trait, Evidence("behaviour", described, at, ref), rule.weight)
        return list(hits.values())

    # -- matching --------------------------------------------------------

    def _compile(self, negation: dict) -> None:
        self._groups: dict[str, tuple[str, ...]] = {}
        self._patterns: dict[str, re.Pattern] = {}
        for lang in LANGUAGES:
            owners: dict[str, list[str]] = {}
            spelled: dict[str, str] = {}
            for key, trait in self.traits.items():
                for term in trait.terms[lang]:
                    folded = term.casefold()
                    spelled.setdefault(folded, term)
                    if key not in owners.setdefault(folded, []):
                        owners[folded].append(key)
            # one branch per first character (a one-level trie), longest term first in each
            branches: dict[str, list[str]] = {}
            for folded in sorted(owners, key=lambda f: (-len(f), f)):
                name = f"{lang}{len(self._groups)}"
                self._groups[name] = tuple(owners[folded])
                branches.setdefault(spelled[folded][0].lower(), []).append(
                    f"(?P<{name}>{_term_regex(spelled[folded], lang)})")
            alternatives = [f"{_first(c)}(?:{'|'.join(alts)})" for c, alts in branches.items()]
            self._patterns[lang] = _overlapping(alternatives, lang, set(branches))
        self._exclude_groups: dict[str, str] = {}
        alternatives = []
        for key, trait in self.traits.items():
            for lang in LANGUAGES:
                for term in trait.exclude[lang]:
                    name = f"x{len(self._exclude_groups)}"
                    self._exclude_groups[name] = key
                    alternatives.append((lang, f"(?P<{name}>{_term_regex(term, lang)})"))
        self._exclude_patterns = [
            _overlapping([alt for lang_, alt in alternatives if lang_ == lang], lang) for lang in LANGUAGES]

        def cues(name: str, lang: str) -> list[str]:
            return _norm_terms((negation.get(name) or {}).get(lang))

        self._before = {lang: _cue_regex(cues("before", lang), lang) for lang in LANGUAGES}
        self._after = {lang: _cue_regex(cues("after", lang), lang) for lang in LANGUAGES}
        pseudo = [_bounded(_term_regex(c, lang), lang)
                  for lang in LANGUAGES for c in cues("not_negation", lang)]
        self._pseudo = re.compile("|".join(sorted(pseudo, key=len, reverse=True)) or "(?!)", re.IGNORECASE)
        breaks = [_PUNCT] + [_bounded(_term_regex(c, lang), lang) for lang in LANGUAGES
                             for c in cues("breaks", lang)]
        self._breaks = re.compile("|".join(breaks), re.IGNORECASE)
        windows_before = negation.get("window_before") or {}
        windows_after = negation.get("window_after") or {}
        self._window_before = {lang: int(windows_before.get(lang, 0)) for lang in LANGUAGES}
        self._window_after = {lang: int(windows_after.get(lang, 0)) for lang in LANGUAGES}

    def _mentions(self, norm: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        for pattern in self._patterns.values():
            for m in pattern.finditer(norm):
                name = m.lastgroup
                start, end = m.span(name)
                for trait in self._groups[name]:
                    found.append((start, end, trait))
        found.sort(key=lambda f: (f[0], -f[1]))
        # a mention inside a longer mention of the same trait counts once
        kept: list[tuple[int, int, str]] = []
        reach: dict[str, int] = {}
        for start, end, trait in found:
            if end <= reach.get(trait, -1):
                continue
            reach[trait] = max(end, reach.get(trait, -1))
            kept.append((start, end, trait))
        return kept

    def _excluded(self, norm: str) -> dict[str, list[tuple[int, int]]]:
        spans: dict[str, list[tuple[int, int]]] = {}
        for pattern in self._exclude_patterns:
            for m in pattern.finditer(norm):
                spans.setdefault(self._exclude_groups[m.lastgroup], []).append(m.span(m.lastgroup))
        return spans

    def _traits_in(self, value: str) -> list[str]:
        """Traits whose terms occur in a short field value (a brand), no negation."""
        norm = normalize(value)
        excluded = self._excluded(norm)
        found = []
        for start, end, trait in self._mentions(norm):
            if trait not in found and not any(s <= start and end <= e for s, e in excluded.get(trait, ())):
                found.append(trait)
        return found

    def _negated(self, norm: str, start: int, end: int) -> bool:
        lo = max(0, start - _LOOK)
        before = self._pseudo.sub(_masked, norm[lo:end])[:start - lo]
        cut = 0
        for m in self._breaks.finditer(before):
            cut = m.end()
        before = before[cut:]
        zh_window = self._window_before["zh"]
        if zh_window and self._before["zh"].search(before[-zh_window:]):
            return True
        en_window = self._window_before["en"]
        if en_window:
            words = list(_WORD.finditer(before))
            scope = before[words[-en_window].start():] if len(words) >= en_window else before
            if self._before["en"].search(scope):
                return True
        after = self._pseudo.sub(_masked, norm[start:end + _LOOK])[end - start:]
        stop = self._breaks.search(after)
        if stop:
            after = after[:stop.start()]
        zh_window = self._window_after["zh"]
        if zh_window:
            m = self._after["zh"].search(after)
            if m and m.start() <= zh_window:
                return True
        en_window = self._window_after["en"]
        if en_window:
            m = self._after["en"].search(after)
            if m:
                words = list(_WORD.finditer(after))
                limit = words[en_window - 1].start() if len(words) >= en_window else len(after)
                if m.start() <= limit:
                    return True
        return False


def _masked(m: re.Match) -> str:
    return _MASK * len(m.group())


def _fold(value: str) -> str:
    return " ".join(normalize(str(value)).casefold().split())


def _norm_terms(terms) -> list[str]:
    out = []
    for term in terms or ():
        term = normalize(term).strip()
        if term and term not in out:
            out.append(term)
    return out


def _term_regex(term: str, lang: str) -> str:
    """A term as a regex body (no boundaries): separators flexible; en also a trailing s."""
    tokens = [t for t in re.split(f"[{_SEP_CHARS}]+", term) if t]
    body = (_SEP if lang == "en" else r"\s*").join(_escape(t) for t in tokens)
    if lang == "en" and term[-1].isalpha():
        body += "(?:['\u2019]?s)?"
    return body


def _escape(token: str) -> str:
    return re.sub("['\u2019]", lambda _: "['\u2019]", re.escape(token))


def _bounded(body: str, lang: str) -> str:
    return f"{_NOT_BEFORE}(?:{body}){_NOT_AFTER}" if lang == "en" else f"(?:{body})"


def _first(char: str) -> str:
    """A lookahead for one character in any case."""
    return f"(?=[{''.join(re.escape(c) for c in sorted({char, char.upper(), char.lower()}))}])"


def _overlapping(alternatives: list[str], lang: str, first: set[str] | None = None) -> re.Pattern:
    """One regex finding, at every position, the longest alternative starting there.

    ``first`` (the case-folded first characters of the terms) lets a position
    where no term can start fail at once instead of trying every alternative.
    """
    if not alternatives:
        return re.compile("(?!)")
    guard = ""
    if first:
        chars = {c for f in first for c in (f, f.upper(), f.lower())}
        guard = f"(?=[{''.join(re.escape(c) for c in sorted(chars))}])"
    if lang == "en":
        body = "|".join(f"{alt}{_NOT_AFTER}" for alt in alternatives)
        return re.compile(f"{_NOT_BEFORE}{guard}(?=(?:{body}))", re.IGNORECASE)
    return re.compile(f"{guard}(?=(?:{'|'.join(alternatives)}))", re.IGNORECASE)


def _cue_regex(cues: list[str], lang: str) -> re.Pattern:
    if not cues:
        return re.compile("(?!)")
    bodies = sorted((_term_regex(c, lang) for c in cues), key=len, reverse=True)
    return re.compile(_bounded("|".join(bodies), lang), re.IGNORECASE)


def _describe(kind: str, details: Mapping) -> str:
    parts = [f"{k}={v}" for k, v in details.items() if v is not None and v != ""]
    text = f"{kind}: {', '.join(parts)}" if parts else str(kind)
    return text[:_MAX_EVIDENCE]


# -- the file: read, check, merge ---------------------------------------------

def _read(path: Path) -> dict:
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"lexicon {path}: cannot read it: {exc}") from exc
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError(f"lexicon {path}: not valid YAML: {exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ValueError(f"lexicon {path}: the top level must be a mapping, not {type(doc).__name__}")
    return doc


def _fail(path: Path, where: str, problem: str):
    raise ValueError(f"lexicon {path}: {where}: {problem}")


def _check_weight(path, where, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        _fail(path, where, f"must be a number in (0, 1], not {value!r}")


def _check_strings(path, where, value, *, languages=True):
    if not isinstance(value, dict):
        _fail(path, where, "must be a mapping of language (zh, en) to a list of strings")
    for lang, items in value.items():
        if languages and lang not in LANGUAGES:
            _fail(path, f"{where}.{lang}", f"unknown language, expected one of {', '.join(LANGUAGES)}")
        if not isinstance(items, list):
            _fail(path, f"{where}.{lang}", "must be a list of strings")
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                _fail(path, f"{where}.{lang}[{i}]",
                      f"must be a non-empty string, not {item!r} (quote words YAML reads otherwise: "
                      f'"no", "yes", "on", "off", numbers)')


def _check_names(path, where, value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        _fail(path, where, "must be a list of non-empty strings")


def _check(doc: dict, path: Path, *, extension: bool) -> None:
    """The shape of one file; an extension may give only what it changes."""
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        _fail(path, "top level", f"unknown key(s) {sorted(map(str, unknown))}, expected {sorted(_TOP_KEYS)}")
    if "default_weight" in doc:
        _check_weight(path, "default_weight", doc["default_weight"])
    negation = doc.get("negation", {})
    if not isinstance(negation, dict):
        _fail(path, "negation", "must be a mapping")
    for key, value in negation.items():
        where = f"negation.{key}"
        if key in _NEGATION_LISTS:
            _check_strings(path, where, value)
        elif key in _NEGATION_WINDOWS:
            if not isinstance(value, dict):
                _fail(path, where, "must be a mapping of language (zh, en) to a whole number")
            for lang, size in value.items():
                if lang not in LANGUAGES:
                    _fail(path, f"{where}.{lang}", f"unknown language, expected {', '.join(LANGUAGES)}")
                if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 20:
                    _fail(path, f"{where}.{lang}", f"must be a whole number 0..20, not {size!r}")
        else:
            _fail(path, where, f"unknown key, expected {', '.join(_NEGATION_LISTS + _NEGATION_WINDOWS)}")
    traits = doc.get("traits", {})
    if not isinstance(traits, dict):
        _fail(path, "traits", "must be a mapping of trait key to its entry")
    for key, spec in traits.items():
        where = f"traits.{key}"
        if not isinstance(key, str) or not _KEY.match(key):
            _fail(path, where, "a trait key is lower-case letters, digits and _, with one optional"
                               " ':' (nev_interest, competitor:byd)")
        if not isinstance(spec, dict):
            _fail(path, where, "must be a mapping (label, terms, weight, exclude, enabled)")
        unknown = set(spec) - _TRAIT_KEYS
        if unknown:
            _fail(path, where, f"unknown key(s) {sorted(map(str, unknown))}, expected {sorted(_TRAIT_KEYS)}")
        if "label" in spec:
            label = spec["label"]
            if not isinstance(label, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in label.items()):
                _fail(path, f"{where}.label", "must map a language (zh-CN, en) to a non-empty string")
        for name in ("terms", "exclude"):
            if name in spec:
                _check_strings(path, f"{where}.{name}", spec[name])
        if "weight" in spec:
            _check_weight(path, f"{where}.weight", spec["weight"])
        if "enabled" in spec and not isinstance(spec["enabled"], bool):
            _fail(path, f"{where}.enabled", "must be true or false")
        if not extension:
            _check_complete_trait(path, key, spec)
    rules = doc.get("behaviours", {})
    if not isinstance(rules, dict):
        _fail(path, "behaviours", "must be a mapping of rule name to rule")
    for name, rule in rules.items():
        where = f"behaviours.{name}"
        if not isinstance(rule, dict):
            _fail(path, where, "must be a mapping (kinds, trait, field, values, match, weight)")
        unknown = set(rule) - _RULE_KEYS
        if unknown:
            _fail(path, where, f"unknown key(s) {sorted(map(str, unknown))}, expected {sorted(_RULE_KEYS)}")
        for key in ("kinds", "values"):
            if key in rule:
                _check_names(path, f"{where}.{key}", rule[key])
        for key in ("trait", "field", "match"):
            if key in rule and (not isinstance(rule[key], str) or not rule[key].strip()):
                _fail(path, f"{where}.{key}", "must be a non-empty string")
        if "weight" in rule:
            _check_weight(path, f"{where}.weight", rule["weight"])
        if "enabled" in rule and not isinstance(rule["enabled"], bool):
            _fail(path, f"{where}.enabled", "must be true or false")
        if not extension:
            _check_complete_rule(path, name, rule, traits)


def _check_complete_trait(path, key, spec):
    if not (spec.get("label") or {}).get("en"):
        _fail(path, f"traits.{key}.label.en", "a trait needs an English label")
    if not any((spec.get("terms") or {}).values()):
        _fail(path, f"traits.{key}.terms", "a trait needs at least one term")


def _check_complete_rule(path, name, rule, traits):
    where = f"behaviours.{name}"
    if not rule.get("kinds"):
        _fail(path, f"{where}.kinds", "a rule needs the behaviour kinds it applies to")
    if rule.get("match") is not None:
        if not rule.get("field"):
            _fail(path, f"{where}.field", "a rule with 'match' needs the field whose value is matched")
        return
    if not rule.get("trait"):
        _fail(path, f"{where}.trait", "a rule needs the trait it gives (or 'match')")
    if rule["trait"] not in traits:
        _fail(path, f"{where}.trait", f"unknown trait {rule['trait']!r}")
    if rule.get("field") and not rule.get("values"):
        _fail(path, f"{where}.values", "a rule with 'field' needs the values that give its trait")


def _union(old: list | None, new: list | None) -> list:
    out = list(old or [])
    for item in new or []:
        if item not in out:
            out.append(item)
    return out


def _merge(base: dict, extra: dict, path: Path) -> dict:
    """``extra`` over ``base`` by the rule in the module docstring; ``base`` is not changed."""
    doc = {
        "default_weight": extra.get("default_weight", base.get("default_weight", 0.5)),
        "negation": {k: dict(v) for k, v in (base.get("negation") or {}).items()},
        "traits": {k: dict(v) for k, v in (base.get("traits") or {}).items()},
        "behaviours": {k: dict(v) for k, v in (base.get("behaviours") or {}).items()},
    }
    negation = doc["negation"]
    for key, value in (extra.get("negation") or {}).items():
        merged = dict(negation.get(key) or {})
        for lang, item in value.items():
            merged[lang] = _union(merged.get(lang), item) if key in _NEGATION_LISTS else item
        negation[key] = merged
    traits = doc["traits"]
    for key, spec in (extra.get("traits") or {}).items():
        if key not in traits:
            _check_complete_trait(path, key, spec)
            traits[key] = spec
            continue
        merged = traits[key]
        for name in ("terms", "exclude"):
            if name in spec:
                lists = dict(merged.get(name) or {})
                for lang, items in spec[name].items():
                    lists[lang] = _union(lists.get(lang), items)
                merged[name] = lists
        if "label" in spec:
            merged["label"] = {**(merged.get("label") or {}), **spec["label"]}
        for name in ("weight", "enabled"):
            if name in spec:
                merged[name] = spec[name]
    rules = doc["behaviours"]
    for name, rule in (extra.get("behaviours") or {}).items():
        if name not in rules:
            _check_complete_rule(path, name, rule, traits)
            rules[name] = rule
            continue
        merged = rules[name]
        for key, value in rule.items():
            merged[key] = _union(merged.get(key), value) if key in ("kinds", "values") else value
        if merged.get("enabled", True):
            _check_complete_rule(path, name, merged, traits)
    return doc
