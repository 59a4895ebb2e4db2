"""services.customers.traits: the derived profile's traits from text and behaviours."""
import re
import textwrap
import unicodedata
from datetime import datetime, timezone

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from services.customers.traits import DEFAULT_PATH, ENV_VAR, Evidence, Hit, Lexicon, confidence

AT = datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc)


def _default() -> Lexicon:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(ENV_VAR, raising=False)
        return Lexicon.load()


LEXICON = _default()


def traits(text: str, lexicon: Lexicon = LEXICON) -> set[str]:
    return {hit.trait for hit in lexicon.infer(text, source="lead_comment", at=AT)}


@pytest.fixture(autouse=True)
def no_dealer_lexicon(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


# -- each trait family, in Chinese and English ---------------------------------

@pytest.mark.parametrize("text, trait", [
    ("想了解一下新能源车型，家里有充电桩", "nev_interest"),
    ("考虑纯电还是插混，最好是绿牌", "nev_interest"),
    ("混动版什么时候到店", "nev_interest"),
    ("Looking for an EV for my commute", "nev_interest"),
    ("Is there a plug-in hybrid version?", "nev_interest"),
    ("Do you have the PHEV in white?", "nev_interest"),
    ("想办分期，首付能付多少？", "finance"),
    ("有没有0利率的活动，月供大概多少", "finance"),
    ("零首付可以吗", "finance"),
    ("Interested in financing options", "finance"),
    ("What would the monthly payment be with 20% down payment?", "finance"),
    ("有辆旧车想置换，能给多少置换补贴", "trade_in"),
    ("参加以旧换新活动吗", "trade_in"),
    ("I have a 2015 Civic to trade in", "trade_in"),
    ("Can I part-exchange my old car?", "trade_in"),
    ("价格太贵了，能不能便宜点", "price_sensitive"),
    ("最低价多少？还有优惠吗", "price_sensitive"),
    ("What's your best price? It's too expensive for me", "price_sensitive"),
    ("Any discount if I buy this month?", "price_sensitive"),
    ("在比亚迪店也看过", "competitor:byd"),
    ("BYD Seal is cheaper", "competitor:byd"),
    ("特斯拉Model Y的交付要等多久", "competitor:tesla"),
    ("Comparing with the Tesla Model 3", "competitor:tesla"),
    ("蔚来可以换电", "competitor:nio"),
    ("小鹏G6也在考虑", "competitor:xpeng"),
    ("理想L6空间更大", "competitor:li_auto"),
    ("I also drove a Li Auto L7", "competitor:li_auto"),
    ("之前开的是丰田凯美瑞", "competitor:toyota"),
    ("本田雅阁的油耗怎么样", "competitor:honda"),
    ("大众迈腾和这个比怎么样", "competitor:volkswagen"),
    ("Thinking about a VW Tiguan", "competitor:volkswagen"),
    ("宝马3系太贵", "competitor:bmw"),
    ("奔驰C级也在看", "competitor:mercedes"),
    ("Mercedes-Benz dealer offered more", "competitor:mercedes"),
    ("奥迪A4L落地价多少", "competitor:audi"),
    ("小米SU7订单排太久了", "competitor:xiaomi"),
    ("吉利银河E5和这个比", "competitor:geely"),
    ("长安深蓝也不错", "competitor:changan"),
    ("主要担心续航，冬天掉电厉害吗", "concern:range"),
    ("Range anxiety is my main worry", "concern:range"),
    ("小区没有车位装家充，充电方便吗", "concern:charging"),
    ("Where is the nearest supercharger?", "concern:charging"),
    ("这车保值吗？三年后残值多少", "concern:resale"),
    ("How is the resale value after 3 years?", "concern:resale"),
    ("后排空间够不够，后备箱能放婴儿车吗", "concern:space"),
    ("Need legroom for tall passengers and a big trunk", "concern:space"),
    ("百公里油耗多少", "concern:fuel_economy"),
    ("What's the real-world mpg?", "concern:fuel_economy"),
    ("家里有小孩，比较看重安全性", "concern:safety"),
    ("How did it do in the crash test?", "concern:safety"),
    ("现在订车多久能提车？有现车吗", "concern:delivery_time"),
    ("What's the delivery time if I order today?", "concern:delivery_time"),
])
def test_trait_is_found(text, trait):
    assert trait in traits(text)


def test_chinese_comment_comparing_with_byd():
    found = traits("想了解一下比亚迪汉和你们的车对比，主要担心续航和充电")
    assert found == {"competitor:byd", "concern:range", "concern:charging"}


def test_english_comment_on_finance_and_trade_in():
    found = traits("Interested in financing, 0% APR? I have a 2015 Civic to trade in")
    assert found == {"finance", "trade_in", "competitor:honda"}


def test_consultant_note_mixing_languages():
    found = traits("客户想买EV，预算有限，有旧车trade-in，担心charging")
    assert {"nev_interest", "price_sensitive", "trade_in", "concern:charging"} <= found


# -- negation ------------------------------------------------------------------

@pytest.mark.parametrize("text, trait", [
    ("不需要贷款", "finance"),
    ("不考虑置换", "trade_in"),
    ("no trade-in", "trade_in"),
    ("don't need finance", "finance"),
    ("I don\u2019t need finance", "finance"),
    ("不要电车", "nev_interest"),
    ("没有旧车", "trade_in"),
    ("无置换需求", "trade_in"),
    ("不太需要分期", "finance"),
    ("没有考虑过置换", "trade_in"),
    ("I will pay cash, I won't take a loan", "finance"),
    ("Buying without financing", "finance"),
    ("Never had an EV, not interested in EVs", "nev_interest"),
    ("贷款就算了", "finance"),
    ("置换暂时不考虑", "trade_in"),
    ("Financing not needed", "finance"),
    ("trade-in: not needed", "trade_in"),
])
def test_negated_mention_gives_no_trait(text, trait):
    assert trait not in traits(text)


def test_negation_ends_with_the_clause():
    assert traits("不需要贷款，想置换") == {"trade_in"}
    assert traits("不需要贷款但是想置换") == {"trade_in"}
    assert traits("No finance needed. Trade-in yes") == {"trade_in"}
    assert traits("don't need a loan but I have a trade in") == {"trade_in"}


def test_negation_looks_only_a_few_characters_or_words_back():
    assert "finance" in traits("不是本地户口的话，我们家里人都想贷款")     # 不 is in another clause
    assert "finance" in traits("不在乎颜色和内饰配置等等等细节想贷款")       # 不 is far before
    assert "finance" in traits("no rush at all for the purchase, so finance it")
    assert "finance" in traits("no rush for the car itself and finance is fine")


@pytest.mark.parametrize("text, trait", [
    ("有没有优惠", "price_sensitive"),         # A-not-A questions ask, they do not refuse
    ("要不要贷款划算", "finance"),
    ("能不能分期", "finance"),
    ("可不可以置换", "trade_in"),
    ("贷款要不要利息", "finance"),
    ("不过想问问首付", "finance"),              # 不过 is "but"
    ("无息贷款有吗", "finance"),                 # 无息 is interest-free
    ("免首付可以吗", "finance"),
    ("无线充电方便吗", "concern:charging"),
    ("担心不安全", "concern:safety"),            # the worry is the safety
    ("Not sure about financing yet", "finance"),
    ("No matter the discount, I want it", "price_sensitive"),
])
def test_phrases_that_only_look_negative(text, trait):
    assert trait in traits(text)


# -- how terms match ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    "every day I drive", "Eve is my wife", "This is a clever idea", "prevention", "ever since",
    "the dealer said so", "Orange colour", "I want a strange one",
])
def test_english_terms_match_whole_words_only(text):
    assert not (traits(text) & {"nev_interest", "concern:range", "price_sensitive"})


