"""What to say and what to do next on a lead: the script library rendered
for the lead (``scripts.py``), and the next-step hint (``hints.py``) from
what the followups service knows of the lead (its stage and grade, the
latest record's notes and outcome, unanswered attempts in a row).

Values the service does not hold (the consultant's and the store's names,
the customer's derived traits) come from the caller: the gateway reads
them from their owners.
Each store sees the group's library with its own versions over it
(``script_library.py``).
"""
from sqlalchemy import select

from dealerflow.actor import Actor
from services.followups import hints, scripts
from services.followups.models import FollowupRecord
from services.followups.records import lead_of
from services.followups.script_library import library_for

PLAIN = ("consultant_name", "store_name")  # what the caller may fill in
HINT_OUTCOMES = {"test_drive": "test_drive_done", "busy": "no_answer"}  # a record's outcome as hints read it


def values_of(lead, given: dict, language: str) -> dict:
    interest = lead.interest or {}
    values = {name: given.get(name) for name in PLAIN if given.get(name)}
    values.update(customer_name=lead.customer_name,
                  customer_title=scripts.customer_title(lead.customer_name, None, language),
                  brand=interest.get("brand"), model=interest.get("model"), trim=interest.get("trim"),
                  price=scripts.format_price(interest.get("budget_max"), interest.get("currency") or "CNY",
                                             language)
                  if isinstance(interest.get("budget_max"), int) else None)
    return {name: value for name, value in values.items() if value}


def in_language(texts, language: str) -> str | None:
    """A template's title in the language (the other when it lacks it)."""
    if not isinstance(texts, dict):
        return texts
    return texts.get(language) or next(iter(texts.values()), None)


def scripts_for(session, actor: Actor, lead_id: str, language: str, given: dict) -> list[dict]:
    """The templates that fit the lead's stage, rendered in ``language``
    (the other when a template lacks it), each with what is left to fill."""
    lead = lead_of(session, actor, lead_id)
    values = values_of(lead, given, language)
    rendered = []
    for template in library_for(session, lead.store_code):
        if not scripts.fits(template, lead.stage):
            continue
        text = in_language(template["texts"], language)
        filled, missing = scripts.render(text, values)
        rendered.append({"id": template["id"], "situation": template["situation"],
                         "title": in_language(template.get("title"), language), "text": filled,
                         "missing": missing,
                         "addresses": template.get("addresses", [])})
    return rendered


def hint_for(session, actor: Actor, lead_id: str, language: str, traits: list[str]) -> dict:
    """The next step for the lead, and why (``traits``: its customer's, as
    the customers service derived them)."""
    lead = lead_of(session, actor, lead_id)
    recent = session.scalars(select(FollowupRecord).where(FollowupRecord.lead_id == lead_id)
                             .order_by(FollowupRecord.created_at.desc()).limit(10)).all()
    outcomes = [HINT_OUTCOMES.get(note.outcome, note.outcome) for note in recent]
    unanswered = next((n for n, outcome in enumerate(outcomes) if outcome != "no_answer"), len(outcomes))
    return hints.next_step(lead.stage if lead.status != "won" else "after_sales", lead.grade, traits,
                           recent[0].notes if recent else None, outcomes[0] if outcomes else None,
                           no_answers=unanswered, language=language,
                           library=library_for(session, lead.store_code))
