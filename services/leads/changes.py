"""What staff do to a lead: grade it, move it through the stages, win or
lose it (and approve or refuse a loss), reopen it, discuss it. Each change
is checked (``stages.py``, ``grading.py``), written with a ``LeadEvent``
(who, when, why) and announced as ``lead_changed`` in the same transaction,
naming who must be told."""
import uuid

from sqlalchemy import select

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.contracts import LEAD_CHANGED, OPEN_STATUSES
from dealerflow.db import utcnow
from dealerflow.outbox import insert_or_ignore, record
from services.leads import grading, stages
from services.leads.exceptions import InvalidChange, LeadNotFound, NotAllowed
from services.leads.models import Lead, LeadComment, LeadEvent, LeadWatcher, OutboxMessage, RosterMember
from services.leads.policies import policy_of
from services.leads.scoping import visible_leads

MAX_COMMENT = 4000
MAX_MENTIONS = 20


def is_manager(actor: Actor) -> bool:
    return actor.is_user and actor.role != CONSULTANT


def lead_to_change(session, actor: Actor, lead_id: str, manage: bool = False) -> Lead:
    """The lead, locked for the change, if the actor may see it (404 as if
    it did not exist otherwise); ``manage``: managers only (403)."""
    if not actor.is_user:
        raise NotAllowed("Only staff change leads.")
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, visible_leads(actor))
                          .with_for_update())
    if lead is None:
        raise LeadNotFound(lead_id)
    if manage and not is_manager(actor):
        raise NotAllowed("Only a manager of the lead's store may do this.")
    return lead


def managers_of(session, store_code: str) -> list[str]:
    """The store's active managers, as the roster copy knows them."""
    return list(session.scalars(select(RosterMember.user_id).where(
        RosterMember.store_code == store_code, RosterMember.role == "manager",
        RosterMember.active.is_(True)).order_by(RosterMember.user_id)))


def announce(session, lead: Lead, change: str, actor_id: str | None = None, reason: str | None = None,
             details: dict | None = None, tell=(), at=None) -> None:
    """Keep the change in the lead's history and announce it."""
    at = at or utcnow()
    lead.updated_at = at
    if actor_id:  # someone acted on it: not stalled (docs/analytics.md)
        lead.last_activity_at = at
    details = details or {}
    session.add(LeadEvent(lead_id=lead.id, change=change, actor_id=actor_id, at=at, reason=reason,
                          details=details))
    record(session, OutboxMessage, LEAD_CHANGED, lead_id=lead.id, store_code=lead.store_code, change=change,
           actor_id=actor_id, reason=reason, status=lead.status, stage=lead.stage, grade=lead.grade,
           consultant_id=lead.consultant_id, customer_name=lead.customer_name, details=details,
           tell=sorted({user for user in tell if user and user != actor_id}))


def first_contact(session, lead: Lead, actor_id: str | None, how: str, at=None) -> bool:
    """Stop the response clock: the lead's first contact (a follow-up
    record, or a stage change). False if it was contacted already."""
    if lead.first_contact_at is not None or lead.status in ("accepted", "pooled", "joined"):
        return False
    lead.first_contact_at = at = at or utcnow()
    lead.response_seconds = max(0, round((at - lead.created_at).total_seconds()))
    if lead.assigned_at:
        lead.owner_response_seconds = max(0, round((at - lead.assigned_at).total_seconds()))
    if lead.status != "assigned":
        # it moved on before the record's news came (a loss asked right after the call):
        # the contact counts (the funnel's "contacted"), the status stays
        return False
    lead.status = "contacted"
    announce(session, lead, "first_contact", actor_id, details={
        "how": how, "minutes": round((lead.first_contact_at - lead.assigned_at).total_seconds() / 60, 1)
        if lead.assigned_at else None}, at=lead.first_contact_at)
    return True


def mark(lead: Lead, at, moments: list[str]) -> None:
    """Keep when the lead first got to each of ``moments`` (its columns:
    stages reached, milestones; docs/analytics.md)."""
    for moment in moments:
        if getattr(lead, moment) is None:
            setattr(lead, moment, at)


def invalid(exc: Exception) -> InvalidChange:
    return InvalidChange(str(exc), {getattr(exc, "field", "input"): [str(exc)]})


def change_grade(session, actor: Actor, lead_id: str, grade: str, reason: str | None) -> Lead:
    lead = lead_to_change(session, actor, lead_id)
    try:
        if lead.status not in OPEN_STATUSES:
            raise stages.StageError(f"A lead that is {lead.status} keeps its grade.", "status")
        grading.check_grade_change(lead.grade, grade, reason)
    except ValueError as exc:
        raise invalid(exc)
    before, lead.grade = lead.grade, grade
    announce(session, lead, "graded", actor.user_id, reason.strip(), {"from": before, "to": grade},
             tell=[lead.consultant_id])
    session.commit()
    return lead


def change_stage(session, actor: Actor, lead_id: str, stage: str, reason: str | None) -> Lead:
    lead = lead_to_change(session, actor, lead_id)
    try:
        reason = stages.change_stage(lead.status, lead.stage, stage, reason)
    except stages.StageError as exc:
        raise invalid(exc)
    first_contact(session, lead, actor.user_id, "stage_change")
    before, lead.stage = lead.stage, stage
    mark(lead, utcnow(), stages.passed(stage))
    announce(session, lead, "stage_changed", actor.user_id, reason, {"from": before, "to": stage},
             tell=[lead.consultant_id])
    session.commit()
    return lead


