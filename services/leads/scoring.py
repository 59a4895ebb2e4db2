"""How promising a lead is: its facts, a rule score and a naive-Bayes model.

Pure functions (no database, no nameko); the leads service calls them on the
hot path of every lead and stores what they return.

Facts
-----
``facts(channel, source, customer, interest, comments)`` flattens a submitted
lead (the JSON contract in DESIGN.md) into the one dict that grading, rules and
the model read. It never raises, whatever JSON-like values it is given: what it
cannot read becomes ``None`` / ``False``. Keys:

==============  ===================================================================
channel         contract channel, lower case (``"walk_in"``, ...); ``None`` if absent
source          platform name, lower case
brand, model    lower case, NFKC (full-width letters folded), whitespace collapsed
city, language  same normalisation
timeframe_days  int days within which the customer means to buy, or ``None`` (unknown,
                "later"); see ``parse_timeframe``
budget_band     ``"<100k"``, ``"100-200k"``, ``"200-300k"``, ``"300-500k"``, ``">500k"`` (CNY)
                or ``None``; from the midpoint of the positive budget bounds (fen), one
                bound when only one is given; ``None`` for another currency than CNY
fuel_type       ``ev``/``phev``/``hev``/``petrol``/``diesel`` for the usual spellings
                (纯电, 插混, 汽油 ...), else the lower-cased text
condition       ``new``/``used`` (新车, 二手 ...), else the lower-cased text
has_email       bool; has_name: bool; has_phone: bool (``phone`` or ``phones``)
test_drive      bool: the interest's flag (true, or "true"/"yes"/"1"/"是")
finance         bool, same reading
trade_in        bool, same reading
signals         sorted list, a subset of ``["price", "test_drive", "urgent"]`` found in
                the comments (Chinese or English): urgency (今天, 明天, 这周, 马上, 急,
                asap, this week ...), test drive (试驾, 试车, test drive), price (价格,
                优惠, 底价, 多少钱, discount ...). Negations (不急, 不着急, no rush,
                不需要试驾) do not count. Only the first 2,000 characters are read.
==============  ===================================================================

Rule score
----------
``rule_score(facts)`` adds up the points below and clamps the sum to 0..100;
it returns the contributions sorted by how much they weigh (``|points|``), so the
first few are the reasons a consultant sees. A lead with nothing but a phone
number from an unknown channel scores 0.

=============  ==================================================  ======
factor         value                                               points
=============  ==================================================  ======
timeframe      within 7 days / 15 days / 30 days / 3 months         30 / 24 / 16 / 8
timeframe      over 3 months                                          -5
test_drive     asked for (the flag or words in the comments)          15
channel        walk_in / referral / phone / auto_show               15 / 12 / 8 / 8
channel        website / social / third_party / other, unknown      6 / 4 / 3 / 0
urgency        urgent words in the comments                           10
model          a model given (a brand alone: 3)                        6
budget         a budget given (in CNY)                                 6
finance        wants finance                                           5
trade_in       has a car to trade in                                   5
contact        phone and email (name alone or with one: 2)             5
price          asks about price or discounts                           4
=============  ==================================================  ======

The timeframe outweighs everything else, as it does in the grade; a walk-in or
a referral is a person who came to the store or was sent by a customer, worth
more than a form filled in on a listing site. The maximum sum is 104, so a lead
that has everything reaches 100.

Model
-----
A naive-Bayes frequency model in the spirit of Odoo's predictive lead scoring:
for each feature and value it counts won and lost leads. ``train`` returns a
JSON-serialisable dict::

    {"version": 1, "features": [...], "won": W, "lost": L,
     "counts": {feature: {value: [won, lost], ...}, ...}}

Values are strings: text as it is in the facts, ``"yes"``/``"no"`` for flags,
``"(none)"`` for a missing value (that a lead names no model is itself a
signal), the timeframe as its band (``"7_days"`` ... ``"over_3_months"``).

``predict`` works in log space: log prior odds ``log((W+1)/(L+1))`` plus, per feature,
the log likelihood ratio ``log P(v|won) - log P(v|lost)`` with Laplace
smoothing ``P(v|won) = (won_v + 1) / (W + K)`` (K = the feature's distinct
values in training + 1), then a stable logistic. A value never seen in training
tells nothing about this feature and is skipped (smoothing alone would push it
towards the smaller class for no reason). Training is a count, so the order of
the examples does not matter, and the model's predictions survive
``json.dumps``/``json.loads`` unchanged.

``score(facts, model)`` uses the model only when it is usable: well formed and
trained on at least ``MIN_HISTORY`` (30) won *and* 30 lost leads. Below that
the frequencies are noise (one lost lead from a city would damn the city), so
the rules decide. The score is then ``round(probability * 100)``.

Reasons: rule reasons are the contributions ``{"factor", "value", "points"}``;
model reasons are ``{"factor", "value", "direction": "up"|"down", "weight"}``
with the weight the feature's log likelihood ratio (natural log, 3 decimals),
largest ``|weight|`` first. Both name the factor the same way so that a screen
can show either. ``score`` gives at most five (fewer when fewer factors count).

Speed: ``score`` with a model of 10,000 leads takes about 20 microseconds on a laptop-class CPU
(twelve dictionary look-ups and logarithms); nothing is precomputed or cached.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

MIN_HISTORY = 30
MODEL_VERSION = 1
MAX_REASONS = 5

FEATURES = ("source", "channel", "model", "brand", "city", "timeframe", "budget_band",
            "fuel_type", "condition", "test_drive", "finance", "trade_in")
MISSING = "(none)"
MAX_VALUE_LENGTH = 100
MAX_TIMEFRAME_DAYS = 3650

# --------------------------------------------------------------------------- facts


def _text(value: Any, limit: int = 200) -> str | None:
    """Lower-cased, NFKC-folded, whitespace-collapsed text; ``None`` for anything else or blank."""
    if not isinstance(value, str):
        return None
    text = " ".join(unicodedata.normalize("NFKC", value[: limit * 4]).lower().split())
    return text[:limit] or None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "1", "是", "需要", "要"}
    return False


def _whole(value: Any) -> int | None:
    """An integer from an int or a finite float; ``None`` for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return None


