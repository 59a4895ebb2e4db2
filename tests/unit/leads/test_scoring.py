"""services.leads.scoring: a lead's facts, its rule score and the naive-Bayes model."""
import json
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.leads.scoring import (
    FEATURES,
    MIN_HISTORY,
    facts,
    model_usable,
    parse_timeframe,
    predict,
    rule_score,
    score,
    text_signals,
    train,
)

CUSTOMER = {"name": "王磊", "phone": "13800138000", "email": "wl@example.com", "city": "上海", "language": "zh"}
INTEREST = {
    "brand": "BYD", "model": "Han EV", "trim": "", "year": 2026, "condition": "new", "fuel_type": "ev",
    "budget_min": 20000000, "budget_max": 25000000, "currency": "CNY", "timeframe": "within_7_days",
    "finance": True, "trade_in": False, "test_drive": True,
}
FACT_KEYS = {"channel", "source", "brand", "model", "city", "language", "timeframe_days", "budget_band",
             "fuel_type", "condition", "has_email", "has_name", "has_phone", "test_drive", "finance",
             "trade_in", "signals"}


def make_facts(**overrides):
    base = facts("third_party", "autohome", {"phone": "13800138000"}, None, None)
    base.update(overrides)
    return base


# -- facts


def test_the_design_example():
    got = facts("third_party", " AutoHome ", CUSTOMER, INTEREST, "想周末试驾，关心续航和置换补贴")
    assert got == {
        "channel": "third_party", "source": "autohome", "brand": "byd", "model": "han ev", "city": "上海",
        "language": "zh", "timeframe_days": 7, "budget_band": "200-300k", "fuel_type": "ev",
        "condition": "new", "has_email": True, "has_name": True, "has_phone": True, "test_drive": True,
        "finance": True, "trade_in": False, "signals": ["price", "test_drive"],
    }


def test_model_is_folded_trimmed_and_lower_cased():
    got = facts("website", "oem", CUSTOMER, {"model": "  ＨＡＮ   ev ", "brand": "ＢＹＤ"}, None)
    assert got["model"] == "han ev" and got["brand"] == "byd"


def test_missing_interest_and_comments():
    got = facts("walk_in", "store", {"phone": "13800138000"}, None, None)
    assert set(got) == FACT_KEYS
    assert got["timeframe_days"] is None and got["budget_band"] is None and got["model"] is None
    assert got["signals"] == [] and got["has_email"] is False and got["has_name"] is False
    assert got["test_drive"] is False and got["finance"] is False and got["trade_in"] is False


def test_channel_spellings():
    assert facts("Walk-In", "x", {}, None, None)["channel"] == "walk_in"


def test_an_adf_phone_list_counts_as_a_phone():
    assert facts("other", "adf", {"phones": [{"number": "+8613800138000"}]}, None, None)["has_phone"] is True
    assert facts("other", "adf", {"phones": [{"number": "555-0100", "placeholder": True}]},
                 None, None)["has_phone"] is False


@pytest.mark.parametrize("low, high, band", [
    (None, 5_000_000, "<100k"),
    (9_000_000, 11_000_000, "100-200k"),
    (10_000_000, None, "100-200k"),
    (20_000_000, 25_000_000, "200-300k"),
    (0, 35_000_000, "300-500k"),  # a zero bound is no bound
    (60_000_000, 80_000_000, ">500k"),
    (None, None, None),
    (0, 0, None),
    (10**40, 10**41, ">500k"),
    (float("nan"), float("inf"), None),
    ("200000", None, None),
    (True, True, None),
])
def test_budget_bands(low, high, band):
    assert facts("website", "oem", {}, {"budget_min": low, "budget_max": high}, None)["budget_band"] == band


def test_no_band_for_another_currency():
    interest = {"budget_min": 20_000_000, "budget_max": 25_000_000}
    assert facts("website", "oem", {}, {**interest, "currency": "USD"}, None)["budget_band"] is None
    assert facts("website", "oem", {}, {**interest, "currency": "cny"}, None)["budget_band"] == "200-300k"


@pytest.mark.parametrize("given_as, read_as", [
    ("纯电", "ev"), ("PHEV", "phev"), ("汽油", "petrol"), ("hydrogen", "hydrogen"), (None, None)])
def test_fuel_types(given_as, read_as):
    assert facts("website", "oem", {}, {"fuel_type": given_as}, None)["fuel_type"] == read_as


