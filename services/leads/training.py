"""The score's predictive part: a frequency model (``scoring.train``)
learned from this group's closed leads, won against lost, rebuilt once a
day by a timer and on demand by a manager. Until the group has
``scoring.MIN_HISTORY`` of each, scores come from the rules.

A lead is scored when it arrives, with the newest model then; a rebuilt
model scores the leads that come after it (the score a consultant saw
does not change under them)."""
import time
from datetime import timedelta

from sqlalchemy import select

from dealerflow.actor import Actor
from dealerflow.db import database_of, utcnow
from services.leads import scoring
from services.leads.changes import is_manager
from services.leads.exceptions import NotAllowed
from services.leads.models import Lead, ScoringModel

REBUILD_EVERY = timedelta(hours=24)
BATCH = 2000
MODEL_CHECK_S = 60.0  # how stale a replica's model may be after another rebuilt it
_models: dict = {}    # database URL -> (checked at, model or None)


def scoring_model(session) -> dict | None:
    """The newest scoring model, looked up at most once a minute (a lead's hot path)."""
    database, clock = database_of(session), time.monotonic()
    known = _models.get(database)
    if known is None or clock - known[0] > MODEL_CHECK_S:
        row = session.scalar(select(ScoringModel).order_by(ScoringModel.id.desc()).limit(1))
        known = _models[database] = (clock, row.model if row else None)
    return known[1]


def closed_leads(session):
    """``(facts, won)`` of every closed lead, a batch at a time."""
    query = (select(Lead.channel, Lead.source, Lead.customer, Lead.interest, Lead.comments, Lead.status)
             .where(Lead.status.in_(("won", "lost"))).execution_options(yield_per=BATCH))
    for channel, source, customer, interest, comments, status in session.execute(query):
        yield scoring.facts(channel, source, customer or {}, interest, comments), status == "won"


def train(session) -> ScoringModel:
    model = scoring.train(closed_leads(session))
    row = ScoringModel(trained_at=utcnow(), won=model["won"], lost=model["lost"], model=model)
    session.add(row)
    session.commit()
    _models.pop(database_of(session), None)  # this replica scores with it from now
    return row


def rebuild(session, actor: Actor) -> dict:
    """A manager asks for the model now; what it learned from."""
    if not is_manager(actor):
        raise NotAllowed("Only managers rebuild the scoring model.")
    row = train(session)
    return {"trained_at": row.trained_at.isoformat(), "won": row.won, "lost": row.lost,
            "used": scoring.model_usable(row.model), "min_history": scoring.MIN_HISTORY}


def rebuild_if_stale(session) -> bool:
    newest = session.scalar(select(ScoringModel.trained_at).order_by(ScoringModel.id.desc()).limit(1))
    if newest is not None and utcnow() - newest < REBUILD_EVERY:
        return False
    train(session)
    return True
