"""The analytics through HTTP, on the running services (SQLite and
PostgreSQL): consultants work three leads of their own source, and the
funnel, the sources with their cost, the demand, the consultants' KPIs and
the response times say what they did; every figure drills down to its
leads; tables export as CSV and xlsx; bad input is refused by name."""
import csv
import io
from calendar import monthrange
from datetime import datetime, timedelta, timezone

import pytest
import requests
from openpyxl import load_workbook

from tests.e2e.test_leads_api import new_lead, post
from tests.e2e.test_staff_api import sign_in
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SOURCE = "e2e-analytics"
SHANGHAI = timezone(timedelta(hours=8))


def get(stack, headers, path, **params):
    return requests.get(f"{stack.url}{path}", headers=headers, params={"source": SOURCE, **params}, timeout=60)


def this_month() -> dict:
    today = datetime.now(SHANGHAI).date()
    return {"from": today.replace(day=1).isoformat(),
            "to": today.replace(day=monthrange(today.year, today.month)[1]).isoformat()}


def recorded(stack, headers, lead_id, channel, outcome):
    answer = post(stack, headers, "/v1/followups/records", {"lead_id": lead_id, "channel": channel,
                                                            "outcome": outcome})
    assert answer.status_code == 201, answer.text


def test_the_figures_say_what_the_consultants_did(stack):
    manager = sign_in(stack, "manager.sh")
    won, seller = new_lead(stack, source=SOURCE, interest={"brand": "BYD", "model": "Han", "budget_max": 25_000_000})
    lost, loser = new_lead(stack, source=SOURCE, interest={"brand": "BYD", "model": "Seal"})
    quiet, _ = new_lead(stack, source=SOURCE, interest={"brand": "Tesla", "model": "Model Y"})
    seller_headers, loser_headers = sign_in(stack, seller), sign_in(stack, loser)
    for channel, outcome in (("call", "reached"), ("call", "appointment"), ("visit", "test_drive")):
        recorded(stack, seller_headers, won, channel, outcome)
    assert post(stack, seller_headers, f"/v1/leads/{won}/stage", {"stage": "proposal"}).status_code == 200
    assert post(stack, seller_headers, f"/v1/leads/{won}/win", {"deal_value": 18_000_000,
                                                                 "currency": "CNY"}).status_code == 200
    recorded(stack, loser_headers, lost, "call", "reached")
    assert post(stack, loser_headers, f"/v1/leads/{lost}/loss", {"lost_reason": "price"}).status_code == 200
    assert post(stack, manager, f"/v1/leads/{lost}/loss-decision", {"approve": True}).status_code == 200

    expected = {"leads": 3, "contacted": 2, "appointment": 1, "visited": 1, "showed": 1, "test_drive": 1,
                "won": 1, "lost": 1, "loss_pending": 0, "stalled": 0}
    def counted():
        answer = get(stack, manager, "/v1/analytics/funnel").json()
        return answer if answer["counts"] == expected else print("COUNTS", answer["counts"])
    funnel = eventually(counted, message="the records' milestones reached the leads service")
    assert [(stage["stage"], stage["reached"]) for stage in funnel["stages"]] == [
        ("initial_contact", 3), ("needs_confirmed", 1), ("proposal", 1), ("negotiation", 1), ("won", 1)]
    assert funnel["rates"]["contact_rate"] == 0.6667 and funnel["lost_reasons"] == [{"key": "price", "count": 1}]

    # the leads behind a figure
    scope = {"created_from": funnel["scope"]["created_from"], "created_to": funnel["scope"]["created_to"]}
    for metric, leads in (("won", [won]), ("test_drive", [won]), ("lost", [lost]), ("waiting", [quiet]),
                          ("contacted", sorted([won, lost]))):
        listed = get(stack, manager, "/v1/leads", metric=metric, **scope)
        assert listed.status_code == 200, listed.text
        assert sorted(lead["id"] for lead in listed.json()["items"]) == leads, metric

    # what the source cost this month, per lead and per sale
    month = this_month()
    cost = {"store_code": "SH-PUDONG", "source": SOURCE, "month": month["from"][:7], "amount": 900_000}
    assert requests.put(f"{stack.url}/v1/admin/source-costs", json=cost, headers=seller_headers,
                        timeout=30).status_code == 403
    dropped = requests.put(f"{stack.url}/v1/admin/source-costs", json=dict(cost, source="gone", amount=1),
                           headers=manager, timeout=30)
    assert dropped.status_code == 200 and requests.put(
        f"{stack.url}/v1/admin/source-costs", json=dict(cost, source="gone", amount=None), headers=manager,
        timeout=30).status_code == 204
    saved = requests.put(f"{stack.url}/v1/admin/source-costs", json=cost, headers=manager, timeout=30)
    assert saved.status_code == 200 and saved.json()["amount"] == 900_000, saved.text
    listed = requests.get(f"{stack.url}/v1/admin/source-costs?store_code=SH-PUDONG", headers=manager, timeout=30)
    assert [(row["source"], row["amount"]) for row in listed.json()] == [(SOURCE, 900_000)]
    [row] = get(stack, manager, "/v1/analytics/sources", **month).json()["rows"]
    assert {key: row[key] for key in ("leads", "contacted", "test_drive", "won", "revenue", "cost", "cost_per_lead",
                                      "cost_per_sale")} == {"leads": 3, "contacted": 2, "test_drive": 1, "won": 1,
                                                            "revenue": 18_000_000, "cost": 900_000,
                                                            "cost_per_lead": 300_000, "cost_per_sale": 900_000}

    demand = get(stack, manager, "/v1/analytics/demand", by="model").json()
    assert {series["key"]: series["total"] for series in demand["series"]} == {
        "BYD Han": 1, "BYD Seal": 1, "Tesla Model Y": 1}
    times = get(stack, manager, "/v1/analytics/response-times").json()
    assert (times["contacted"], times["waiting"], sum(bucket["count"] for bucket in times["buckets"])) == (2, 1, 2)

    # the consultants: the leads service's figures and the followups service's follow-ups, side by side
    rows = {row["consultant_id"]: row for row in get(stack, manager, "/v1/analytics/consultants").json()["rows"]}
    seller_id = stack.scalar("gateway", "SELECT id FROM users WHERE username = :name", name=seller)
    assert (rows[seller_id]["wins"], rows[seller_id]["revenue"], rows[seller_id]["rank"]) == (1, 18_000_000, 1)
    assert rows[seller_id]["followups_done"] == 3 + (seller == loser)
    assert get(stack, seller_headers, "/v1/analytics/funnel").json()["counts"]["leads"] == 1 + (seller == loser)

    # exports, with headers in the caller's language
    exported = get(stack, manager, "/v1/analytics/export", table="sources", format="csv", lang="zh", **month)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in exported.headers["Content-Disposition"]
    header, line = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert header[0] == "来源" and line[0] == SOURCE and float(line[header.index("成交额（元）")]) == 180_000
    book = get(stack, manager, "/v1/analytics/export", table="funnel", format="xlsx", lang="en")
    rows = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Stage", "Reached") and [row[1] for row in rows[1:]] == [3, 1, 1, 1, 1]


def test_bad_analytics_input_is_refused_by_name(stack):
    manager = sign_in(stack, "manager.sh")
    bad = get(stack, manager, "/v1/analytics/funnel", **{"from": "2026-11-30", "to": "2026-11-01"})
    assert bad.status_code == 422 and "from" in bad.json()["errors"]
    assert get(stack, manager, "/v1/analytics/demand", by="colour").status_code == 422
    assert get(stack, manager, "/v1/analytics/funnel", store_code="BJ-CHAOYANG").status_code == 404
    export = get(stack, manager, "/v1/analytics/export", table="nope", format="pdf")
    assert export.status_code == 422 and set(export.json()["errors"]) == {"table", "format"}
    assert get(stack, manager, "/v1/leads", metric="nope").status_code == 422
    assert requests.get(f"{stack.url}/v1/analytics/funnel", timeout=30).status_code == 401
