"""The derived profile: traits inferred from what the customer wrote and
did and what consultants noted (``traits.Lexicon``), each kept with its
evidence and a confidence that grows with every independent hit. A
consultant confirms a trait or removes it; a removed trait is not inferred
again for that customer.
"""
import functools
from datetime import datetime

from sqlalchemy import bindparam, select, update

from dealerflow.actor import Actor
from dealerflow.db import insert_rows, utcnow
from services.customers.exceptions import CustomerNotFound
from services.customers.models import Trait
from services.customers.traits import Lexicon, confidence

KEEP_EVIDENCE = 20  # the newest hits a trait keeps as evidence


@functools.cache
def lexicon() -> Lexicon:
    return Lexicon.load()


# a customer's traits that hits name, as learning from the hits needs them
TRAITS_NAMED = select(Trait.trait, Trait.status, Trait.weights, Trait.evidence).where(
    Trait.customer_id == bindparam("customer_id"), Trait.trait.in_(bindparam("traits", expanding=True)))
# a trait with new evidence: the columns set are the parameters' other keys (``add_hit``'s)
TRAIT_EVIDENCED = update(Trait).where(Trait.customer_id == bindparam("b_customer_id"),
                                      Trait.trait == bindparam("b_trait"))


def learn(session, customer_id: str, hits, new: bool = False) -> list[str]:
    """Add the hits to the customer's traits; the traits that changed.
    The customer's traits that the hits name are read in one prebuilt
    query (none for a ``new`` customer, which has none); the traits new to
    the customer are inserted, and those with new evidence updated, each
    lot in one statement on the session's connection."""
    if not hits:
        return []
    connection = session.connection()
    known = {} if new else {row.trait: row._asdict() for row in connection.execute(TRAITS_NAMED, {
        "customer_id": customer_id, "traits": list({hit.trait for hit in hits})})}
    fresh = new_traits(customer_id, [hit for hit in hits if hit.trait not in known])
    evidenced = {hit.trait: known[hit.trait] for hit in hits if hit.trait in known
                 and known[hit.trait]["status"] != "removed" and add_hit(known[hit.trait], hit)}
    insert_rows(session, Trait.__table__, fresh)
    if evidenced:
        connection.execute(TRAIT_EVIDENCED, [
            {"b_customer_id": customer_id, "b_trait": key, "evidence": trait["evidence"], "weights": trait["weights"],
             "confidence": trait["confidence"], "updated_at": trait["updated_at"]}
            for key, trait in evidenced.items()])
    return [trait["trait"] for trait in fresh] + list(evidenced)


def evidence_of(hit) -> dict:
    return {"source": hit.evidence.source, "text": hit.evidence.text, "at": hit.evidence.at.isoformat(),
            "ref": hit.evidence.ref}


def add_hit(trait: dict, hit) -> bool:
    """Add the hit to a trait's evidence, weights and confidence (a dict of
    its columns); False when the trait has its evidence already (the same
    text seen again, a redelivered event, is no new evidence)."""
    evidence = evidence_of(hit)
    if evidence in trait["evidence"]:
        return False
    trait["evidence"] = (trait["evidence"] + [evidence])[-KEEP_EVIDENCE:]
    trait["weights"] = (trait["weights"] + [hit.weight])[-KEEP_EVIDENCE:]
    trait["confidence"] = confidence(trait["weights"])
    trait["updated_at"] = utcnow()
    return True


def new_traits(customer_id: str, hits) -> list[dict]:
    """The rows of traits new to a customer (an import's, a lead's new customer's)."""
    traits = {}
    for hit in hits:
        add_hit(traits.setdefault(hit.trait, {
            "customer_id": customer_id, "trait": hit.trait, "status": "inferred", "confidence": 0.0, "weights": [],
            "evidence": [], "updated_at": None, "decided_by": None, "decided_at": None}), hit)
    return list(traits.values())


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