@pytest.mark.parametrize("given_as, read_as", [("二手车", "used"), ("NEW", "new"), ("demo", "demo")])
def test_conditions(given_as, read_as):
    assert facts("website", "oem", {}, {"condition": given_as}, None)["condition"] == read_as


@pytest.mark.parametrize("flag, read_as", [(True, True), ("yes", True), ("是", True), (1, True),
                                           (False, False), ("no", False), (None, False), ([], False)])
def test_flags(flag, read_as):
    assert facts("website", "oem", {}, {"finance": flag}, None)["finance"] is read_as


@pytest.mark.parametrize("timeframe, days", [
    ("within_7_days", 7), ("within_15_days", 15), ("within_30_days", 30), ("within_3_months", 90),
    ("later", None), ("unknown", None), ("Within_7_Days", 7),
    ("7d", 7), ("7 days", 7), ("10天", 10), ("十五天", 15), ("2 weeks", 14), ("2w", 14), ("两周", 14),
    ("两个星期", 14), ("1 month", 30), ("一个月内", 30), ("三个月内", 90), ("3 months", 90), ("1.5 months", 45),
    ("本周", 7), ("这周", 7), ("this week", 7), ("今天", 0), ("today", 0), ("明天", 1), ("tomorrow", 1),
    ("下周", 14), ("next week", 14), ("半个月", 15), ("本月", 30), ("下个月", 60), ("半年", 182),
    ("马上", 7), ("ASAP", 7), ("1-3个月", 90), ("2~4 weeks", 28), ("3个月以上", 91), ("3 months later", 91),
    ("more than 3 months", 91), ("1个月后", 31), ("7", 7), (30, 30), (7.9, 7),
    ("不确定", None), ("待定", None), ("not sure", None), ("明年", None), ("next year", None), ("", None),
    (None, None), (True, None), (-3, None), (10**30, None), ("99999999 years", None), ({"days": 7}, None),
    ("１０天", 10),
])
def test_timeframes(timeframe, days):
    assert parse_timeframe(timeframe) == days


@pytest.mark.parametrize("comments, signals", [
    ("今天能提车吗", ["urgent"]),
    ("明天来店", ["urgent"]),
    ("这周想定下来，价格能优惠多少", ["price", "urgent"]),
    ("马上要用车，底价多少", ["price", "urgent"]),
    ("很急", ["urgent"]),
    ("I'd like a test drive this week, any discount?", ["price", "test_drive", "urgent"]),
    ("ASAP please", ["urgent"]),
    ("想试驾", ["test_drive"]),
    ("不急，先了解一下", []),
    ("不着急，想问问价格", ["price"]),
    ("No rush, test-drive next month", ["test_drive"]),
    ("不需要试驾", []),
    ("", []),
    (None, []),
    (12345, []),
])
def test_comment_signals(comments, signals):
    assert text_signals(comments) == signals


def test_full_width_english_is_read():
    assert text_signals("ＡＳＡＰ，ＴＥＳＴ ＤＲＩＶＥ") == ["test_drive", "urgent"]


def test_only_the_start_of_a_long_comment_is_read():
    assert text_signals("好" * 1990 + "想试驾") == ["test_drive"]
    assert text_signals("好" * 2000 + "想试驾") == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