_FUEL = {
    "ev": "ev", "bev": "ev", "electric": "ev", "纯电": "ev", "纯电动": "ev", "电动": "ev", "电车": "ev",
    "phev": "phev", "plug-in hybrid": "phev", "插混": "phev", "插电混动": "phev", "插电式混合动力": "phev",
    "erev": "phev", "增程": "phev", "增程式": "phev",
    "hev": "hev", "hybrid": "hev", "混动": "hev", "油电混合": "hev", "油电混动": "hev",
    "petrol": "petrol", "gasoline": "petrol", "gas": "petrol", "汽油": "petrol", "燃油": "petrol",
    "diesel": "diesel", "柴油": "diesel",
}
_CONDITION = {"new": "new", "新车": "new", "新": "new", "全新": "new",
              "used": "used", "二手": "used", "二手车": "used", "pre-owned": "used", "preowned": "used"}


def _channel(value: Any) -> str | None:
    text = _text(value, limit=40)
    return re.sub(r"[\s-]+", "_", text) if text else None


def _budget_band(interest: dict) -> str | None:
    currency = interest.get("currency")
    if currency is not None and (not isinstance(currency, str) or currency.strip().upper() not in ("", "CNY", "RMB")):
        return None
    bounds = [b for b in (_whole(interest.get("budget_min")), _whole(interest.get("budget_max")))
              if b is not None and b > 0]
    if not bounds:
        return None
    yuan = sum(bounds) // len(bounds) // 100  # fen to yuan
    if yuan < 100_000:
        return "<100k"
    if yuan < 200_000:
        return "100-200k"
    if yuan < 300_000:
        return "200-300k"
    if yuan < 500_000:
        return "300-500k"
    return ">500k"


# --- timeframe