@pytest.mark.parametrize("text", [
    "EV", "ev", "EVs are great", "an EV.", "(EV)", "想买EV", "EV车型", "Tesla's EV", "evs",
])
def test_english_terms_match_on_any_boundary_and_case(text):
    assert "nev_interest" in traits(text)


@pytest.mark.parametrize("text", ["trade-in", "trade in", "Trade-In", "TRADE IN", "trade  in", "tradein",
                                  "trade\u2011in"])
def test_spaces_and_hyphens_in_a_term_are_one(text):
    assert traits(text) == {"trade_in"}


@pytest.mark.parametrize("text, trait", [
    ("想买ＥＶ", "nev_interest"),
    ("ＢＹＤ的车", "competitor:byd"),
    ("有０利率吗", "finance"),
    ("小米ＳＵ７", "competitor:xiaomi"),
    ("ＴＲＡＤＥ－ＩＮ", "trade_in"),
])
def test_full_width_text_matches(text, trait):
    hits = [h for h in LEXICON.infer(text, source="chat", at=AT) if h.trait == trait]
    assert hits
    assert hits[0].evidence.text in unicodedata.normalize("NFKC", text)


@pytest.mark.parametrize("text, absent", [
    ("Need electric seats and electric windows", "nev_interest"),
    ("还有砍价空间吗", "concern:space"),
    ("In my price range?", "concern:range"),
    ("想选个吉利的日子提车", "competitor:geely"),
    ("价格理想的话就定", "competitor:li_auto"),
    ("系好安全带", "concern:safety"),
])
def test_excluded_phrases_are_no_mention(text, absent):
    assert absent not in traits(text)


