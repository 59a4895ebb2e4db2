"""services.notifications.messages and templates.yaml: every kind in both
languages, what happens to missing and empty values, titles that fit."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.notification_contracts import KINDS, LANGUAGES
from services.notifications.messages import (
    DEFAULT_PATH,
    MISSING,
    TemplateError,
    Word,
    check,
    library,
    load,
    placeholders_of,
    render,
)
from services.notifications.models import TITLE_LENGTH

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 11, 30, 2, 15, tzinfo=timezone.utc)  # 10:15 in Shanghai

# what the service's events fill in (handlers.py); every placeholder of the default templates
FULL = {"customer": "王磊", "phone": "+8613800138000", "source": "autohome", "car": "BYD Han EV", "due": DUE,
        "minutes": 15, "time": DUE, "vehicle": "BYD Han EV (SH-001)", "by": "李经理", "consultant": "张三",
        "task": Word("tasks", "call"), "reason": "客户要求", "note": "买了特斯拉", "excerpt": "请回电",
        "lost_reason": Word("lost_reasons", "price"), "from": "A", "to": "H", "store": "浦东店",
        "date": "2026-11-30", "new_leads": 12, "sla_breaches": 1, "overdue": 2, "test_drives": 3,
        "what": Word("changes", "won"), "how": Word("how", "manual"), "clock": Word("clock", "running"),
        "detail": Word("change_detail", "comment"), "channel": "企业微信群"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages_with_nothing_missing(kind, language):
    title, body = render(kind, language, FULL, SHANGHAI)
    assert title and body and MISSING not in title + body
    assert "{" not in title + body and "\n" not in title and len(title) <= TITLE_LENGTH


def test_the_default_file_names_only_placeholders_the_events_fill():
    lib = library()
    used = {name for texts in lib.messages.values() for parts in texts.values() for text in parts.values()
            for name in placeholders_of(text)}
    used |= {name for table in lib.words.values() for texts in table.values() for text in texts.values()
             for name in placeholders_of(text)}
    assert used <= set(FULL)


def test_a_new_lead_in_chinese_and_in_english_with_the_clock_in_store_time():
    title, body = render("lead_assigned", "zh", dict(FULL, how=Word("how", "routing")), SHANGHAI)
    assert title == "新线索：王磊"
    assert body.splitlines() == ["来源：autohome", "电话：+8613800138000", "意向车型：BYD Han EV",
                                 "请在 11-30 10:15 前首次联系（还剩 15 分钟）。"]
    title, body = render("lead_assigned", "en", FULL, SHANGHAI)
    assert title == "New lead: 王磊" and body.splitlines()[0] == "李经理 gave you this lead."
    assert body.splitlines()[-1] == "Call by 11-30 10:15 (15 minutes left)."


def test_a_line_of_empty_values_is_left_out_and_a_value_never_known_shows_as_a_dash():
    values = dict(FULL, phone=None, car="", clock=Word("clock", "none"), how=Word("how", "routing"))
    _, body = render("lead_assigned", "en", values, SHANGHAI)
    assert body.splitlines() == ["Source: autohome"]
    values.pop("source")
    _, body = render("lead_assigned", "en", values, SHANGHAI)
    assert body.splitlines() == [f"Source: {MISSING}"]


def test_an_unknown_language_reads_chinese_and_an_unknown_word_shows_its_key_or_what_it_says():
    assert render("lead_update", "fr", FULL, SHANGHAI)[0] == "成交：王磊"
    assert render("lead_update", "en", dict(FULL, what=Word("changes", "teleported")), SHANGHAI)[0] == \
        "teleported: 王磊"
    _, body = render("lead_update", "en", dict(FULL, detail=Word("change_detail", "teleported", "")), SHANGHAI)
    assert body == "客户要求"


def test_a_value_cannot_add_lines_or_placeholders():
    title, body = render("lead_update", "en", dict(FULL, reason="line one\nline two {phone}",
                                                   detail=Word("change_detail", "pooled", "")), SHANGHAI)
    assert body == "line one line two {phone}"


def test_a_title_from_the_longest_name_still_fits_its_column():
    title, _ = render("lead_assigned", "zh", dict(FULL, customer="王" * 500), SHANGHAI)
    assert len(title) == TITLE_LENGTH and title.endswith("…")


@given(kind=st.sampled_from(KINDS), language=st.sampled_from(LANGUAGES + ("", "xx")),
       values=st.dictionaries(st.sampled_from(sorted(FULL)), st.none() | st.text(max_size=300) | st.integers()))
def test_rendering_never_fails_and_titles_always_fit(kind, language, values):
    title, body = render(kind, language, values, SHANGHAI)
    assert 0 < len(title) <= TITLE_LENGTH and "\n" not in title and isinstance(body, str)


def test_a_templates_file_without_a_kind_or_a_language_is_refused(tmp_path):
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    del data["messages"]["reminder"]["en"]
    broken = tmp_path / "templates.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TemplateError, match="messages.reminder.en"):
        load(broken)
    with pytest.raises(TemplateError, match="mapping"):
        check(["not", "a", "mapping"], "x.yaml")
    broken.write_text("messages: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match=str(broken)):
        load(broken)


def test_a_deployment_names_its_own_templates(tmp_path, monkeypatch):
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["messages"]["reminder"]["zh"]["title"] = "快跟进：{customer}"
    own = tmp_path / "ours.yaml"
    own.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NOTIFICATIONS_TEMPLATES", str(own))
    assert render("reminder", "zh", FULL, SHANGHAI, load())[0] == "快跟进：王磊"