_CANONICAL_TIMEFRAMES = {
    "within_7_days": 7, "within_15_days": 15, "within_30_days": 30, "within_3_months": 90,
    "later": None, "unknown": None,
}
_UNKNOWN_WORDS = re.compile(
    r"\b(later|unknown|not sure|unsure|undecided|n/a|tbd|no plans?|not now|just looking|next year)\b"
    r"|不确定|待定|暂不|不知道|没想好|还没定|以后|再说|随便|看看|明年")
# checked in order: the first that matches gives the days
_TIMEFRAME_WORDS = (
    (re.compile(r"\btoday\b|今天|今日|当天"), 0),
    (re.compile(r"\btomorrow\b|明天|明日"), 1),
    (re.compile(r"后天"), 2),
    (re.compile(r"\b(asap|immediately|right away|right now|now)\b|马上|立刻|立即|尽快|越快越好"), 7),
    (re.compile(r"\b(this week|this weekend|weekend)\b|本周|这周|这个星期|这星期|这礼拜|这个礼拜|周末"), 7),
    (re.compile(r"\bnext week\b|下周|下个星期|下星期|下礼拜|下个礼拜"), 14),
    (re.compile(r"一个半月"), 45),
    (re.compile(r"半个?月"), 15),
    (re.compile(r"\bthis month\b|本月|这个月|这月|月底|月内"), 30),
    (re.compile(r"\bnext month\b|下个月|下月"), 60),
    (re.compile(r"\bthis quarter\b|本季度|这季度"), 90),
    (re.compile(r"半年"), 182),
    (re.compile(r"\bthis year\b|今年|年内|年底"), 365),
)
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"([0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九十]+)"
_UNITS = (
    (r"个?月|months?|mos?|mths?|m\b", 30),
    (r"个?(?:星期|礼拜)|周|weeks?|wks?|w\b", 7),
    (r"天|日|days?|d\b", 1),
    (r"年|years?|yrs?|y\b", 365),
)
_AMOUNT = re.compile(
    r"(?P<beyond_before>more than|over|beyond|after|>)?\s*"
    + _NUMBER + r"(?:\s*(?:-|~|–|到|至|to)\s*" + _NUMBER + r")?\s*(?P<plus>\+)?\s*(?P<unit>"
    + "|".join(f"(?:{pattern})" for pattern, _ in _UNITS) + r")"
    r"\s*(?P<beyond_after>以上|之后|以后|后|多|later)?")


def _cn_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        high = _CN_DIGITS.get(tens, None) if tens else 1
        low = _CN_DIGITS.get(ones, None) if ones else 0
        return None if high is None or low is None else float(high * 10 + low)
    return float(_CN_DIGITS[text]) if len(text) == 1 and text in _CN_DIGITS else None


def _unit_days(unit: str) -> int:
    for pattern, days in _UNITS:
        if re.fullmatch(pattern, unit):
            return days
    return 1


