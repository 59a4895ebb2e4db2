"""services.followups.scripts: the script template library, rendering, validation, merging."""
import textwrap
from decimal import Decimal

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from services.followups import scripts
from services.followups.scripts import (
    ENV_VAR,
    LANGUAGES,
    PLACEHOLDERS,
    STAGES,
    ScriptError,
    customer_title,
    format_price,
    library,
    load,
    merge,
    render,
    validate_template,
)

FULL = {
    "customer_name": "王磊", "customer_title": "王先生", "consultant_name": "李娜", "store_name": "浦东店",
    "brand": "比亚迪", "model": "汉EV", "trim": "荣耀版", "price": "21.58万元",
    "test_drive_time": "周六上午10点", "competitor": "特斯拉Model 3", "concern": "续航",
}


def template(**overrides) -> dict:
    base = {
        "id": "store_weekend",
        "situation": "store_invitation",
        "stages": ["needs_confirmed"],
        "texts": {"zh": "{customer_title}您好，周末来{store_name}试驾{model}吗？",
                  "en": "Hello {customer_title}, would you like to test drive the {model} this weekend?"},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(autouse=True)
def _default_library(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    library.cache_clear()
    yield
    library.cache_clear()


# -- the default library ------------------------------------------------------

LIBRARY = load(scripts.DEFAULT_PATH)


@pytest.mark.parametrize("tpl", LIBRARY, ids=[t["id"] for t in LIBRARY])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_both_languages_with_nothing_missing(tpl, language):
    text, missing = render(tpl["texts"][language], FULL)
    assert missing == []
    assert "{" not in text and "【" not in text
    assert 1 <= len(text) <= scripts.MAX_TEXT
    assert tpl["title"][language]


def test_the_library_covers_every_stage_and_the_issue_s_situations():
    situations = {t["situation"] for t in LIBRARY}
    assert {"first_contact", "needs_discovery", "product_introduction", "store_invitation", "after_test_drive",
            "objection_price", "objection_competitor", "objection_new_model", "objection_trade_in_value",
            "objection_financing", "unreachable", "after_sales"} <= situations
    assert set(STAGES) == {s for t in LIBRARY for s in t["stages"]}
    assert len({t["id"] for t in LIBRARY}) == len(LIBRARY)


def test_templates_name_what_they_address():
    addresses = {t["id"]: set(t["addresses"]) for t in LIBRARY}
    assert "finance" in addresses["objection_financing"]
    assert {"concern:range", "concern:charging"} <= addresses["concern_range_charging"]
    assert "competitor:*" in addresses["objection_competitor"]
    assert "trade_in" in addresses["objection_trade_in_value"]
    assert "price_sensitive" in addresses["objection_price"]


def test_library_is_loaded_once_and_hands_out_copies():
    first = library()
    first[0]["texts"]["zh"] = "changed"
    first.clear()
    assert library() == LIBRARY


# -- render -------------------------------------------------------------------

def test_render_fills_known_placeholders():
    assert render("{customer_title}您好，我是{consultant_name}。", FULL) == ("王先生您好，我是李娜。", [])


def test_render_marks_and_reports_missing_and_unknown_placeholders():
    text, missing = render("{customer_title}，{model}{trim}现价{price}，{foo}{model}", {
        "customer_title": "王女士", "model": "汉EV", "trim": "  ", "price": None})
    assert text == "王女士，汉EV【trim】现价【price】，【foo】汉EV"
    assert missing == ["trim", "price", "foo"]


@pytest.mark.parametrize("text", [
    "{0}", "{}", "{model.__class__}", "{model!r}", "{model:>10}", "{model[0]}", "{ model }", "{{model}}x",
    "{customer_name.__init__.__globals__}", "%(model)s", "$model",
])
def test_render_interprets_nothing_but_plain_placeholders(text):
    out, missing = render(text, {"model": "汉"})
    if text == "{{model}}x":  # no escape syntax: the inner {model} is a placeholder
        assert out == "{汉}x"
    else:
        assert out == text and missing == []


def test_values_are_inserted_as_plain_text_and_never_expanded_again():
    out, missing = render("{customer_name}/{model}", {"customer_name": "{model}\n{trim}", "model": "{0.__class__}"})
    assert out == "{model} {trim}/{0.__class__}"
    assert missing == []


def test_render_takes_numbers_but_not_objects():
    class Sneaky:
        def __str__(self):
            raise AssertionError("__str__ called")

        __format__ = __repr__ = __str__

    class SneakyStr(str):
        def __str__(self):
            raise AssertionError("__str__ called")

    class SneakyInt(int):
        def __str__(self):
            raise AssertionError("__str__ called")

        __repr__ = __str__

    out, missing = render("{price}|{model}|{trim}|{brand}|{concern}|{competitor}", {
        "price": 215800, "model": Sneaky(), "trim": SneakyStr("荣耀版"), "brand": SneakyInt(3),
        "concern": Decimal("1.5"), "competitor": True})
    assert out == "215800|【model】|荣耀版|【brand】|1.5|【competitor】"
    assert missing == ["model", "brand", "competitor"]


def test_render_survives_odd_arguments():
    assert render(None, FULL) == ("", [])
    assert render("{model}", None) == ("【model】", ["model"])
    assert render("{model}", ["model"]) == ("【model】", ["model"])


_values = st.dictionaries(
    st.one_of(st.sampled_from(PLACEHOLDERS), st.text(max_size=10), st.integers()),
    st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.booleans(), st.decimals(),
              st.lists(st.text(), max_size=2), st.builds(object)),
    max_size=14)
_texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.text(max_size=8), st.sampled_from(PLACEHOLDERS).map("{{{}}}".format),
                       st.sampled_from(["{", "}", "{0}", "{x.y}", "{a:b}", "{!r}", "【", "{unknown}"])),
             max_size=20).map("".join))


