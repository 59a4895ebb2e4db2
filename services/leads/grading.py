"""A lead's grade on the usual Chinese dealer scale, and who may change it how.

DESIGN: ``H`` buys within 7 days, ``A`` within 15, ``B`` within 30, ``C``
within 3 months, ``N`` new and not yet graded; ``O`` (won, 成交) and ``F``
(lost, 战败) are outcomes.

The grade at intake (``initial_grade``), decided from the facts of
``services.leads.scoring.facts``:

1. A timeframe decides whenever the lead gives one: up to 7 days ``H``, 15
   ``A``, 30 ``B``, 90 ``C``. Beyond three months there is no grade for it on
   the scale, so the lead stays ``N`` (reason ``timeframe_over_3_months``) for
   the consultant to grade after the first call; it is not pushed into ``C``'s
   two-weekly cadence on a guess. No signal overrides a stated timeframe.
2. Without a timeframe, strong signals may grade the lead, conservatively and
   never ``H`` (only a customer who says they buy within a week is ``H``):
   - ``A``: asks for a test drive (the flag or 试驾 in the comments) *and*
     urgent words in the comments (今天, 明天, 这周, 马上, 急, asap ...): someone
     who wants to drive the car today or this week;
   - ``B``: a walk-in who asks for a test drive, or a walk-in with urgent
     words (in the showroom, but not yet saying when);
   - one signal alone (a test drive some day, an urgent word, a walk-in) is not
     enough: ``N``.
3. Otherwise ``N`` (reason ``no_timeframe``).

Never ``O`` or ``F`` at intake: those come from winning or losing the lead.

Reasons are short machine codes: ``timeframe_7_days``, ``timeframe_15_days``,
``timeframe_30_days``, ``timeframe_3_months``, ``timeframe_over_3_months``,
``no_timeframe``, ``asks_test_drive``, ``urgent_words``, ``walk_in``.

A manual grade change (``check_grade_change``) needs a known old and new grade,
a new grade that differs, a new grade that is not ``O`` or ``F`` (those are set
by winning or losing the lead, with its stage and loss reason), and a reason of
1..500 characters (not only blanks). Leaving ``O`` or ``F`` (reactivating a lost
lead, 战败激活) is the stage logic's decision and is not refused here.
"""
from __future__ import annotations

from typing import Any

from services.leads.scoring import asks_test_drive, timeframe_band

GRADES = ("H", "A", "B", "C", "N", "O", "F")
OPEN_GRADES = ("H", "A", "B", "C", "N")
OUTCOME_GRADES = ("O", "F")
MAX_REASON_LENGTH = 500

_BY_BAND = {"7_days": "H", "15_days": "A", "30_days": "B", "3_months": "C", "over_3_months": "N"}


class GradeError(ValueError):
    """A grade change that is not allowed; the message says why."""


def initial_grade(facts: dict) -> tuple[str, list[str]]:
    """The grade of a new lead and the reasons for it (see the module docstring)."""
    band = timeframe_band(facts.get("timeframe_days"))
    if band is not None:
        return _BY_BAND[band], [f"timeframe_{band}"]
    signals = facts.get("signals")
    urgent = isinstance(signals, (list, tuple, set, frozenset)) and "urgent" in signals
    test_drive = asks_test_drive(facts)
    walk_in = facts.get("channel") == "walk_in"
    reasons = ["no_timeframe"]
    if test_drive:
        reasons.append("asks_test_drive")
    if urgent:
        reasons.append("urgent_words")
    if walk_in:
        reasons.append("walk_in")
    if test_drive and urgent:
        return "A", reasons
    if walk_in and (test_drive or urgent):
        return "B", reasons
    return "N", reasons


def _known(grade: Any, which: str) -> None:
    if not isinstance(grade, str) or grade not in GRADES:
        raise GradeError(f"Unknown {which} grade {grade!r}: a grade is one of {', '.join(GRADES)}.")


def check_grade_change(old: str, new: str, reason: str) -> None:
    """Raise ``GradeError`` unless a consultant or manager may change ``old`` to ``new`` for ``reason``."""
    _known(old, "current")
    _known(new, "new")
    if new in OUTCOME_GRADES:
        outcome = "won" if new == "O" else "lost"
        raise GradeError(f"Grade {new} cannot be set by a grade change: it follows from marking "
                         f"the lead {outcome}.")
    if new == old:
        raise GradeError(f"The lead is already graded {old}.")
    if not isinstance(reason, str) or not reason.strip():
        raise GradeError("A reason is required to change a grade.")
    if len(reason) > MAX_REASON_LENGTH:
        raise GradeError(f"The reason is {len(reason)} characters long; at most {MAX_REASON_LENGTH} are allowed.")
