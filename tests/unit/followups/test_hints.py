"""services.followups.hints: the suggested next step after a follow-up, rule by rule."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.followups import hints, scripts
from services.followups.hints import ACTIONS, next_step

LIBRARY = scripts.load(scripts.DEFAULT_PATH)


def step(stage="needs_confirmed", grade="B", traits=(), notes=None, outcome="reached", **kw):
    return next_step(stage, grade, list(traits), notes, outcome, LIBRARY, **kw)


def test_a_new_lead_is_called_now_with_the_first_contact_script():
    hint = step("initial_contact", "N", outcome=None)
    assert (hint["action"], hint["in_days"], hint["script_id"]) == ("call", 0, "first_contact_call")
    assert "not been reached" in hint["why"][0]


def test_once_reached_at_initial_contact_discover_needs_on_the_cadence():
    hint = step("initial_contact", "B", outcome="reached")
    assert (hint["action"], hint["in_days"], hint["script_id"]) == ("call", 7, "needs_discovery_call")
    assert "grade B: next contact in 7 days" in hint["why"]


@pytest.mark.parametrize("stage, action, script", [
    ("needs_confirmed", "call", "product_introduction"),
    ("proposal", "quote", "quote_followup"),
    ("negotiation", "call", "quote_followup"),
])
def test_stage_defaults(stage, action, script):
    hint = step(stage, "A")
    assert (hint["action"], hint["in_days"], hint["script_id"]) == (action, 2, script)


def test_no_answer_once_calls_again_soon():
    assert (step(grade="H", outcome="no_answer")["action"], step(grade="H", outcome="no_answer")["in_days"]) == (
        "call", 0)
    hint = step(grade="C", outcome="no_answer")
    assert (hint["action"], hint["in_days"]) == ("call", 1)
    assert any("call again tomorrow" in why for why in hint["why"])


@pytest.mark.parametrize("stage, action, script", [
    ("initial_contact", "sms", "unreachable_sms"),
    ("needs_confirmed", "wechat", "unreachable_wechat"),
    ("negotiation", "wechat", "unreachable_wechat"),
])
def test_no_answer_twice_leaves_a_message_with_the_unreachable_script(stage, action, script):
    hint = step(stage, "H", notes="想试驾", outcome="no_answer", no_answers=2)
    assert (hint["action"], hint["in_days"], hint["script_id"]) == (action, 0, script)
    assert "no answer 2 times in a row" in hint["why"][0]


def test_refused_backs_off_without_pressure():
    hint = step("proposal", "H", notes="太贵了", outcome="refused")
    assert (hint["action"], hint["in_days"], hint["script_id"]) == ("wechat", 14, "nurture_no_pressure")
    assert step("proposal", "C", outcome="refused")["in_days"] == 14
    assert "objection_price" in hint["alternatives"]


def test_an_appointment_is_confirmed_today():
    hint = step("needs_confirmed", "A", notes="约了周六上午来店", outcome="appointment")
    assert (hint["action"], hint["in_days"], hint["script_id"]) == ("test_drive", 0, "test_drive_confirmation")


@pytest.mark.parametrize("notes, outcome", [
    (None, "test_drive_done"),
    ("昨天试驾完，觉得空间有点小", "reached"),
    ("已试驾，还在犹豫", "reached"),
    ("He test drove the car on Saturday and liked it", "reached"),
])
def test_after_a_test_drive_call_the_next_day(notes, outcome):
    hint = step("proposal", "A", notes=notes, outcome=outcome)
    assert (hint["action"], hint["in_days"], hint["script_id"]) == ("call", 1, "after_test_drive_call")


@pytest.mark.parametrize("notes", ["想试驾了", "已经预约试驾了", "还没试驾过", "haven't test driven it yet"])
def test_wanting_or_booking_a_test_drive_is_no_test_drive_done(notes):
    assert step("needs_confirmed", "A", notes=notes)["script_id"] != "after_test_drive_call"


@pytest.mark.parametrize("notes, stage", [
    ("客户想周末试驾，关心续航和置换补贴", "needs_confirmed"),
    ("还没试驾，想来店里看看", "needs_confirmed"),
    ("Wants to test-drive the Han this weekend", "initial_contact"),
    ("有没有试驾车？", "proposal"),
])
def test_test_drive_interest_gets_an_invitation(notes, stage):
    hint = step(stage, "H", notes=notes)
    assert (hint["action"], hint["script_id"]) == ("invitation", "store_invitation_test_drive")
    assert hint["in_days"] == 1
    assert "test-drive interest" in hint["why"][0]


def test_a_test_drive_asked_for_by_the_lead_counts_as_interest():
    assert step("needs_confirmed", "B", traits=["test_drive"])["action"] == "invitation"
    assert step("negotiation", "B", traits=["test_drive"])["action"] != "invitation"


def test_a_refused_test_drive_is_no_interest():
    assert step("needs_confirmed", "B", notes="不想试驾，先发报价")["action"] != "invitation"


@pytest.mark.parametrize("notes, script", [
    ("觉得太贵了，问最低价", "objection_price"),
    ("Asked for our best price", "objection_price"),
    ("还在看比亚迪汉", "objection_competitor"),
    ("comparing with the Tesla Model Y", "objection_competitor"),
    ("想等新款出来再说", "objection_new_model"),
    ("旧车估价太低了", "objection_trade_in_value"),
    ("问首付和月供", "objection_financing"),
    ("wants a loan, 3 years", "objection_financing"),
    ("客户问了续航，冬天掉电厉害吗", "concern_range_charging"),
    ("小区没有充电桩", "concern_range_charging"),
    ("担心不保值", "concern_resale"),
    ("家里有二胎，后备箱要放婴儿车", "concern_space"),
    ("问百公里油耗多少", "concern_fuel_economy"),
    ("关心电池安全", "concern_safety"),
    ("多久能提车？", "concern_delivery_time"),
    ("Worried about range anxiety on long trips", "concern_range_charging"),
])
def test_a_topic_in_the_note_picks_its_script(notes, script):
    hint = step("needs_confirmed", "B", notes=notes)
    assert hint["script_id"] == script
    assert hint["why"][0].startswith("the note mentions ")


def test_the_why_names_the_word_and_what_it_means():
    hint = step("needs_confirmed", "B", notes="客户问了续航")
    assert hint["why"][0].startswith("the note mentions 续航 (range)")
    assert (hint["action"], hint["in_days"]) == ("wechat", 0)
    assert hint["values"] == {"concern": "续航"}
    assert step(notes="客户问了续航", language="en")["values"] == {"concern": "range"}


@pytest.mark.parametrize("traits, script", [
    (["price_sensitive"], "objection_price"),
    (["competitor:tesla"], "objection_competitor"),
    (["trade_in"], "objection_trade_in_value"),
    (["finance"], "objection_financing"),
    (["concern:range"], "concern_range_charging"),
    (["concern:charging"], "concern_range_charging"),
    (["concern:resale"], "concern_resale"),
    (["nev_interest"], "product_introduction_nev"),
])
def test_traits_pick_the_script_that_addresses_them(traits, script):
    hint = step("needs_confirmed", "B", traits=traits)
    assert hint["script_id"] == script
    assert hint["why"][0].startswith(f"the profile has the trait {traits[0]}")
    assert hint["in_days"] == 7


def test_the_note_wins_over_the_traits_and_the_rest_are_alternatives():
    hint = step("proposal", "B", traits=["concern:range", "finance"], notes="觉得太贵了，还在看特斯拉")
    assert hint["script_id"] == "objection_price"
    assert hint["action"] == "quote"
    assert hint["alternatives"] == ["objection_competitor", "objection_financing", "concern_range_charging"]
    assert hint["values"] == {"concern": "续航", "competitor": "特斯拉"}
    assert any(why.startswith("also: the profile has the trait finance") for why in hint["why"])


@pytest.mark.parametrize("notes", ["不需要贷款，全款", "贷款就算了", "No loan, paying cash"])
def test_a_negated_mention_is_no_topic_and_overrules_the_trait(notes):
    hint = step("negotiation", "H", traits=["finance"], notes=notes)
    assert hint["script_id"] != "objection_financing"
    assert "objection_financing" not in hint["alternatives"]


@pytest.mark.parametrize("notes", ["续航不用担心，主要看空间", "不考虑比亚迪，空间要大", "砍价空间还有吗? 空间够大"])
def test_negation_and_exclusions_in_a_note(notes):
    # the first clause's topic is negated or excluded; space is what remains (after price, in the last one)
    hint = step("needs_confirmed", "B", notes=notes)
    assert "concern_space" in [hint["script_id"], *hint["alternatives"]]
    assert "concern_range_charging" not in [hint["script_id"], *hint["alternatives"]]
    assert "objection_competitor" not in [hint["script_id"], *hint["alternatives"]]


def test_a_question_is_no_negation():
    assert step(notes="有没有优惠？")["script_id"] == "objection_price"
    assert step(notes="要不要贷款都可以，看月供")["script_id"] == "objection_financing"


def test_the_store_s_own_brand_is_no_competitor():
    assert step(notes="比亚迪的车都看过", own_brands=["BYD"])["script_id"] != "objection_competitor"
    assert step(traits=["competitor:byd"], own_brands=["比亚迪"])["script_id"] != "objection_competitor"
    assert step(notes="比亚迪的车都看过")["script_id"] == "objection_competitor"


def test_lost_leads_are_reactivated_in_a_month():
    hint = step("proposal", "F", notes="买了别家的车", outcome="refused")
    assert (hint["action"], hint["in_days"], hint["script_id"]) == ("wechat", 30, "lost_reactivation")


@pytest.mark.parametrize("outcome, notes, action, in_days, script", [
    (None, None, "call", 1, "after_sales_delivery_care"),
    ("reached", "车主很满意，说要介绍朋友", "wechat", 1, "after_sales_referral"),
    ("reached", "车主反映车机有点卡", "wechat", 30, "after_sales_maintenance_reminder"),
    ("reached", "不满意", "wechat", 30, "after_sales_maintenance_reminder"),
])
def test_after_sales(outcome, notes, action, in_days, script):
    hint = step("after_sales", "O", notes=notes, outcome=outcome)
    assert (hint["action"], hint["in_days"], hint["script_id"]) == (action, in_days, script)


def test_an_unknown_stage_is_refused_and_odd_input_is_tolerated():
    with pytest.raises(ValueError, match="unknown stage"):
        step("closing")
    hint = next_step("proposal", None, None, None, "weird", LIBRARY)
    assert (hint["script_id"], hint["in_days"]) == ("quote_followup", 1)  # no grade is N; an unknown outcome none
    assert next_step("proposal", "Z", [None, 3], 42, None, LIBRARY)["in_days"] == hints.DEFAULT_CADENCE


def test_a_store_s_library_is_used():
    mine = scripts.validate_template({
        "id": "store_price", "situation": "objection_price", "stages": ["negotiation"],
        "addresses": ["price_sensitive"], "texts": {"zh": "{customer_title}，价格我再帮您申请。"}})
    merged = scripts.merge(LIBRARY, [mine])
    assert step("negotiation", "A", notes="太贵了")["script_id"] == "objection_price"
    hint = next_step("negotiation", "A", [], "太贵了", "reached", [mine])
    assert hint["script_id"] == "store_price"
    assert next_step("proposal", "A", [], "太贵了", "reached", merged)["script_id"] == "objection_price"


def test_a_library_without_the_situation_falls_back_to_the_stage():
    only = [t for t in LIBRARY if t["situation"] in ("first_contact", "quote_followup")]
    assert next_step("proposal", "B", ["concern:range"], "太贵了", "reached", only)["script_id"] == "quote_followup"
    assert next_step("after_sales", "O", [], None, None, only)["script_id"] is None


def test_the_default_library_is_used_without_one(monkeypatch):
    monkeypatch.delenv(scripts.ENV_VAR, raising=False)
    scripts.library.cache_clear()
    try:
        assert next_step("initial_contact", "N", [], None, None)["script_id"] == "first_contact_call"
    finally:
        scripts.library.cache_clear()


_WORDS = ["续航", "充电", "太贵", "优惠", "比亚迪", "特斯拉", "置换", "贷款", "首付", "试驾", "试驾完", "新款", "空间",
          "保值", "油耗", "提车", "安全", "满意", "不", "没", "不需要", "算了", "，", "。", "有没有", "想", "range",
          "loan", "not", "test drive", "discount", "Tesla", "BYD", " ", "no"]
_TRAITS = ["nev_interest", "finance", "trade_in", "price_sensitive", "competitor:byd", "competitor:tesla",
           "competitor:unknown", "concern:range", "concern:charging", "concern:resale", "concern:space",
           "concern:fuel_economy", "concern:safety", "concern:delivery_time", "test_drive", "something:else"]


@given(
    stage=st.sampled_from(scripts.STAGES),
    grade=st.sampled_from(["H", "A", "B", "C", "N", "O", "F", "x", ""]),
    traits=st.lists(st.sampled_from(_TRAITS), max_size=5),
    notes=st.one_of(st.none(), st.text(max_size=40), st.lists(st.sampled_from(_WORDS), max_size=12).map("".join)),
    outcome=st.sampled_from([None, *hints.OUTCOMES, "other"]),
    no_answers=st.one_of(st.none(), st.integers(0, 5)),
)
def test_the_suggestion_always_exists_in_the_library_and_fits_the_stage(stage, grade, traits, notes, outcome,
                                                                         no_answers):
    hint = next_step(stage, grade, traits, notes, outcome, LIBRARY, no_answers=no_answers)
    template = scripts.find(LIBRARY, hint["script_id"])
    assert template is not None and scripts.fits(template, stage)
    assert hint["action"] in ACTIONS
    assert isinstance(hint["in_days"], int) and 0 <= hint["in_days"] <= 30
    assert hint["why"] and all(isinstance(w, str) and w for w in hint["why"])
    for other in hint["alternatives"]:
        assert scripts.fits(scripts.find(LIBRARY, other), stage) and other != hint["script_id"]
    rendered, missing = scripts.render(template["texts"]["zh"], hint["values"])
    assert set(missing) <= set(scripts.PLACEHOLDERS)