CUSTOMER_KEYS = st.sampled_from(["name", "phone", "phones", "email", "city", "language", "address"])
INTEREST_KEYS = st.sampled_from(list(INTEREST) + ["vin", "stock"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(channel=JSON, source=JSON,
       customer=st.dictionaries(CUSTOMER_KEYS | st.text(), JSON) | JSON,
       interest=st.dictionaries(INTEREST_KEYS | st.text(), JSON) | JSON,
       comments=JSON)
def test_facts_never_raise(channel, source, customer, interest, comments):
    got = facts(channel, source, customer, interest, comments)
    assert set(got) == FACT_KEYS
    json.dumps(got)
    assert got["timeframe_days"] is None or 0 <= got["timeframe_days"] <= 3650


@given(st.text())
def test_any_timeframe_text(text):
    days = parse_timeframe(text)
    assert days is None or 0 <= days <= 3650


# -- rules


def test_rule_contributions_heaviest_first():
    points, contributions = rule_score(facts("walk_in", "store", CUSTOMER, INTEREST, "今天想试驾，价格多少"))
    assert contributions[0] == {"factor": "timeframe", "value": "7 days", "points": 30}
    weights = [abs(c["points"]) for c in contributions]
    assert weights == sorted(weights, reverse=True)
    assert points == 96  # 30+15+15+10+6+6+5+5+4: no trade-in


def test_everything_is_clamped_to_100():
    everything = facts("walk_in", "store", CUSTOMER, {**INTEREST, "trade_in": True}, "今天想试驾，价格多少")
    points, contributions = rule_score(everything)
    assert sum(c["points"] for c in contributions) == 101
    assert points == 100


def test_a_bare_lead_scores_nothing():
    assert rule_score(make_facts(channel="other", has_phone=True)) == (0, [])


@pytest.mark.parametrize("channel, points", [("walk_in", 15), ("referral", 12), ("third_party", 3)])
def test_channel_points(channel, points):
    assert rule_score(make_facts(channel=channel))[0] == points


def test_walk_in_and_referral_above_third_party():
    scores = {c: rule_score(make_facts(channel=c))[0] for c in ("walk_in", "referral", "third_party")}
    assert scores["walk_in"] > scores["referral"] > scores["third_party"]


@pytest.mark.parametrize("days, points", [(3, 30), (15, 24), (30, 16), (90, 8)])
def test_sooner_is_higher(days, points):
    assert rule_score(make_facts(channel="other", timeframe_days=days))[0] == points


def test_later_than_three_months_costs_points_but_never_below_zero():
    points, contributions = rule_score(make_facts(channel="other", timeframe_days=200))
    assert points == 0
    assert contributions == [{"factor": "timeframe", "value": "over 3 months", "points": -5}]


def test_test_drive_words_count_like_the_flag():
    assert rule_score(make_facts(channel="other", signals=["test_drive"]))[0] == 15
    assert rule_score(make_facts(channel="other", test_drive=True, signals=["test_drive"]))[0] == 15


def test_contact_points():
    assert rule_score(make_facts(channel="other", has_phone=True, has_email=True))[0] == 5
    assert rule_score(make_facts(channel="other", has_phone=True, has_name=True))[0] == 2


# -- property: any facts dict at all

ANY_VALUE = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
             | st.lists(st.text() | st.sampled_from(["urgent", "test_drive", "price"]), max_size=4)
             | st.sampled_from(["walk_in", "referral", "200-300k", "7_days"]))
ANY_FACTS = st.dictionaries(st.sampled_from(sorted(FACT_KEYS)) | st.text(max_size=5), ANY_VALUE)


@settings(max_examples=300)
@given(ANY_FACTS)
def test_rule_score_is_always_0_to_100(any_facts):
    points, contributions = rule_score(any_facts)
    assert isinstance(points, int) and 0 <= points <= 100
    result = score(any_facts, None)
    assert result["method"] == "rules" and 0 <= result["score"] <= 100
    assert len(result["reasons"]) <= 5


def random_examples(rng, n):
    sources, cities = ["autohome", "dongchedi", "yiche", "oem"], ["上海", "北京", "杭州"]
    out = []
    for _ in range(n):
        f = make_facts(source=rng.choice(sources), city=rng.choice(cities), timeframe_days=rng.choice([None, 5, 40]),
                       test_drive=rng.random() < 0.3, channel=rng.choice(["walk_in", "third_party"]))
        out.append((f, rng.random() < 0.4))
    return out


TRAINED = train(random_examples(random.Random(7), 400))


@settings(max_examples=300)
@given(ANY_FACTS)
def test_model_score_is_always_0_to_100(any_facts):
    probability, reasons = predict(TRAINED, any_facts)
    assert 0.0 <= probability <= 1.0
    result = score(any_facts, TRAINED)
    assert result["method"] == "model" and 0 <= result["score"] <= 100
    assert len(result["reasons"]) <= 5


# -- model


def labelled(source, won, n):
    return [(make_facts(source=source, city=f"city{i % 3}"), won) for i in range(n)]


def test_a_source_that_always_wins_scores_above_one_that_always_loses():
    model = train(labelled("x", True, 40) + labelled("y", False, 40))
    assert model_usable(model)
    high, low = score(make_facts(source="x"), model), score(make_facts(source="y"), model)
    assert high["method"] == low["method"] == "model"
    assert high["score"] > 50 > low["score"]
    assert high["reasons"][0] == {"factor": "source", "value": "x", "direction": "up",
                                  "weight": high["reasons"][0]["weight"]}
    assert high["reasons"][0]["weight"] > 0 and low["reasons"][0]["direction"] == "down"


@settings(max_examples=50, deadline=None)
@given(wins=st.integers(1, 60), losses=st.integers(1, 60), noise=st.lists(st.tuples(st.text(max_size=3),
                                                                                   st.booleans()), max_size=30))
def test_always_winning_source_beats_always_losing_source(wins, losses, noise):
    examples = labelled("x", True, wins) + labelled("y", False, losses)
    examples += [(make_facts(source=s), won) for s, won in noise if s not in ("x", "y")]
    model = train(examples)
    assert predict(model, make_facts(source="x"))[0] > predict(model, make_facts(source="y"))[0]


def test_model_needs_thirty_won_and_thirty_lost():
    assert MIN_HISTORY == 30
    short = train(labelled("x", True, 29) + labelled("y", False, 100))
    assert not model_usable(short)
    assert score(make_facts(source="x"), short)["method"] == "rules"
    assert model_usable(train(labelled("x", True, 30) + labelled("y", False, 30)))


@pytest.mark.parametrize("broken", [None, {}, {"won": 100, "lost": 100}, {"version": 99}, [],
                                    {"version": 1, "won": "100", "lost": 100, "counts": {}},
                                    {"version": 1, "won": True, "lost": 100, "counts": {}}])
def test_a_broken_model_falls_back_to_rules(broken):
    assert score(make_facts(), broken)["method"] == "rules"


def test_unseen_values_are_skipped():
    model = train(labelled("x", True, 40) + labelled("y", False, 40))
    unseen = predict(model, make_facts(source="never-seen", city="city0"))
    # only the shared features speak; the prior is even, so nothing moves it far
    assert all(r["factor"] != "source" for r in unseen[1])
    assert unseen[0] == pytest.approx(0.5, abs=0.05)


def test_predict_is_stable_with_huge_counts():
    counts = {f: {"(none)": [10**300, 1], "no": [10**300, 1]} for f in FEATURES}
    model = {"version": 1, "features": list(FEATURES), "won": 10**300, "lost": 1, "counts": counts}
    probability, _ = predict(model, make_facts())
    assert probability == 1.0
    flipped = {f: {v: [b, a] for v, (a, b) in values.items()} for f, values in counts.items()}
    assert 0.0 <= predict({**model, "won": 1, "lost": 10**300, "counts": flipped}, make_facts())[0] < 1e-100


def test_an_empty_model_is_even():
    assert predict(train([]), make_facts()) == (0.5, [])


def test_model_is_json():
    model = train(labelled("x", True, 3) + labelled("y", False, 2))
    assert json.loads(json.dumps(model)) == model
    assert model["won"] == 3 and model["lost"] == 2
    assert model["counts"]["source"] == {"x": [3, 0], "y": [0, 2]}
    assert model["counts"]["test_drive"] == {"no": [3, 2]}
    assert model["features"] == list(FEATURES)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(0, 120), shuffle=st.randoms(use_true_random=False))
def test_training_is_order_independent(seed, n, shuffle):
    examples = random_examples(random.Random(seed), n)
    reordered = list(examples)
    shuffle.shuffle(reordered)
    model, again = train(examples), train(iter(reordered))
    assert model == again
    probe = examples[0][0] if examples else make_facts()
    assert predict(model, probe) == predict(again, probe)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), probe=ANY_FACTS)
def test_json_round_trip_keeps_predictions(seed, probe):
    model = train(random_examples(random.Random(seed), 100))
    restored = json.loads(json.dumps(model))
    assert predict(restored, probe) == predict(model, probe)
    assert score(probe, restored) == score(probe, model)


def test_model_reasons_are_the_biggest_moves():
    model = train(random_examples(random.Random(1), 2000))
    probability, reasons = predict(model, make_facts(source="oem", city="上海", channel="walk_in"))
    assert 0 < probability < 1
    weights = [abs(r["weight"]) for r in reasons]
    assert weights == sorted(weights, reverse=True) and len(reasons) <= 5
    assert all(r["direction"] == ("up" if r["weight"] > 0 else "down") for r in reasons)
    log_odds = math.log(probability / (1 - probability))
    assert math.isfinite(log_odds)