def win(session, actor: Actor, lead_id: str, won: dict) -> Lead:
    lead = lead_to_change(session, actor, lead_id)
    try:
        stages.win(lead.status, won.get("deal_value"), won.get("currency"))
    except stages.StageError as exc:
        raise invalid(exc)
    first_contact(session, lead, actor.user_id, "stage_change")
    before = {"stage": lead.stage, "grade": lead.grade}
    lead.status, lead.stage, lead.grade, lead.closed_at = "won", "after_sales", "O", utcnow()
    mark(lead, lead.closed_at, stages.passed("after_sales"))
    lead.deal_value, lead.deal_currency = won.get("deal_value"), won.get("currency")
    lead.vehicle = won.get("vehicle") or None
    announce(session, lead, "won", actor.user_id, won.get("note"), dict(
        before, deal_value=lead.deal_value, currency=lead.deal_currency, vehicle=lead.vehicle),
        tell=[lead.consultant_id, *managers_of(session, lead.store_code)])
    session.commit()
    return lead


def lose(session, actor: Actor, lead_id: str, lost_reason: str, note: str | None) -> Lead:
    """Lose the lead, or ask the store's managers to approve its loss."""
    lead = lead_to_change(session, actor, lead_id)
    needs_approval = policy_of(session, lead.store_code).loss_needs_approval and not is_manager(actor)
    try:
        status = stages.lose(lead.status, lost_reason, note, needs_approval)
    except stages.StageError as exc:
        raise invalid(exc)
    before = {"status": lead.status, "grade": lead.grade}
    lead.status, lead.lost_reason, lead.lost_note = status, lost_reason, (note or "").strip() or None
    if status == "lost":
        lead.grade, lead.closed_at = "F", utcnow()
    announce(session, lead, "lost" if status == "lost" else "loss_requested", actor.user_id, lead.lost_note,
             dict(before, lost_reason=lost_reason), tell=managers_of(session, lead.store_code))
    session.commit()
    return lead


def decide_loss(session, actor: Actor, lead_id: str, approve: bool, reason: str | None) -> Lead:
    """A manager approves a loss (it counts as lost from now) or refuses it
    (the lead goes back to where it was, and its owner is told why)."""
    lead = lead_to_change(session, actor, lead_id, manage=True)
    try:
        reason = stages.decide_loss(lead.status, approve, reason)
    except stages.StageError as exc:
        raise invalid(exc)
    details = {"approved": approve, "grade": lead.grade, "lost_reason": lead.lost_reason}
    if approve:
        lead.status, lead.grade, lead.closed_at = "lost", "F", utcnow()
    else:
        lead.status = "contacted" if lead.first_contact_at else "assigned"
        lead.lost_reason = lead.lost_note = None
    announce(session, lead, "lost" if approve else "loss_refused", actor.user_id, reason, details,
             tell=[lead.consultant_id])
    session.commit()
    return lead


def reopen(session, actor: Actor, lead_id: str, reason: str | None) -> Lead:
    """A lost lead comes back to its owner, at its stage, with the grade it had."""
    lead = lead_to_change(session, actor, lead_id)
    try:
        reason = stages.reopen(lead.status, reason)
    except stages.StageError as exc:
        raise invalid(exc)
    loss = session.scalar(select(LeadEvent).where(
        LeadEvent.lead_id == lead.id, LeadEvent.change.in_(("lost", "loss_requested")))
        .order_by(LeadEvent.at.desc(), LeadEvent.id.desc()).limit(1))
    lead.grade = (loss.details.get("grade") if loss else None) or "N"
    lead.status = "contacted" if lead.first_contact_at else "assigned"
    lead.lost_reason = lead.lost_note = lead.closed_at = None
    announce(session, lead, "reopened", actor.user_id, reason, tell=[lead.consultant_id])
    session.commit()
    return lead


def comment(session, actor: Actor, lead_id: str, body: str, mentions: list[str]) -> LeadComment:
    """Add to the lead's discussion; the people mentioned (staff of the
    lead's store) are told, and may see the lead from now on."""
    lead = lead_to_change(session, actor, lead_id)
    body = (body or "").strip()
    if not body or len(body) > MAX_COMMENT:
        raise InvalidChange(f"A comment has 1 to {MAX_COMMENT} characters.",
                            {"body": [f"1 to {MAX_COMMENT} characters"]})
    mentions = sorted(set(mentions or ()))
    staff = set(session.scalars(select(RosterMember.user_id).where(
        RosterMember.store_code == lead.store_code, RosterMember.active.is_(True),
        RosterMember.user_id.in_(mentions)))) if mentions else set()
    strangers = [user for user in mentions if user not in staff]
    if len(mentions) > MAX_MENTIONS or strangers:
        raise InvalidChange("Mention at most 20 active colleagues of the lead's store.",
                            {"mentions": [f"not staff of {lead.store_code}: {', '.join(strangers)}"
                                          if strangers else f"at most {MAX_MENTIONS}"]})
    note = LeadComment(id=str(uuid.uuid4()), lead_id=lead.id, author_id=actor.user_id, body=body,
                       mentions=mentions, created_at=utcnow())
    session.add(note)
    for user in mentions:
        insert_or_ignore(session, LeadWatcher, lead_id=lead.id, user_id=user)
    announce(session, lead, "comment", actor.user_id, None,
             {"comment_id": note.id, "excerpt": body[:140], "mentions": mentions},
             tell=[*mentions, lead.consultant_id])
    session.commit()
    return note


def history(session, lead_id: str) -> list[LeadEvent]:
    return list(session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id)
                                .order_by(LeadEvent.at, LeadEvent.id)))
