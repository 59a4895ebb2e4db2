"""Duplicate intake: a customer who already has an open lead in the store
does not start a second one within the store's window (30 days by
default); the new lead is kept as an inquiry on the open one (status
``joined``, ``duplicate_of``) and the owner is told.

The same customer is the same phone (E.164 and extension), else the same
email: the rule the customers service matches by, on the leads' own
columns, so that the decision needs no other service. The platform's
``202`` never waits for it; ``GET /v1/leads/{id}`` then answers with the
open lead.
"""
import functools
from datetime import timedelta

from sqlalchemy import and_, bindparam, or_, select

from dealerflow.contracts import OPEN_STATUSES
from dealerflow.db import execute
from services.leads.changes import announce
from services.leads.models import Lead
from services.leads.policies import policy_of

CANDIDATES = 500  # a customer's leads looked at; a phone with more is a placeholder, not a person


def customer_of(lead: Lead) -> dict:
    """What tells the lead's customer apart, as the bind values of
    ``same_customer``: its phone (E.164, and extension: none is no
    extension), its email; only those it has."""
    known = {}
    if lead.customer_phone_e164:
        known["phone_e164"] = lead.customer_phone_e164
        if lead.customer_phone_extension is not None:
            known["phone_extension"] = lead.customer_phone_extension
    if lead.customer_email:
        known["email"] = lead.customer_email
    return known


@functools.cache
def same_customer(known: tuple):
    """The clause that finds the leads of a customer (any one of what is
    ``known`` of them: names of ``customer_of``), built once for each combination."""
    same = []
    if "phone_e164" in known:
        same.append(and_(Lead.customer_phone_e164 == bindparam("phone_e164"),
                         Lead.customer_phone_extension == bindparam("phone_extension")
                         if "phone_extension" in known else Lead.customer_phone_extension.is_(None)))
    if "email" in known:
        same.append(Lead.customer_email == bindparam("email"))
    return or_(*same)


@functools.cache
def customer_leads(known: tuple):
    """Who, when, where and how open the customer's leads are (the first ``CANDIDATES``)."""
    return select(Lead.id, Lead.created_at, Lead.store_code, Lead.status).where(
        same_customer(known)).limit(CANDIDATES)


def open_lead_of(session, lead: Lead, now) -> Lead | None:
    """The customer's open lead in the lead's store within the window, if any."""
    window = policy_of(session, lead.store_code).duplicate_window_days
    known = customer_of(lead)
    if not window or not known:
        return None
    # The customer's leads by the phone and email indexes alone, then the newest open one of this
    # store in the window, chosen here: with the store, status or time in the query, a planner
    # without statistics (SQLite) walks the store's leads by time instead, all of them when none matches.
    since = now - timedelta(days=window)
    candidates = [row for row in execute(session, customer_leads(tuple(known)), known)
                  if row.store_code == lead.store_code and row.status in OPEN_STATUSES and row.created_at >= since]
    if not candidates:
        return None
    newest = max(candidates, key=lambda row: row.created_at).id
    return session.scalar(select(Lead).where(Lead.id == newest).with_for_update())


def record_inquiry(session, open_lead: Lead, inquiry: Lead) -> None:
    interest = inquiry.interest or {}
    announce(session, open_lead, "inquiry", None, None, {
        "inquiry_id": inquiry.id, "source": inquiry.source, "channel": inquiry.channel,
        "interest": {key: interest.get(key) for key in ("brand", "model") if interest.get(key)},
        "comments": (inquiry.comments or "")[:280]}, tell=[open_lead.consultant_id], at=inquiry.created_at)
