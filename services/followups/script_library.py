"""A store's script library: the group's templates (``scripts.yaml``, or the
group's file named by ``DEALERFLOW_SCRIPTS``) with the store's own over them,
and how each one does.

A store's manager may replace a group template with the store's wording
(same id), add a script only the store has (a new id), or hide a group
template the store does not use; reverting deletes the store's version and
the group's applies again. Every template is checked as the group's are
(``scripts.validate_template``).

How a script does, per store, from the follow-up records that used it
(``script_id``): how often it was used, and how often the lead moved on
afterwards: its stage now is further than when the record was made
(``stage_at``), or it was won. Records from before ``stage_at`` was kept
count as used, not as moved on.
"""
from sqlalchemy import func, select

from dealerflow.actor import Actor
from dealerflow.contracts import STAGES
from dealerflow.db import utcnow
from services.followups import scripts
from services.followups.exceptions import InvalidFollowup, TaskNotFound
from services.followups.models import FollowupRecord, LeadState, ScriptOverride
from services.followups.tasks import GROUP, may_set


def library_for(session, store_code: str) -> list[dict]:
    """The templates the store's consultants see: the group's with the store's over them."""
    overrides = session.scalars(select(ScriptOverride).where(ScriptOverride.store_code == store_code)
                                .order_by(ScriptOverride.updated_at)).all()
    hidden = {row.script_id for row in overrides if row.hidden}
    merged = scripts.merge(scripts.library(), [row.template for row in overrides if row.template])
    return [template for template in merged if template["id"] not in hidden]


def usage(session, store_code: str) -> dict[str, dict]:
    """``{script_id: {"used": n, "moved_forward": m}}`` for the store's records."""
    rank = {stage: n for n, stage in enumerate(STAGES)}
    rows = session.execute(
        select(FollowupRecord.script_id, FollowupRecord.stage_at, LeadState.stage, LeadState.status,
               func.count())
        .outerjoin(LeadState, LeadState.lead_id == FollowupRecord.lead_id)
        .where(FollowupRecord.store_code == store_code, FollowupRecord.script_id.is_not(None))
        .group_by(FollowupRecord.script_id, FollowupRecord.stage_at, LeadState.stage, LeadState.status))
    figures: dict[str, dict] = {}
    for script_id, stage_then, stage_now, status, count in rows:
        entry = figures.setdefault(script_id, {"used": 0, "moved_forward": 0})
        entry["used"] += count
        if status == "won" or (stage_then in rank and rank.get(stage_now, -1) > rank[stage_then]):
            entry["moved_forward"] += count
    return figures


def view(session, actor: Actor, store_code: str) -> list[dict]:
    """Every template of the store's library, the ones it hides too, each
    with where it comes from and how it does."""
    if store_code not in actor.stores:
        raise TaskNotFound(f"No store {store_code} of yours.")
    overrides = {row.script_id: row for row in session.scalars(
        select(ScriptOverride).where(ScriptOverride.store_code == store_code))}
    group = {template["id"] for template in scripts.library()}
    figures = usage(session, store_code)
    shown = scripts.merge(scripts.library(), [row.template for row in overrides.values() if row.template])
    entries = []
    for template in shown:
        own = overrides.get(template["id"])
        used = figures.get(template["id"], {"used": 0, "moved_forward": 0})
        entries.append(dict(template, origin=("group" if template["id"] in group else "store"),
                            changed_by_store=bool(own and own.template), hidden=bool(own and own.hidden),
                            used=used["used"], moved_forward=used["moved_forward"],
                            forward_rate=round(used["moved_forward"] / used["used"], 3) if used["used"] else None))
    return entries


def save(session, actor: Actor, store_code: str, script_id: str, data: dict) -> list[dict]:
    """The store's own version of ``script_id`` (``data``: the template
    without its id, and ``hidden``); the store's library as ``view`` shows it."""
    if store_code == GROUP:
        raise InvalidFollowup("The group's library is its file (DEALERFLOW_SCRIPTS); stores change their own.",
                              {"store_code": ["a store's code"]})
    may_set(actor, store_code, "a store's scripts")
    hidden = bool(data.get("hidden"))  # hiding keeps no text of the store's
    template = {} if hidden else {key: value for key, value in data.items()
                                  if key != "hidden" and value is not None}
    if template:
        try:
            template = scripts.validate_template(dict(template, id=script_id))
        except scripts.ScriptError as exc:
            raise InvalidFollowup(exc.message, {exc.field or "template": [exc.message]})
    elif not hidden or scripts.find(scripts.library(), script_id) is None:
        raise InvalidFollowup("Give the script's texts and stages, or hide a group script.",
                              {"texts": ["required unless hidden"]})
    row = session.get(ScriptOverride, (store_code, script_id), with_for_update=True) or ScriptOverride(
        store_code=store_code, script_id=script_id)
    row.template, row.hidden = template or None, hidden
    row.updated_by, row.updated_at = actor.user_id, utcnow()
    session.add(row)
    session.commit()
    return view(session, actor, store_code)


def revert(session, actor: Actor, store_code: str, script_id: str) -> list[dict]:
    """The group's version applies again (a store-only script is gone)."""
    may_set(actor, store_code, "a store's scripts")
    row = session.get(ScriptOverride, (store_code, script_id), with_for_update=True)
    if row is None:
        raise TaskNotFound(f"Store {store_code} has no version of script {script_id}.")
    session.delete(row)
    session.commit()
    return view(session, actor, store_code)
