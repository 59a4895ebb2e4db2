"""Each store's lead policy and the routing rules, as managers set them.

- A store's policy is its own row, else the group's (``store_code`` "*"),
  else ``DEFAULTS``. A store's manager edits the store's; a group admin
  edits any, the group's included.
- Routing rules of a store are its managers'; group rules (``store_code``
  null) are the group admins'. ``routing.validate_rule`` checks each.
- The service compiles the rules once and keeps them until they change:
  it asks for their fingerprint (how many, last change) at most every
  two seconds, so a change made through another replica applies within
  two seconds, one made through this one at once.
"""
import time
import uuid
from types import SimpleNamespace

from marshmallow import ValidationError
from sqlalchemy import bindparam, delete, func, select

from dealerflow.actor import GROUP_ADMIN, Actor
from dealerflow.db import database_of, execute, utcnow
from dealerflow.lead_contracts import PolicyIn, RuleIn
from services.leads import routing
from services.leads.exceptions import InvalidChange, LeadNotFound, NotAllowed
from services.leads.models import LeadPolicy, RoutingRule

GROUP = "*"
DEFAULTS = {"response_minutes": {}, "max_reroutes": 2, "loss_needs_approval": True,
            "duplicate_window_days": 30, "daily_claim_limit": 10}


# the store's own policy and the group's
POLICIES = select(LeadPolicy.__table__).where(LeadPolicy.store_code.in_((bindparam("store_code"), GROUP)))


def policy_of(session, store_code: str):
    """The policy that applies to the store, read once per session (a lead's
    intake asks twice: duplicates and the deadline)."""
    known = session.info.setdefault("policies", {})
    if store_code not in known:
        rows = {row.store_code: row for row in execute(session, POLICIES, {"store_code": store_code})}
        row = rows.get(store_code) or rows.get(GROUP)
        values = {name: getattr(row, name) for name in DEFAULTS} if row else dict(DEFAULTS)
        known[store_code] = SimpleNamespace(
            store_code=store_code, inherited=store_code not in rows,
            revision=row.revision if row is not None and store_code in rows else 0, **values)
    return known[store_code]


def may_edit(actor: Actor, store_code: str | None) -> None:
    if not actor.is_user or actor.role not in ("manager", GROUP_ADMIN):
        raise NotAllowed("Only managers set how leads are routed and answered.")
    if store_code in (None, GROUP) and actor.role != GROUP_ADMIN:
        raise NotAllowed("Only a group admin sets the group's rules and policy.")
    if store_code not in (None, GROUP) and store_code not in actor.stores:
        raise LeadNotFound(store_code)  # another store's, as if it did not exist


def get_policy(session, actor: Actor, store_code: str):
    if store_code != GROUP and store_code not in actor.stores:
        raise LeadNotFound(store_code)
    return policy_of(session, store_code)


def save_policy(session, actor: Actor, store_code: str, data: dict):
    """Change the store's (or the group's) policy; the fields not given keep
    the values that apply now."""
    may_edit(actor, store_code)
    try:
        changes = PolicyIn().load(data, partial=True)
    except ValidationError as exc:
        raise InvalidChange("The policy is not valid; see errors.", exc.messages)
    current = policy_of(session, store_code)
    row = session.get(LeadPolicy, store_code, with_for_update=True)
    if row is None:
        row = LeadPolicy(store_code=store_code, revision=0,
                         **{name: getattr(current, name) for name in DEFAULTS})
        session.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    row.revision += 1
    row.updated_at = utcnow()
    session.commit()
    session.info.pop("policies", None)  # the store's, and every store that inherits the group's
    return policy_of(session, store_code)


def visible_rules(actor: Actor):
    return (RoutingRule.store_code.is_(None)) | RoutingRule.store_code.in_(actor.stores)


def list_rules(session, actor: Actor, store_code: str | None = None) -> list[RoutingRule]:
    """The rules that apply to the actor's stores (one store's and the group's, if given),
    in the order they are tried."""
    query = select(RoutingRule).where(visible_rules(actor))
    if store_code:
        query = query.where(RoutingRule.store_code.is_(None) | (RoutingRule.store_code == store_code))
    return list(session.scalars(query.order_by(RoutingRule.store_code.is_(None), RoutingRule.store_code,
                                               RoutingRule.priority, RoutingRule.name)))


def save_rule(session, actor: Actor, rule_id: str | None, data: dict) -> RoutingRule:
    """Create a rule (``rule_id`` None) or replace one."""
    try:
        loaded = RuleIn().load(data)
        clean = routing.validate_rule(dict(loaded, id=rule_id or "new"))
    except ValidationError as exc:
        raise InvalidChange("The rule is not valid; see errors.", exc.messages)
    except routing.RuleError as exc:
        raise InvalidChange(str(exc), {exc.field: [str(exc)]})
    may_edit(actor, clean.get("store_code"))
    row = None
    if rule_id is not None:
        row = session.scalar(select(RoutingRule).where(RoutingRule.id == rule_id, visible_rules(actor))
                             .with_for_update())
        if row is None:
            raise LeadNotFound(rule_id)
        may_edit(actor, row.store_code)
    if row is None:
        row = RoutingRule(id=str(uuid.uuid4()), revision=0)
        session.add(row)
    for name in ("store_code", "priority", "name", "active", "conditions", "target", "strategy"):
        setattr(row, name, clean.get(name))
    row.revision += 1
    row.updated_at = utcnow()
    session.commit()
    forget_rules(session)
    return row


def delete_rule(session, actor: Actor, rule_id: str) -> None:
    row = session.scalar(select(RoutingRule).where(RoutingRule.id == rule_id, visible_rules(actor)))
    if row is None:
        raise LeadNotFound(rule_id)
    may_edit(actor, row.store_code)
    session.execute(delete(RoutingRule).where(RoutingRule.id == rule_id))
    session.commit()
    forget_rules(session)


RULES_CHECK_S = 2.0   # how soon another replica's rule change applies here
_compiled: dict = {}  # database URL -> (checked at, fingerprint, compiled rules)


def compiled_rules(session):
    """Every active rule, compiled; recompiled only when a rule changed, which
    is checked at most every ``RULES_CHECK_S`` (a change made in this
    process applies at once)."""
    database, clock = database_of(session), time.monotonic()
    known = _compiled.get(database)
    if known is not None and clock - known[0] < RULES_CHECK_S:
        return known[2]
    fingerprint = tuple(session.execute(select(func.count(), func.max(RoutingRule.updated_at),
                                               func.sum(RoutingRule.revision))).one())
    if known is None or known[1] != fingerprint:
        rows = session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)))
        rules = routing.compile_rules([{
            "id": row.id, "store_code": row.store_code, "priority": row.priority, "name": row.name,
            "active": row.active, "conditions": row.conditions, "target": row.target,
            "strategy": row.strategy} for row in rows])
    else:
        rules = known[2]
    _compiled[database] = (clock, fingerprint, rules)
    return rules


def forget_rules(session) -> None:
    _compiled.pop(database_of(session), None)
