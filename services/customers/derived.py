"""The derived profile: traits inferred from what the customer wrote and
did and what consultants noted (``traits.Lexicon``), each kept with its
evidence and a confidence that grows with every independent hit. A
consultant confirms a trait or removes it; a removed trait is not inferred
again for that customer.
"""
import functools
from datetime import datetime

from sqlalchemy import select

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from services.customers.exceptions import CustomerNotFound
from services.customers.inserts import insert_rows
from services.customers.models import Trait
from services.customers.traits import Lexicon, confidence

KEEP_EVIDENCE = 20  # the newest hits a trait keeps as evidence


@functools.cache
def lexicon() -> Lexicon:
    return Lexicon.load()


def learn(session, customer_id: str, hits, new: bool = False) -> list[str]:
    """Add the hits to the customer's traits; the traits that changed.
    The customer's traits that the hits name are read in one query, and
    the session is flushed once for it (not once per hit). A ``new``
    customer has none to read: its traits are inserted as rows."""
    if not hits:
        return []
    if new:
        insert_rows(session, Trait.__table__, new_traits(customer_id, hits))
        return list(dict.fromkeys(hit.trait for hit in hits))
    known = {trait.trait: trait for trait in session.scalars(select(Trait).where(
        Trait.customer_id == customer_id, Trait.trait.in_({hit.trait for hit in hits})))}
    changed = []
    for hit in hits:
        trait = known.get(hit.trait)
        if trait is None:
            trait = known[hit.trait] = Trait(customer_id=customer_id, trait=hit.trait, status="inferred",
                                             weights=[], evidence=[])
            session.add(trait)
        if trait.status == "removed":
            continue
        evidence = evidence_of(hit)
        if evidence in trait.evidence:
            continue  # the same text seen again (a redelivered event) is no new evidence
        trait.evidence = (trait.evidence + [evidence])[-KEEP_EVIDENCE:]
        trait.weights = (trait.weights + [hit.weight])[-KEEP_EVIDENCE:]
        trait.confidence = confidence(trait.weights)
        trait.updated_at = utcnow()
        changed.append(hit.trait)
    return changed


def evidence_of(hit) -> dict:
    return {"source": hit.evidence.source, "text": hit.evidence.text, "at": hit.evidence.at.isoformat(),
            "ref": hit.evidence.ref}


def new_traits(customer_id: str, hits) -> list[dict]:
    """The trait rows of a customer who has none yet (an import's, a lead's new customer's)."""
    traits = {}
    for hit in hits:
        trait = traits.setdefault(hit.trait, {"customer_id": customer_id, "trait": hit.trait, "status": "inferred",
                                              "weights": [], "evidence": [], "updated_at": utcnow(),
                                              "decided_by": None, "decided_at": None})
        trait["evidence"] = (trait["evidence"] + [evidence_of(hit)])[-KEEP_EVIDENCE:]
        trait["weights"] = (trait["weights"] + [hit.weight])[-KEEP_EVIDENCE:]
    return [dict(trait, confidence=confidence(trait["weights"])) for trait in traits.values()]


def learn_from_text(session, customer_id: str, text: str | None, *, source: str, at: datetime,
                    ref: str | None = None, new: bool = False) -> list[str]:
    if not text or not text.strip():
        return []
    return learn(session, customer_id, lexicon().infer(text, source=source, at=at, ref=ref), new)


def traits_of(session, customer_id: str, language: str = "en") -> list[dict]:
    """The customer's traits that stand (inferred or confirmed), surest first."""
    traits = session.scalars(select(Trait).where(Trait.customer_id == customer_id,
                                                 Trait.status != "removed")).all()
    return [{"trait": trait.trait, "label": lexicon().label(trait.trait, language), "status": trait.status,
             "confidence": trait.confidence, "evidence": trait.evidence, "decided_by": trait.decided_by}
            for trait in sorted(traits, key=lambda trait: (-trait.confidence, trait.trait))]


def decide(session, actor: Actor, customer_id: str, trait_key: str, status: str) -> None:
    """A consultant confirms a trait, or removes it."""
    trait = session.get(Trait, (customer_id, trait_key))
    if trait is None:
        raise CustomerNotFound(f"Customer {customer_id} has no trait {trait_key}.")
    trait.status, trait.decided_by, trait.decided_at = status, actor.user_id, utcnow()
    session.commit()
