"""The funnel's stage machine: which changes a lead may go through, and what
each one sets. Pure: ``changes.py`` applies its answers to the database.

Stages (DESIGN.md): initial contact (初步接触), needs confirmed (需求确认),
proposal (方案提供), negotiation (议价成交); won leads move to after-sales
care (售后关怀). Won and lost are outcomes, kept in ``status``.

- A lead moves forward to any later stage (a walk-in may negotiate at
  once) and back by one stage at most; going back needs a reason, since
  it is news for the manager.
- Only an owned lead (assigned or contacted) changes stage, is won or is
  lost; a pooled or waiting lead is claimed or assigned first.
- Losing needs a reason from ``LOSS_REASONS``; where the store's policy
  says so, it waits for a manager's approval (``loss_pending``) and counts
  as lost only once approved. A refused loss goes back to where it was.
- A lost lead can be reopened (to ``contacted``, its stage as it was, its
  grade as before the loss); a won lead cannot: its after-sales care is
  the followups service's.
"""
from dealerflow.contracts import STAGES
from dealerflow.lead_contracts import LOSS_REASONS, MAX_REASON

OPEN_STAGES = STAGES[:-1]        # after_sales only follows a win
OWNED = ("assigned", "contacted")
# the lead's column that keeps when it first reached a stage (the first stage: ``created_at``)
REACHED_AT = {stage: f"{stage}_at" for stage in OPEN_STAGES[1:]}


def passed(to: str) -> list[str]:
    """The moments a lead reaching ``to`` has passed: every stage up to it
    (a skipped stage is reached together with the one it led to)."""
    return [REACHED_AT[stage] for stage in STAGES[1:STAGES.index(to) + 1] if stage in REACHED_AT]


def milestones(channel: str | None, outcome: str | None) -> list[str]:
    """The funnel's milestones a follow-up record (or a test drive: channel
    ``test_drive``, outcome ``booked`` or ``shown``) tells of, as the lead's
    columns (docs/analytics.md): an appointment made, a visit to the store,
    a test drive."""
    moments = []
    if outcome in ("appointment", "booked"):
        moments.append("appointment_at")
    if channel == "visit" or outcome in ("visited", "test_drive", "shown"):
        moments.append("visited_at")
    if outcome == "test_drive" or (channel, outcome) == ("test_drive", "shown"):
        moments.append("test_drive_at")
    return moments


class StageError(ValueError):
    """A change the lead cannot go through now; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = "stage"):
        super().__init__(message)
        self.field = field


def check_owned(status: str, action: str) -> None:
    if status not in OWNED:
        raise StageError(f"A lead that is {status} cannot be {action}: it needs an owner who has it "
                         "open (assign or claim it first).", "status")


def check_reason(reason: str | None, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and reason is None:
        raise StageError("Say why (a reason is required for this change).", "reason")
    if reason is not None and len(reason) > MAX_REASON:
        raise StageError(f"The reason is longer than {MAX_REASON} characters.", "reason")
    return reason


def change_stage(status: str, stage: str, to: str, reason: str | None) -> str | None:
    """Check moving a lead from ``stage`` to ``to``; the reason as kept."""
    check_owned(status, "moved to another stage")
    if to not in OPEN_STAGES:
        raise StageError(f"{to!r} is not a stage a lead can be moved to; one of "
                         f"{', '.join(OPEN_STAGES)} (after_sales follows a win).")
    if to == stage:
        raise StageError(f"The lead is at {stage} already.")
    step = OPEN_STAGES.index(to) - OPEN_STAGES.index(stage)
    if step < -1:
        raise StageError(f"A lead goes back one stage at a time: from {stage} to "
                         f"{OPEN_STAGES[OPEN_STAGES.index(stage) - 1]}, not to {to}.")
    return check_reason(reason, required=step < 0)


def win(status: str, deal_value: int | None, currency: str | None) -> None:
    check_owned(status, "won")
    if deal_value is not None and (not isinstance(deal_value, int) or isinstance(deal_value, bool)
                                   or not 0 < deal_value < 10**12):
        raise StageError("deal_value is the price in minor units (fen, cents): a positive integer.",
                         "deal_value")
    if deal_value is not None and not (isinstance(currency, str) and len(currency) == 3
                                       and currency.isalpha() and currency.isupper()):
        raise StageError("currency is an ISO 4217 code such as CNY.", "currency")


def lose(status: str, reason_code: str, note: str | None, needs_approval: bool) -> str:
    """Check losing the lead; the status it goes to."""
    check_owned(status, "lost")
    if reason_code not in LOSS_REASONS:
        raise StageError(f"lost_reason is one of {', '.join(LOSS_REASONS)}.", "lost_reason")
    check_reason(note, required=reason_code == "other")
    return "loss_pending" if needs_approval else "lost"


def decide_loss(status: str, approve: bool, reason: str | None) -> str | None:
    if status != "loss_pending":
        raise StageError(f"The lead is {status}: there is no loss waiting for approval.", "status")
    return check_reason(reason, required=not approve)


def reopen(status: str, reason: str | None) -> str | None:
    if status != "lost":
        raise StageError(f"Only a lost lead is reopened; this one is {status}.", "status")
    return check_reason(reason, required=True)
