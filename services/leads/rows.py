"""A lead's hot path in Core: statements built once (module level, with
``bindparam``) and executed on the session's connection
(``dealerflow.db.execute``); rows come back, not ORM objects. The ORM
still holds the leads that staff change: a new lead is written by one
INSERT and then kept in the session as if it had been loaded."""
from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached

from services.leads.models import Lead

INSERT_LEAD = insert(Lead)
# what a column not given holds once inserted (as the ORM would set it)
LEAD_DEFAULTS = {column.key: column.default.arg if column.default is not None and column.default.is_scalar
                 else None for column in Lead.__table__.columns}


def insert_new_lead(session, lead: Lead) -> None:
    """Write a new (transient) lead in one Core INSERT of the columns it
    was given, as the ORM's flush would (for twice the CPU), and keep it
    in the session as a loaded lead: later changes to it are UPDATEs, and
    a query for it in this session returns this object."""
    state = inspect(lead)
    session.connection().execute(INSERT_LEAD, {name: state.dict[name] for name in LEAD_DEFAULTS
                                               if name in state.dict})
    # the columns not given, as inserted; then all of it is the lead's loaded state (no history)
    state.dict.update({name: LEAD_DEFAULTS[name] for name in LEAD_DEFAULTS.keys() - state.dict.keys()})
    make_transient_to_detached(lead)
    session.add(lead)