def test_excluded_phrase_leaves_other_traits():
    assert traits("还有砍价空间吗") == {"price_sensitive"}
    assert traits("想选个吉利的日子提车") == {"concern:delivery_time"}


def test_overlapping_mentions_both_count():
    assert traits("长安全系都很安全") >= {"competitor:changan", "concern:safety"}


def test_one_hit_per_trait_per_text_with_evidence():
    text = "客户很在意续航。" + "还是续航，" * 5 + "其他都可以"
    hits = LEXICON.infer(text, source="followup_note", at=AT, ref="rec-7")
    assert [h.trait for h in hits] == ["concern:range"]
    hit = hits[0]
    assert hit == Hit("concern:range", Evidence("followup_note", hit.evidence.text, AT, "rec-7"), hit.weight)
    assert hit.evidence.text.startswith("客户很在意续航")
    assert 0 < hit.weight <= 1


def test_evidence_is_the_term_with_some_context():
    filler = "这是一段很长很长的前面的话" * 3
    hits = LEXICON.infer(filler + "想要贷款" + filler, source="chat", at=AT)
    (hit,) = hits
    snippet = hit.evidence.text
    assert "贷款" in snippet
    assert len(snippet) <= 2 + 2 * 20
    assert snippet.index("贷款") == 20


def test_hits_come_in_order_of_first_mention():
    hits = LEXICON.infer("先问分期，再问置换，最后问续航", source="chat", at=AT)
    assert [h.trait for h in hits] == ["finance", "trade_in", "concern:range"]


@pytest.mark.parametrize("text", ["", None, "   ", "。。。", "\x00\x01"])
def test_nothing_to_read_gives_nothing(text):
    assert LEXICON.infer(text, source="chat", at=AT) == []


def test_weights_come_from_the_lexicon():
    by_trait = {h.trait: h.weight for h in LEXICON.infer("想要EV，太贵了", source="chat", at=AT)}
    assert by_trait == {"nev_interest": 0.6, "price_sensitive": 0.4}


def test_one_term_of_one_trait_is_not_the_start_of_another_traits_term():
    """At one position the longest term wins; across traits that must be on purpose."""
    overlaps = set()
    for lang in ("zh", "en"):
        terms = [(t.casefold(), k) for k, trait in LEXICON.traits.items() for t in trait.terms[lang]]
        overlaps |= {(a, b) for a, ka in terms for b, kb in terms if ka != kb and a != b and b.startswith(a)}
    assert overlaps == {("range", "range extender")}     # a range extender is no range worry


# -- labels --------------------------------------------------------------------

