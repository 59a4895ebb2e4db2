"""services.leads.grading: the grade at intake and the rules of a manual grade change."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.leads.grading import (
    GRADES,
    OPEN_GRADES,
    GradeError,
    check_grade_change,
    initial_grade,
)
from services.leads.scoring import facts


def lead(channel="third_party", timeframe=None, test_drive=None, comments=None, **interest):
    if timeframe is not None:
        interest["timeframe"] = timeframe
    if test_drive is not None:
        interest["test_drive"] = test_drive
    return facts(channel, "autohome", {"name": "王磊", "phone": "13800138000"}, interest or None, comments)


def test_the_scale():
    assert GRADES == ("H", "A", "B", "C", "N", "O", "F")
    assert OPEN_GRADES == ("H", "A", "B", "C", "N")


@pytest.mark.parametrize("timeframe, grade, reason", [
    ("within_7_days", "H", "timeframe_7_days"),
    ("within_15_days", "A", "timeframe_15_days"),
    ("within_30_days", "B", "timeframe_30_days"),
    ("within_3_months", "C", "timeframe_3_months"),
    ("7d", "H", "timeframe_7_days"),
    ("2 weeks", "A", "timeframe_15_days"),
    ("本周", "H", "timeframe_7_days"),
    ("这周末", "H", "timeframe_7_days"),
    ("今天", "H", "timeframe_7_days"),
    ("下周", "A", "timeframe_15_days"),
    ("半个月内", "A", "timeframe_15_days"),
    ("一个月内", "B", "timeframe_30_days"),
    ("下个月", "C", "timeframe_3_months"),
    ("三个月内", "C", "timeframe_3_months"),
    ("1-3个月", "C", "timeframe_3_months"),
    ("3个月以上", "N", "timeframe_over_3_months"),
    ("半年", "N", "timeframe_over_3_months"),
])
def test_a_timeframe_decides_the_grade(timeframe, grade, reason):
    assert initial_grade(lead(timeframe=timeframe)) == (grade, [reason])


@pytest.mark.parametrize("days, grade", [(0, "H"), (7, "H"), (8, "A"), (15, "A"), (16, "B"), (30, "B"),
                                         (31, "C"), (90, "C"), (91, "N")])
def test_band_edges(days, grade):
    assert initial_grade({"timeframe_days": days})[0] == grade


def test_a_timeframe_is_not_overridden_by_signals():
    hot = lead(channel="walk_in", timeframe="within_3_months", test_drive=True, comments="今天就想试驾")
    assert initial_grade(hot) == ("C", ["timeframe_3_months"])


@pytest.mark.parametrize("timeframe", ["later", "unknown", "不确定", "", None, "someday maybe"])
def test_no_timeframe_and_no_signals_is_not_yet_graded(timeframe):
    assert initial_grade(lead(timeframe=timeframe)) == ("N", ["no_timeframe"])


def test_urgent_words_and_a_test_drive_give_a():
    grade, reasons = initial_grade(lead(comments="明天想去试驾"))
    assert grade == "A"
    assert {"asks_test_drive", "urgent_words"} <= set(reasons)


def test_test_drive_flag_and_english_urgency_give_a():
    assert initial_grade(lead(test_drive=True, comments="Can I come ASAP?"))[0] == "A"


def test_walk_in_with_a_test_drive_gives_b():
    grade, reasons = initial_grade(lead(channel="walk_in", test_drive=True))
    assert grade == "B"
    assert "walk_in" in reasons and "asks_test_drive" in reasons


def test_walk_in_in_a_hurry_gives_b():
    assert initial_grade(lead(channel="walk_in", comments="比较急"))[0] == "B"


@pytest.mark.parametrize("kwargs", [
    {"test_drive": True},
    {"comments": "想试驾"},
    {"comments": "急"},
    {"comments": "price please, asap"},
    {"channel": "walk_in"},
])
def test_one_signal_alone_is_not_enough(kwargs):
    assert initial_grade(lead(**kwargs))[0] == "N"


def test_negated_urgency_does_not_count():
    assert initial_grade(lead(comments="不着急，想试驾"))[0] == "N"


@given(st.dictionaries(st.sampled_from(["timeframe_days", "signals", "channel", "test_drive"]),
                       st.none() | st.booleans() | st.integers() | st.text()
                       | st.lists(st.sampled_from(["urgent", "test_drive", "price"]))))
def test_never_an_outcome_at_intake(any_facts):
    grade, reasons = initial_grade(any_facts)
    assert grade in OPEN_GRADES
    assert reasons and all(isinstance(r, str) for r in reasons)


# -- manual changes


def test_a_valid_change_passes():
    assert check_grade_change("N", "A", "客户说下周来店") is None
    assert check_grade_change("H", "C", "x") is None


@pytest.mark.parametrize("old, new", [("X", "A"), ("A", "h"), (None, "A"), ("A", None), ("A", "")])
def test_unknown_grade(old, new):
    with pytest.raises(GradeError, match="Unknown"):
        check_grade_change(old, new, "why")


@pytest.mark.parametrize("new, outcome", [("O", "won"), ("F", "lost")])
def test_outcomes_come_from_winning_or_losing(new, outcome):
    with pytest.raises(GradeError, match=f"cannot be set by a grade change.*{outcome}"):
        check_grade_change("A", new, "closed")


def test_same_grade_is_an_error():
    with pytest.raises(GradeError, match="already graded B"):
        check_grade_change("B", "B", "still B")


@pytest.mark.parametrize("reason", ["", "   ", None, 42])
def test_a_reason_is_required(reason):
    with pytest.raises(GradeError, match="reason is required"):
        check_grade_change("N", "H", reason)


def test_reason_length_limit():
    assert check_grade_change("N", "H", "因" * 500) is None
    with pytest.raises(GradeError, match="at most 500"):
        check_grade_change("N", "H", "因" * 501)


def test_grade_error_is_a_value_error():
    assert issubclass(GradeError, ValueError)


def test_leaving_an_outcome_is_left_to_the_stage_logic():
    assert check_grade_change("F", "C", "战败激活: customer called back") is None
