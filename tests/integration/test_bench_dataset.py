"""The bench's dealer group generator (``bench/dataset.py``), at a tiny size,
into copies of the seeded PostgreSQL databases a stack starts from: the
counts asked for, moments in order, won leads with a value, every lead with
a colleague of its store, conversion by source as designed, and the
followups' records telling the same story as the leads' columns."""
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
import pytest

from bench import dataset
from dealerflow.config import SERVICES
from services.gateway.auth import verify_password
from tests.support.stack import Stack, postgres, seeded

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)
SIZE = dataset.Size(stores=3, consultants=12, leads=3_000, followups=12_000, years=1, seed=7, now=NOW)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    template = seeded("postgresql")
    stack = Stack(Path(tmp_path_factory.mktemp("dataset")), "postgresql")
    for service in SERVICES:
        postgres(f"CREATE DATABASE {stack.database_name(service)} TEMPLATE {template.database_name(service)}")
    try:
        yield stack, dataset.load(dataset.stack_urls(stack), SIZE, progress=lambda line: None)
    finally:
        for service in SERVICES:
            postgres(f"DROP DATABASE IF EXISTS {stack.database_name(service)} WITH (FORCE)")


def rows(stack, service: str, sql: str, *params) -> list[tuple]:
    with closing(psycopg2.connect(dataset.psycopg_url(stack.databases[service]))) as connection, \
            connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_counts_are_as_asked(generated):
    stack, result = generated
    stores = result["stores"]
    assert len(stores) == 3 and result["counts"]["consultants"] == 12
    assert rows(stack, "gateway", "SELECT role, count(*) FROM users u JOIN user_stores s ON s.user_id = u.id "
                "WHERE s.store_code = ANY(%s) GROUP BY role ORDER BY role", stores) == [
        ("consultant", 12), ("manager", 3)]
    assert rows(stack, "leads", "SELECT count(*) FROM leads WHERE store_code = ANY(%s)", stores) == [(3_000,)]
    assert rows(stack, "followups", "SELECT count(*) FROM followup_records WHERE store_code = ANY(%s)",
                stores) == [(12_000,)]
    assert rows(stack, "leads", "SELECT count(*) FROM roster WHERE store_code = ANY(%s)", stores) == [(15,)]
    assert rows(stack, "followups", "SELECT count(*) FROM store_managers WHERE store_code = ANY(%s)",
                stores) == [(3,)]
    assert rows(stack, "notifications", "SELECT count(*) FROM stores WHERE code = ANY(%s)", stores) == [(3,)]
    (password_hash,), = rows(stack, "gateway", "SELECT password_hash FROM users WHERE username = %s",
                             dataset.ADMIN)
    assert verify_password(password_hash, dataset.PASSWORD)


def test_moments_follow_one_another_and_nothing_happens_after_now(generated):
    stack, _ = generated
    (disorder,), = rows(stack, "leads", """
        SELECT count(*) FROM leads WHERE first_contact_at < created_at
            OR needs_confirmed_at < first_contact_at OR proposal_at < needs_confirmed_at
            OR negotiation_at < proposal_at OR closed_at < negotiation_at
            OR closed_at < created_at OR visited_at < appointment_at OR test_drive_at < visited_at
            OR last_activity_at < first_contact_at OR response_seconds < 0 OR owner_response_seconds < 0
            OR greatest(created_at, first_contact_at, closed_at, last_activity_at, visited_at) > %s
            OR (needs_confirmed_at IS NOT NULL AND first_contact_at IS NULL)""", NOW)
    assert disorder == 0
    (won, without_value, lost_without_reason), = rows(stack, "leads", """
        SELECT count(*) FILTER (WHERE status = 'won'),
               count(*) FILTER (WHERE status = 'won' AND (deal_value IS NULL OR deal_value <= 0
                                                         OR closed_at IS NULL OR negotiation_at IS NULL)),
               count(*) FILTER (WHERE status IN ('lost', 'loss_pending') AND lost_reason IS NULL)
        FROM leads""")
    assert won > 50 and without_value == 0 and lost_without_reason == 0


def test_every_lead_belongs_to_a_colleague_of_its_store(generated):
    stack, _ = generated
    strangers = rows(stack, "leads", """
        SELECT l.id FROM leads l
        LEFT JOIN roster r ON r.user_id = l.consultant_id AND r.store_code = l.store_code
        WHERE l.consultant_id IS NOT NULL AND r.user_id IS NULL""")
    assert strangers == []
    # a manager has only the leads nobody reached, escalated to them
    assert rows(stack, "leads", """
        SELECT count(*) FROM leads l
        JOIN roster r ON r.user_id = l.consultant_id AND r.store_code = l.store_code
        WHERE r.role = 'manager' AND l.first_contact_at IS NOT NULL""") == [(0,)]
    unowned = "SELECT count(*) FROM leads WHERE consultant_id IS NULL AND status <> 'pooled'"
    assert rows(stack, "leads", unowned) == [(0,)]


def test_walk_ins_and_referrals_convert_best_and_listing_sites_worst(generated):
    stack, _ = generated
    rate = dict(rows(stack, "leads",
                     "SELECT source, avg((status = 'won')::int)::float FROM leads GROUP BY source"))
    listing = max(rate["autohome"], rate["dongchedi"], rate["yiche"])
    assert min(rate["walk_in"], rate["referral"]) > rate["oem_website"] > listing > 0


def test_the_records_tell_the_leads_milestones(generated):
    stack, result = generated
    for column, outcome in (("appointment_at", "appointment"), ("test_drive_at", "test_drive")):
        marked = set(rows(stack, "leads", f"SELECT id, {column} FROM leads WHERE {column} IS NOT NULL"))
        recorded = set(rows(stack, "followups", "SELECT lead_id, min(created_at) FROM followup_records "
                            "WHERE outcome = %s GROUP BY lead_id", outcome))
        assert marked and marked == recorded
    contacted = set(rows(stack, "leads",
                         "SELECT id, first_contact_at FROM leads WHERE first_contact_at IS NOT NULL"))
    first = set(rows(stack, "followups",
                     "SELECT lead_id, min(created_at) FROM followup_records GROUP BY lead_id"))
    assert contacted == first
    assert 0.7 < result["counts"]["on_time_rate"] < 0.9