def test_labels_in_both_languages_with_fallback():
    assert LEXICON.label("nev_interest", "zh-CN") == "新能源意向"
    assert LEXICON.label("nev_interest", "en") == "NEV interest"
    assert LEXICON.label("competitor:byd", "zh_CN") == "竞品：比亚迪"
    assert LEXICON.label("competitor:byd", "zh") == "竞品：比亚迪"
    assert LEXICON.label("competitor:byd", "fr") == "Competitor: BYD"
    assert LEXICON.label("no_such_trait", "zh-CN") == "no_such_trait"


def test_every_trait_has_both_labels_and_terms():
    for key, trait in LEXICON.traits.items():
        assert trait.labels.get("zh-CN") and trait.labels.get("en"), key
        assert any(trait.terms.values()), key


# -- loading, merging, errors ----------------------------------------------------

def test_default_lexicon_is_the_file_beside_the_module():
    assert DEFAULT_PATH.name == "lexicon.yaml" and DEFAULT_PATH.parent.name == "customers"
    assert DEFAULT_PATH.is_file()
    assert {"nev_interest", "finance", "trade_in", "price_sensitive", "competitor:byd",
            "concern:range"} <= set(LEXICON.traits)


EXTENSION = """
    traits:
      competitor:hongqi:
        label: {zh-CN: 竞品：红旗, en: "Competitor: Hongqi"}
        weight: 0.7
        terms: {zh: [红旗], en: [Hongqi]}
      concern:range:
        terms: {zh: [冬季衰减]}
      competitor:byd:
        enabled: false
      finance:
        label: {en: Wants finance}
    negation:
      before: {zh: [甭]}
    behaviours:
      nev_fuel_type:
        values: [氢能]
"""