def parse_timeframe(value: Any) -> int | None:
    """Days within which the customer means to buy, or ``None`` when unknown or "later".

    Reads the contract's values (``within_7_days`` ... ``within_3_months``,
    ``later``, ``unknown``), a number of days (int), and free text in English
    or Chinese: ``"7d"``, ``"2 weeks"``, ``"三个月内"``, ``"本周"``, ``"下个月"``,
    ``"半年"``, ``"today"``. A range takes its upper end (``"1-3个月"`` is 90);
    "more than" / ``以上`` / ``后`` makes it one day later than the amount
    (``"3个月以上"`` is 91: not within three months). Beyond ten years, or
    negative, is ``None``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        days = _whole(value)
        return days if days is not None and 0 <= days <= MAX_TIMEFRAME_DAYS else None
    text = _text(value, limit=80)
    if text is None:
        return None
    if text in _CANONICAL_TIMEFRAMES:
        return _CANONICAL_TIMEFRAMES[text]
    text = text.replace("_", " ")
    match = _AMOUNT.search(text)
    if match:
        low, high = match.group(2), match.group(3)
        amount = _cn_number(high or low)
        if amount is not None and amount < 10**6:
            days = math.ceil(amount * _unit_days(match.group("unit")))
            if match.group("beyond_before") or match.group("plus") or match.group("beyond_after"):
                days += 1
            return days if 0 <= days <= MAX_TIMEFRAME_DAYS else None
    if _UNKNOWN_WORDS.search(text):
        return None
    for pattern, days in _TIMEFRAME_WORDS:
        if pattern.search(text):
            return days
    if re.fullmatch(r"[0-9]{1,6}", text):
        days = int(text)
        return days if days <= MAX_TIMEFRAME_DAYS else None
    return None


def timeframe_band(days: Any) -> str | None:
    """``"7_days"``, ``"15_days"``, ``"30_days"``, ``"3_months"``, ``"over_3_months"`` or ``None``."""
    days = _whole(days)
    if days is None or days < 0:
        return None
    if days <= 7:
        return "7_days"
    if days <= 15:
        return "15_days"
    if days <= 30:
        return "30_days"
    if days <= 90:
        return "3_months"
    return "over_3_months"


# --- words in the comments

MAX_COMMENT_SCAN = 2000
_FULL_WIDTH_LETTERS = re.compile(r"[\uff21-\uff3a\uff41-\uff5a\u3000]")
_NEGATED_ZH = re.compile(r"不(?:是很|太|怎么|用|必)?着?急|不赶时间|不(?:需要|用|想)?试驾")
_NEGATED_EN = re.compile(r"\bno (?:rush|hurry)\b|\bnot (?:urgent|in a (?:rush|hurry))\b|\bno test[- ]?drive\b")
# (signal, Chinese words found as substrings, English words found with word boundaries)
_SIGNALS = (
    ("price", ("价格", "价钱", "优惠", "底价", "报价", "多少钱", "便宜", "折扣", "最低价", "落地价", "裸车价", "补贴"),
     re.compile(r"\b(?:price|prices|pricing|discounts?|quote|best offer|cheap(?:er|est)?)\b")),
    ("test_drive", ("试驾", "试车", "试乘"), re.compile(r"\btest[- ]?drives?\b")),
    ("urgent", ("今天", "明天", "这周", "本周", "这个星期", "这礼拜", "马上", "急", "尽快", "立刻", "立即", "赶紧",
                "现在就"),
     re.compile(r"\b(?:asap|urgent(?:ly)?|today|tomorrow|this week(?:end)?|right away|immediately)\b")),
)
_ASCII_LETTER = re.compile(r"[a-z]")


def text_signals(comments: Any) -> list[str]:
    """The signals (``"price"``, ``"test_drive"``, ``"urgent"``) a comment holds, sorted.

    Reads the first ``MAX_COMMENT_SCAN`` characters: a request comes first in
    practice, and the scan runs on every lead (a 10,000-character comment
    would otherwise cost milliseconds). Chinese words are plain substring
    look-ups; English words need word boundaries, so their patterns run only
    when the text has Latin letters; NFKC folding only when it has full-width
    letters (ＡＳＡＰ).
    """
    if not isinstance(comments, str):
        return []
    text = comments[:MAX_COMMENT_SCAN]
    if _FULL_WIDTH_LETTERS.search(text):
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if "不" in text:
        text = _NEGATED_ZH.sub(" ", text)
    latin = _ASCII_LETTER.search(text) is not None
    if latin and "no" in text:
        text = _NEGATED_EN.sub(" ", text)
    found = [name for name, words, english in _SIGNALS
             if any(word in text for word in words) or (latin and english.search(text))]
    return sorted(found)


def facts(channel: str, source: str, customer: dict, interest: dict | None, comments: str | None) -> dict:
    """The flat facts of a submitted lead (see the module docstring); never raises."""
    customer = customer if isinstance(customer, dict) else {}
    interest = interest if isinstance(interest, dict) else {}
    fuel = _text(interest.get("fuel_type"), limit=40)
    condition = _text(interest.get("condition"), limit=40)
    phones = customer.get("phones")
    has_phone = bool(_text(customer.get("phone"))) or (
        isinstance(phones, list) and any(isinstance(p, dict) and not p.get("placeholder")
                                         and _text(p.get("number") or p.get("phone"))
                                         for p in phones[:20]))
    return {
        "channel": _channel(channel),
        "source": _text(source, limit=64),
        "brand": _text(interest.get("brand"), limit=MAX_VALUE_LENGTH),
        "model": _text(interest.get("model"), limit=MAX_VALUE_LENGTH),
        "city": _text(customer.get("city"), limit=MAX_VALUE_LENGTH),
        "language": _text(customer.get("language"), limit=16),
        "timeframe_days": parse_timeframe(interest.get("timeframe")),
        "budget_band": _budget_band(interest),
        "fuel_type": _FUEL.get(fuel, fuel) if fuel else None,
        "condition": _CONDITION.get(condition, condition) if condition else None,
        "has_email": bool(_text(customer.get("email"))),
        "has_name": bool(_text(customer.get("name"))),
        "has_phone": has_phone,
        "test_drive": _flag(interest.get("test_drive")),
        "finance": _flag(interest.get("finance")),
        "trade_in": _flag(interest.get("trade_in")),
        "signals": text_signals(comments),
    }


# --------------------------------------------------------------------------- rules

TIMEFRAME_POINTS = {"7_days": 30, "15_days": 24, "30_days": 16, "3_months": 8, "over_3_months": -5}
TIMEFRAME_LABELS = {"7_days": "7 days", "15_days": "15 days", "30_days": "30 days",
                    "3_months": "3 months", "over_3_months": "over 3 months"}
CHANNEL_POINTS = {"walk_in": 15, "referral": 12, "phone": 8, "auto_show": 8,
                  "website": 6, "social": 4, "third_party": 3, "other": 0}


def _signals(facts: dict) -> frozenset:
    found = facts.get("signals")
    if isinstance(found, (list, tuple, set, frozenset)):
        return frozenset(s for s in found if isinstance(s, str))
    return frozenset()


def _true(facts: dict, key: str) -> bool:
    return facts.get(key) is True


def _given(facts: dict, key: str) -> str | None:
    value = facts.get(key)
    return value if isinstance(value, str) and value.strip() else None


def asks_test_drive(facts: dict) -> bool:
    """The interest's flag or test-drive words in the comments."""
    return _true(facts, "test_drive") or "test_drive" in _signals(facts)