@given(_texts, _values)
def test_render_never_raises_and_leaves_no_known_placeholder_unaccounted(text, values):
    out, missing = render(text, values)
    assert isinstance(out, str)
    assert len(set(missing)) == len(missing)
    for name in scripts.placeholders(text):
        assert ("{" + name + "}") not in out or name in missing or "{" in str(values.get(name, ""))
        if name in missing:
            assert f"【{name}】" in out


@given(st.text(), st.dictionaries(st.sampled_from(PLACEHOLDERS), st.text(min_size=1).filter(str.strip)))
def test_render_without_placeholders_changes_nothing(text, values):
    if not scripts.placeholders(text):
        assert render(text, values) == (text, [])


# -- validate_template --------------------------------------------------------

def test_validate_template_normalises():
    out = validate_template(template(
        stages=["proposal", "proposal", "needs_confirmed"],
        texts={"en": "  Hi {customer_title}\r\n", "zh": "您好{customer_title}"},
        addresses=["finance", "competitor:*"], channels=["wechat"]))
    assert out == {
        "id": "store_weekend", "situation": "store_invitation", "stages": ["proposal", "needs_confirmed"],
        "texts": {"zh": "您好{customer_title}", "en": "Hi {customer_title}"}, "title": {},
        "addresses": ["finance", "competitor:*"], "channels": ["wechat"]}


@pytest.mark.parametrize("overrides, field, words", [
    ({"id": None}, "id", "required"),
    ({"id": "Bad Id"}, "id", "lower-case"),
    ({"situation": 3}, "situation", "required"),
    ({"stages": []}, "stages", "non-empty"),
    ({"stages": "proposal"}, "stages", "non-empty"),
    ({"stages": ["proposal", "closing"]}, "stages[1]", "closing"),
    ({"texts": {}}, "texts", "required"),
    ({"texts": {"fr": "Bonjour"}}, "texts.fr", "unknown language"),
    ({"texts": {"zh": "   "}}, "texts.zh", "1 to 2000"),
    ({"texts": {"zh": "好" * 2001}}, "texts.zh", "1 to 2000"),
    ({"texts": {"zh": 5}}, "texts.zh", "must be text"),
    ({"texts": {"zh": "a\x00b"}}, "texts.zh", "control"),
    ({"texts": {"en": "Hi {modle} and {price} {colour}"}}, "texts.en", "{modle}, {colour}"),
    ({"title": {"zh": "好" * 81}}, "title.zh", "1 to 80"),
    ({"addresses": ["Finance"]}, "addresses[0]", "trait id"),
    ({"addresses": "finance"}, "addresses", "list"),
    ({"channels": ["fax"]}, "channels[0]", "call"),
    ({"body": "x"}, "body", "unknown field"),
])
def test_validate_template_errors_name_the_field(overrides, field, words):
    with pytest.raises(ScriptError) as caught:
        validate_template(template(**overrides))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert words in caught.value.message
    assert isinstance(caught.value, ValueError)


def test_validate_template_refuses_what_is_not_an_object():
    with pytest.raises(ScriptError) as caught:
        validate_template(["id"])
    assert caught.value.field == "template"


@pytest.mark.parametrize("tpl", LIBRARY, ids=[t["id"] for t in LIBRARY])
def test_every_library_template_is_a_valid_override(tpl):
    assert validate_template(tpl) == tpl


# -- merge --------------------------------------------------------------------

def test_merge_replaces_by_id_in_place_and_adds_store_only_templates():
    group = [template(id="a"), template(id="b"), template(id="c")]
    store = [template(id="d", situation="nurture"), template(id="b", situation="concern")]
    merged = merge(group, store)
    assert [t["id"] for t in merged] == ["a", "b", "c", "d"]
    assert merged[1]["situation"] == "concern"
    assert merged[3]["situation"] == "nurture"
    assert [t["id"] for t in group] == ["a", "b", "c"] and group[1]["situation"] == "store_invitation"
    merged[0]["id"] = "changed"
    assert group[0]["id"] == "a"