def _write(tmp_path, text: str, name: str = "dealer.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _check_extension(lexicon: Lexicon):
    found = traits("红旗H5和比亚迪对比，担心冬季衰减", lexicon)
    assert found == {"competitor:hongqi", "concern:range"}      # BYD is this group's own brand
    assert "concern:range" in traits("续航多少", lexicon)         # the default terms are still there
    assert lexicon.label("competitor:hongqi", "zh-CN") == "竞品：红旗"
    assert lexicon.label("finance", "en") == "Wants finance"
    assert lexicon.label("finance", "zh-CN") == "贷款/分期意向"
    assert "finance" not in traits("甭贷款", lexicon)
    assert "finance" not in traits("不需要贷款", lexicon)
    hits = lexicon.from_behaviour("model_viewed", {"brand": "红旗", "model": "E-HS9", "fuel_type": "氢能"},
                                  at=AT)
    assert {h.trait for h in hits} == {"competitor:hongqi", "nev_interest"}
    assert lexicon.from_behaviour("model_viewed", {"brand": "BYD", "fuel_type": "ice"}, at=AT) == []
    weights = {h.trait: h.weight for h in lexicon.infer("Hongqi", source="chat", at=AT)}
    assert weights == {"competitor:hongqi": 0.7}


def test_extension_from_the_environment_is_merged(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(_write(tmp_path, EXTENSION)))
    _check_extension(Lexicon.load())


def test_extension_from_a_path_is_merged(tmp_path):
    _check_extension(Lexicon.load(_write(tmp_path, EXTENSION)))
    _check_extension(Lexicon.load(str(_write(tmp_path, EXTENSION))))


def test_a_path_wins_over_the_environment(tmp_path, monkeypatch):
    env_file = _write(tmp_path, "traits: {competitor:byd: {enabled: false}}", "env.yaml")
    monkeypatch.setenv(ENV_VAR, str(env_file))
    assert "competitor:byd" not in traits("比亚迪", Lexicon.load())
    path = _write(tmp_path, "traits: {competitor:byd: {weight: 0.9}}", "path.yaml")
    assert "competitor:byd" in traits("比亚迪", Lexicon.load(path))


def test_an_empty_environment_variable_is_no_extension(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "")
    assert set(Lexicon.load().traits) == set(LEXICON.traits)


def test_loading_does_not_change_the_default(tmp_path):
    Lexicon.load(_write(tmp_path, EXTENSION))
    assert "competitor:byd" in traits("比亚迪", Lexicon.load())
    assert "冬季衰减" not in Lexicon.load().traits["concern:range"].terms["zh"]


@pytest.mark.parametrize("content, problem", [
    ("traits: [oops", "not valid YAML"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("trait: {}", "unknown key"),
    ("traits: {finance: {weight: 2}}", "traits.finance.weight"),
    ("traits: {finance: {terms: {zh: [分期付款], fr: [crédit]}}}", "traits.finance.terms.fr"),
    ("negation: {before: {en: [no, never]}}", '"no"'),          # YAML reads a bare no as false
    ("traits: {finance: {terms: {en: [loan, '']}}}", "traits.finance.terms.en[1]"),
    ("traits: {Bad Key: {label: {en: x}, terms: {en: [x]}}}", "traits.Bad Key"),
    ("traits: {concern:noise: {terms: {zh: [噪音]}}}", "traits.concern:noise.label.en"),
    ("traits: {concern:noise: {label: {en: Noise}}}", "traits.concern:noise.terms"),
    ("traits: {finance: {enabled: nope}}", "traits.finance.enabled"),
    ("behaviours: {wishlist: {kinds: [wishlist_added], trait: no_such_trait}}", "unknown trait"),
    ("behaviours: {wishlist: {kinds: [wishlist_added], field: fuel_type, trait: finance}}", "values"),
    ("negation: {window_before: {zh: -1}}", "negation.window_before.zh"),
])
def test_a_malformed_lexicon_is_refused_naming_file_and_problem(tmp_path, content, problem):
    path = _write(tmp_path, content, "broken.yaml")
    with pytest.raises(ValueError) as raised:
        Lexicon.load(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_a_missing_lexicon_file_is_refused(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.yaml"
    monkeypatch.setenv(ENV_VAR, str(missing))
    with pytest.raises(ValueError, match=re.escape(str(missing))):
        Lexicon.load()


def test_an_empty_extension_file_changes_nothing(tmp_path):
    assert set(Lexicon.load(_write(tmp_path, "# nothing yet\n")).traits) == set(LEXICON.traits)


# -- behaviours ------------------------------------------------------------------

def _behaviour(kind, details, lexicon=LEXICON):
    return {h.trait: h for h in lexicon.from_behaviour(kind, details, at=AT, ref="bhv-1")}


def test_finance_calculator_is_finance():
    hits = _behaviour("finance_calculator", {"down_payment": 50000, "months": 36})
    assert set(hits) == {"finance"}
    evidence = hits["finance"].evidence
    assert evidence.source == "behaviour" and evidence.at == AT and evidence.ref == "bhv-1"
    assert "finance_calculator" in evidence.text and "months=36" in evidence.text
    assert set(_behaviour("finance_calculator", {})) == {"finance"}


@pytest.mark.parametrize("fuel_type", ["EV", "ev", "PHEV", "hev", " BEV ", "纯电", "插混", "ＥＶ"])
def test_a_new_energy_model_viewed_or_configured_is_nev_interest(fuel_type):
    assert "nev_interest" in _behaviour("model_viewed", {"brand": "Our", "model": "X",
                                                        "fuel_type": fuel_type})
    assert "nev_interest" in _behaviour("configurator", {"brand": "Our", "model": "X", "trim": "Pro",
                                                         "colour": "white", "fuel_type": fuel_type})


@pytest.mark.parametrize("fuel_type", ["ice", "petrol", "diesel", "", None, 3])
def test_a_fuel_model_viewed_is_no_nev_interest(fuel_type):
    assert "nev_interest" not in _behaviour("model_viewed", {"brand": "Our", "model": "X",
                                                            "fuel_type": fuel_type})


@pytest.mark.parametrize("kind", ["model_viewed", "configurator", "brochure_downloaded",
                                  "test_drive_requested"])
@pytest.mark.parametrize("brand, trait", [
    ("Tesla", "competitor:tesla"), ("TESLA", "competitor:tesla"), ("特斯拉", "competitor:tesla"),
    ("BYD", "competitor:byd"), ("比亚迪", "competitor:byd"), ("Mercedes-Benz", "competitor:mercedes"),
    ("Li Auto", "competitor:li_auto"), ("理想汽车", "competitor:li_auto"),
    ("Volkswagen", "competitor:volkswagen"),
])
def test_a_competitor_brand_seen_is_that_competitor(kind, brand, trait):
    assert set(_behaviour(kind, {"brand": brand, "model": "Any"})) == {trait}


def test_own_brand_and_odd_behaviours_give_nothing():
    assert _behaviour("model_viewed", {"brand": "Hongqi", "model": "H9", "fuel_type": "ice"}) == {}
    assert _behaviour("model_viewed", {}) == {}
    assert _behaviour("model_viewed", None) == {}
    assert _behaviour("wishlist_added", {"brand": "Tesla"}) == {}
    assert _behaviour("finance_calculator_v2", {"months": 12}) == {}


def test_a_behaviour_can_give_several_traits():
    hits = _behaviour("configurator", {"brand": "Tesla", "model": "Model Y", "fuel_type": "ev"})
    assert set(hits) == {"nev_interest", "competitor:tesla"}
    assert all(0 < h.weight <= 1 for h in hits.values())


# -- confidence --------------------------------------------------------------------

@pytest.mark.parametrize("weights, expected", [
    ([], 0.0), ([0.6], 0.6), ([0.6, 0.5], 0.8), ([0.5, 0.5, 0.5], 0.88), ([1.0, 0.2], 1.0),
    ([0.4, 0.4], 0.64), ([1.5], 1.0), ([-0.3, 0.5], 0.5), ([float("nan"), 0.5], 0.5),
])
def test_confidence_combines_independent_hits(weights, expected):
    assert confidence(weights) == expected


# -- properties ----------------------------------------------------------------------

@given(st.text(max_size=300))
def test_infer_never_raises_and_evidence_is_from_the_text(text):
    normalized = unicodedata.normalize("NFKC", text)
    for hit in LEXICON.infer(text, source="chat", at=AT, ref=None):
        assert hit.trait in LEXICON.traits
        assert hit.evidence.text in normalized
        assert 0 < hit.weight <= 1


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=20), st.floats(min_value=0, max_value=1))
def test_confidence_is_monotonic_and_bounded(weights, more):
    before = confidence(weights)
    after = confidence(weights + [more])
    assert 0.0 <= before <= after <= 1.0
    assert confidence(list(reversed(weights + [more]))) == after


def _cue_chars() -> str:
    with open(DEFAULT_PATH, encoding="utf-8") as f:
        negation = yaml.safe_load(f)["negation"]
    return "".join({c for key in ("before", "after") for cue in negation[key]["zh"] for c in cue})


_CUE_CHARS = _cue_chars()
_TERMS = sorted((key, lang, term) for key, trait in LEXICON.traits.items()
                for lang in ("zh", "en") for term in trait.terms[lang])
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF, exclude_characters=_CUE_CHARS)
# every English negation cue (no, not, don't, never ...) has an n, but without: a w
_ASCII = st.sampled_from("abcdefghijklmopqrstuvxyzABCDEFGHIJKLMOPQRSTUVXYZ0123456789 ")
_FILLER = st.text(alphabet=st.one_of(_CJK, _ASCII), max_size=40)


def _squeezed(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", unicodedata.normalize("NFKC", text).casefold())


@given(st.sampled_from(_TERMS), _FILLER, _FILLER)
def test_a_term_in_any_filler_gives_its_trait(term_of, before, after):
    key, lang, term = term_of
    text = f"{before} {term} {after}" if lang == "en" else f"{before}{term}{after}"
    squeezed = _squeezed(text)
    excludes = [phrase for lang_ in ("zh", "en") for phrase in LEXICON.traits[key].exclude[lang_]]
    assume(not any(_squeezed(phrase) in squeezed for phrase in excludes))
    assert key in traits(text)