def rule_score(facts: dict) -> tuple[int, list[dict]]:
    """0..100 and its contributions, heaviest first (table in the module docstring)."""
    signals = _signals(facts)
    found: list[dict] = []

    def add(factor: str, value: str, points: int) -> None:
        found.append({"factor": factor, "value": value, "points": points})

    band = timeframe_band(facts.get("timeframe_days"))
    if band:
        add("timeframe", TIMEFRAME_LABELS[band], TIMEFRAME_POINTS[band])
    if asks_test_drive(facts):
        add("test_drive", "asked", 15)
    channel = _given(facts, "channel")
    if channel and CHANNEL_POINTS.get(channel):
        add("channel", channel, CHANNEL_POINTS[channel])
    if "urgent" in signals:
        add("urgency", "urgent words", 10)
    model, brand = _given(facts, "model"), _given(facts, "brand")
    if model:
        add("model", model, 6)
    elif brand:
        add("model", f"brand {brand}", 3)
    budget = _given(facts, "budget_band")
    if budget:
        add("budget", budget, 6)
    if _true(facts, "finance"):
        add("finance", "wants finance", 5)
    if _true(facts, "trade_in"):
        add("trade_in", "has a trade-in", 5)
    phone, email = _true(facts, "has_phone"), _true(facts, "has_email")
    if phone and email:
        add("contact", "phone and email", 5)
    elif _true(facts, "has_name") and (phone or email):
        add("contact", "name and one contact", 2)
    if "price" in signals:
        add("price", "asks about price", 4)
    found.sort(key=lambda c: (-abs(c["points"]), c["factor"]))
    total = sum(c["points"] for c in found)
    return max(0, min(100, total)), found