def test_merge_last_repeat_wins_and_empty_sides():
    assert merge([], []) == []
    assert merge(LIBRARY, []) == LIBRARY
    only = merge([], [template(id="x", situation="nurture"), template(id="x", situation="concern")])
    assert [(t["id"], t["situation"]) for t in only] == [("x", "concern")]


@given(st.lists(st.sampled_from("abcdef"), max_size=6), st.lists(st.sampled_from("defgh"), max_size=6))
def test_merge_property(group_ids, store_ids):
    group = [{"id": i, "side": "group"} for i in group_ids]
    store = [{"id": i, "side": "store"} for i in store_ids]
    merged = merge(group, store)
    ids = [t["id"] for t in merged]
    assert len(ids) == len(set(ids)) and set(ids) == set(group_ids) | set(store_ids)
    for t in merged:
        assert t["side"] == ("store" if t["id"] in store_ids else "group")
    assert ids[:len(set(group_ids))] == list(dict.fromkeys(group_ids))


# -- loading a group's file ---------------------------------------------------

def write(tmp_path, doc, name="group.yaml"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_env_file_replaces_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(write(tmp_path, {"templates": [template()]})))
    library.cache_clear()
    assert [t["id"] for t in library()] == ["store_weekend"]


def test_env_file_extends_the_default_when_it_says_so(tmp_path, monkeypatch):
    mine = template(id="objection_price", situation="objection_price", stages=["negotiation"])
    monkeypatch.setenv(ENV_VAR, str(write(tmp_path, {"extends_default": True, "templates": [mine, template()]})))
    library.cache_clear()
    ids = [t["id"] for t in library()]
    assert ids == [t["id"] for t in LIBRARY] + ["store_weekend"]
    assert scripts.find(library(), "objection_price")["stages"] == ["negotiation"]


def test_path_argument_wins_over_the_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.yaml"))
    assert [t["id"] for t in load(write(tmp_path, {"templates": [template()]}))] == ["store_weekend"]


@pytest.mark.parametrize("doc, field, words", [
    ("templates: [", None, "not valid YAML"),
    ("- a\n- b\n", "templates", "mapping"),
    ({"templates": []}, "templates", "non-empty"),
    ({"templates": [template()], "extends_default": "yes"}, "extends_default", "true or false"),
    ({"templates": [template()], "templats": []}, "templats", "unknown top-level"),
    ({"templates": [template(), template(id="second", texts={"zh": "{modle}"})]}, "texts.zh",
     "template 'second' (#2)"),
    ({"templates": [template(), template()]}, "id", "repeats"),
    ({"templates": [template(id=None)]}, "id", "template #1"),
])
def test_a_bad_file_names_the_file_template_and_field(tmp_path, doc, field, words):
    path = write(tmp_path, doc)
    with pytest.raises(ScriptError) as caught:
        load(path)
    assert str(path) in str(caught.value)
    assert words in str(caught.value)
    assert caught.value.field == field


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScriptError, match="cannot read the script templates"):
        load(tmp_path / "nope.yaml")


def test_a_yaml_file_with_comments_and_block_texts_loads(tmp_path):
    path = write(tmp_path, textwrap.dedent("""\
        # our group's own scripts
        version: 1
        templates:
          - id: welcome
            situation: first_contact
            stages: [initial_contact]
            texts:
              zh: |
                {customer_title}您好！
                欢迎来到{store_name}。
        """))
    assert load(path)[0]["texts"] == {"zh": "{customer_title}您好！\n欢迎来到{store_name}。"}


# -- values -------------------------------------------------------------------

@pytest.mark.parametrize("name, gender, language, expected", [
    ("王磊", "male", "zh", "王先生"),
    ("王磊", "女", "zh-CN", "王女士"),
    ("欧阳娜娜", "f", "zh", "欧阳女士"),
    ("欧阳", "m", "zh", "欧先生"),
    ("王磊", None, "zh", "王磊"),
    ("王磊", "m", "en", "Mr. 王"),
    ("Lei Wang", "female", "en", "Ms. Lei Wang"),
    ("  ", "m", "zh", None),
    (None, "m", "zh", None),
])
def test_customer_title(name, gender, language, expected):
    assert customer_title(name, gender, language) == expected


@pytest.mark.parametrize("minor, currency, language, expected", [
    (21580000, "CNY", "zh", "21.58万元"),
    (20000000, "CNY", "zh", "20万元"),
    (880000, "CNY", "zh", "8,800元"),
    (880050, "CNY", "zh", "8,800.50元"),
    (21580000, "CNY", "en", "CNY 215,800"),
    (4500000, "USD", "en", "USD 45,000"),
    (None, "CNY", "zh", None),
    ("215800", "CNY", "zh", None),
])
def test_format_price(minor, currency, language, expected):
    assert format_price(minor, currency, language) == expected
