"""services.leads.stages: the funnel's moves, searched over every state."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.contracts import LEAD_STATUSES, STAGES
from services.leads import stages
from services.leads.stages import OPEN_STAGES, StageError

reasons = st.none() | st.text(max_size=600)


@given(status=st.sampled_from(LEAD_STATUSES), stage=st.sampled_from(OPEN_STAGES),
       to=st.sampled_from(STAGES) | st.text(max_size=20), reason=reasons)
def test_a_stage_change_is_allowed_exactly_when_the_rules_say(status, stage, to, reason):
    kept = (reason or "").strip()
    allowed = (status in ("assigned", "contacted") and to in OPEN_STAGES and to != stage
               and OPEN_STAGES.index(to) >= OPEN_STAGES.index(stage) - 1
               and (OPEN_STAGES.index(to) > OPEN_STAGES.index(stage) or kept)
               and len(kept) <= stages.MAX_REASON)
    if allowed:
        assert stages.change_stage(status, stage, to, reason) == (kept or None)
    else:
        with pytest.raises(StageError):
            stages.change_stage(status, stage, to, reason)


def test_forward_skips_are_fine_and_back_is_one_step_with_a_reason():
    assert stages.change_stage("assigned", "initial_contact", "negotiation", None) is None
    assert stages.change_stage("contacted", "proposal", "needs_confirmed", " 客户改主意 ") == "客户改主意"
    with pytest.raises(StageError, match="one stage at a time"):
        stages.change_stage("contacted", "negotiation", "needs_confirmed", "too far")
    with pytest.raises(StageError) as refused:
        stages.change_stage("contacted", "proposal", "needs_confirmed", "  ")
    assert refused.value.field == "reason"
    with pytest.raises(StageError, match="after_sales follows a win"):
        stages.change_stage("contacted", "proposal", "after_sales", None)


@given(status=st.sampled_from(LEAD_STATUSES), code=st.sampled_from(stages.LOSS_REASONS) | st.text(max_size=20),
       note=reasons, approval=st.booleans())
def test_a_loss_needs_an_owner_a_known_reason_and_a_note_for_other(status, code, note, approval):
    ok = (status in ("assigned", "contacted") and code in stages.LOSS_REASONS
          and (code != "other" or (note or "").strip()) and len((note or "").strip()) <= stages.MAX_REASON)
    if ok:
        assert stages.lose(status, code, note, approval) == ("loss_pending" if approval else "lost")
    else:
        with pytest.raises(StageError):
            stages.lose(status, code, note, approval)


@given(value=st.none() | st.integers() | st.booleans() | st.floats(allow_nan=True) | st.text(max_size=5),
       currency=st.none() | st.text(max_size=4))
def test_a_win_takes_a_positive_whole_price_and_an_iso_currency(value, currency):
    ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12
                           and isinstance(currency, str) and len(currency) == 3 and currency.isalpha()
                           and currency.isupper())
    if ok:
        stages.win("contacted", value, currency)
    else:
        with pytest.raises(StageError):
            stages.win("contacted", value, currency)


def test_only_a_pending_loss_is_decided_and_only_a_lost_lead_reopened():
    assert stages.decide_loss("loss_pending", True, None) is None
    with pytest.raises(StageError):
        stages.decide_loss("loss_pending", False, None)  # a refusal says why
    with pytest.raises(StageError):
        stages.decide_loss("contacted", True, None)
    assert stages.reopen("lost", "回访有意向") == "回访有意向"
    for status in ("won", "contacted", "loss_pending"):
        with pytest.raises(StageError):
            stages.reopen(status, "why")