# --------------------------------------------------------------------------- model


def _encode(value: Any) -> str:
    """A feature value as the model's string key."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value[:MAX_VALUE_LENGTH] if value.strip() else MISSING
    if isinstance(value, int):
        return str(value) if -10**18 < value < 10**18 else "(big)"
    if isinstance(value, float):
        return repr(value)
    return "(other)"


def feature_values(facts: dict) -> dict[str, str]:
    """The model's features of a lead, as strings."""
    values = {}
    for feature in FEATURES:
        if feature == "timeframe":
            raw = timeframe_band(facts.get("timeframe_days"))
        elif feature in ("test_drive", "finance", "trade_in"):
            raw = _true(facts, feature)
        else:
            raw = facts.get(feature)
        values[feature] = _encode(raw)
    return values


def train(examples: Iterable[tuple[dict, bool]]) -> dict:
    """Counts of won and lost leads per feature value (see the module docstring)."""
    counts: dict[str, dict[str, list[int]]] = {feature: {} for feature in FEATURES}
    won = lost = 0
    for lead_facts, outcome in examples:
        column = 0 if outcome else 1
        if outcome:
            won += 1
        else:
            lost += 1
        for feature, value in feature_values(lead_facts if isinstance(lead_facts, dict) else {}).items():
            counts[feature].setdefault(value, [0, 0])[column] += 1
    return {
        "version": MODEL_VERSION,
        "features": list(FEATURES),
        "won": won,
        "lost": lost,
        "counts": {feature: {value: pair for value, pair in sorted(values.items())}
                   for feature, values in counts.items()},
    }


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def model_usable(model: Any) -> bool:
    """Well formed and trained on at least ``MIN_HISTORY`` won and ``MIN_HISTORY`` lost leads."""
    return (isinstance(model, dict) and model.get("version") == MODEL_VERSION
            and _count(model.get("won")) and _count(model.get("lost"))
            and model["won"] >= MIN_HISTORY and model["lost"] >= MIN_HISTORY
            and isinstance(model.get("counts"), dict))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def predict(model: dict, facts: dict) -> tuple[float, list[dict]]:
    """The probability that the lead is won, in [0, 1], and the features that moved it most.

    An empty model (no won or no lost leads) gives 0.5 or the certain outcome's
    smoothed prior; values never seen in training are skipped.
    """
    won, lost = model.get("won", 0), model.get("lost", 0)
    won = won if _count(won) else 0
    lost = lost if _count(lost) else 0
    counts = model.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    log_odds = math.log(won + 1) - math.log(lost + 1)
    moves = []
    for feature, value in feature_values(facts).items():
        table = counts.get(feature)
        if not isinstance(table, dict):
            continue
        pair = table.get(value)
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and _count(pair[0]) and _count(pair[1])):
            continue
        distinct = len(table) + 1
        ratio = (math.log(pair[0] + 1) - math.log(won + distinct)
                 - math.log(pair[1] + 1) + math.log(lost + distinct))
        log_odds += ratio
        if ratio:
            moves.append((feature, value, ratio))
    moves.sort(key=lambda m: (-abs(m[2]), m[0]))
    reasons = [{"factor": feature, "value": value, "direction": "up" if ratio > 0 else "down",
                "weight": round(ratio, 3)} for feature, value, ratio in moves[:MAX_REASONS]]
    return min(1.0, max(0.0, _sigmoid(log_odds))), reasons


def score(facts: dict, model: dict | None) -> dict:
    """``{"score": 0..100, "method": "model"|"rules", "reasons": [...]}`` (at most five reasons)."""
    if model_usable(model):
        probability, reasons = predict(model, facts)
        return {"score": max(0, min(100, round(probability * 100))), "method": "model",
                "reasons": reasons[:MAX_REASONS]}
    points, contributions = rule_score(facts)
    return {"score": points, "method": "rules", "reasons": contributions[:MAX_REASONS]}
