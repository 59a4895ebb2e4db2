"""/v1/admin: who may do what (a table of every route and role), changes
audited and announced, the audit log read-only and paged, bad input 422."""
import pytest
from sqlalchemy import select

from services.gateway import org
from services.gateway.demo import seed_demo
from services.gateway.models import ApiKey, OutboxMessage, Team
from tests.unit.gateway.conftest import make_lead
from tests.unit.gateway.test_auth import staff_client, staff_headers

ROLES = ("admin", "manager.sh", "consultant.sh1", "api key", "nobody")


@pytest.fixture
def client(sessions, monkeypatch):
    return staff_client(sessions, monkeypatch)


@pytest.fixture
def ids(sessions, make_key):
    """Placeholders the table's paths use, by name."""
    with sessions() as session:
        users = {name: org.user_named(session, username).id for name, username in (
            ("sh1", "consultant.sh1"), ("bj1", "consultant.bj1"), ("manager", "manager.sh"))}
        team = session.scalar(select(Team.id).where(Team.name == "Pudong A"))
    make_key()
    with sessions() as session:
        key_id = session.scalar(select(ApiKey.id))
    return dict(users, team=team, key=key_id)


@pytest.fixture
def as_role(client, sessions, make_key):
    def headers(role):
        if role == "nobody":
            return {}
        if role == "api key":
            return {"X-Api-Key": make_key()}
        return staff_headers(sessions, role)
    return headers


SHIFT = {"mon": ["09:00-18:00"]}
#  method, path, body, expected status for: admin, manager.sh, consultant.sh1 (an API key
#  and no credentials are 401 everywhere)
TABLE = [
    ("GET", "/v1/admin/stores", None, (200, 403, 403)),
    ("POST", "/v1/admin/stores", {"code": "GZ-TIANHE", "name": "Guangzhou Tianhe"}, (201, 403, 403)),
    ("GET", "/v1/admin/stores/SH-PUDONG", None, (200, 403, 403)),
    ("PATCH", "/v1/admin/stores/SH-PUDONG", {"business_hours": SHIFT}, (200, 403, 403)),
    ("GET", "/v1/admin/teams", None, (200, 200, 403)),
    ("POST", "/v1/admin/teams", {"name": "Pudong B", "store_code": "SH-PUDONG"}, (201, 403, 403)),
    ("GET", "/v1/admin/teams/{team}", None, (200, 200, 403)),
    ("PATCH", "/v1/admin/teams/{team}", {"name": "Pudong Alpha"}, (200, 403, 403)),
    ("GET", "/v1/admin/users", None, (200, 200, 403)),
    ("POST", "/v1/admin/users", {"username": "new.one", "password": "long-enough",
                                 "role": "consultant", "stores": ["SH-PUDONG"]}, (201, 403, 403)),
    ("GET", "/v1/admin/users/{sh1}", None, (200, 200, 403)),
    ("GET", "/v1/admin/users/{bj1}", None, (200, 404, 403)),
    ("PATCH", "/v1/admin/users/{sh1}", {"daily_capacity": 5, "shift": SHIFT,
                                                   "leave": [{"start": "2026-12-01",
                                                              "end": "2026-12-03"}],
                                                   "active": True}, (200, 200, 403)),
    ("PATCH", "/v1/admin/users/{sh1}", {"role": "manager"}, (200, 403, 403)),
    ("PATCH", "/v1/admin/users/{sh1}", {"languages": ["en"]}, (200, 403, 403)),
    ("PATCH", "/v1/admin/users/{bj1}", {"daily_capacity": 5}, (200, 404, 403)),
    ("PATCH", "/v1/admin/users/{manager}", {"daily_capacity": 5}, (200, 403, 403)),
    ("POST", "/v1/admin/users/{sh1}/password", {"password": "reset-password"},
     (204, 403, 403)),
    ("GET", "/v1/admin/api-keys", None, (200, 403, 403)),
    ("POST", "/v1/admin/api-keys", {"platform": "autohome", "stores": ["SH-PUDONG"]}, (201, 403, 403)),
    ("DELETE", "/v1/admin/api-keys/{key}", None, (204, 403, 403)),
    ("GET", "/v1/admin/audit", None, (200, 403, 403)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, body, expected", TABLE,
                         ids=[f"{m} {p} {sorted(b or {})}" for m, p, b, _ in TABLE])
def test_who_may_do_what(client, as_role, ids, role, method, path, body, expected):
    status = dict(zip(ROLES, expected + (401, 401)))[role]
    result = client.simulate_request(method, path.format(**ids), json=body, headers=as_role(role))
    assert result.status_code == status, result.text


def admin(client, sessions, method, path, **kwargs):
    return client.simulate_request(method, path, headers=staff_headers(sessions, "admin"), **kwargs)


def test_a_managers_list_holds_only_the_users_of_their_stores(client, sessions, as_role):
    result = client.simulate_get("/v1/admin/users", headers=as_role("manager.sh"))
    usernames = [user["username"] for user in result.json["items"]]
    assert usernames == ["consultant.sh1", "consultant.sh2", "consultant.sh3", "manager.sh"]
    teams = client.simulate_get("/v1/admin/teams", headers=as_role("manager.sh")).json["items"]
    assert [team["name"] for team in teams] == ["Pudong A"]


def test_lists_page_without_skipping_or_repeating(client, sessions):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = admin(client, sessions, "GET", "/v1/admin/users", params=params).json
        assert set(page) == {"items", "next_cursor"}
        seen += [user["username"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 9


@pytest.mark.parametrize("params, field", [({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
                                           ({"cursor": "not-a-cursor"}, "cursor"),
                                           ({"role": "boss"}, "role")])
def test_bad_list_parameters_are_422(client, sessions, params, field):
    result = admin(client, sessions, "GET", "/v1/admin/users", params=params)
    assert result.status_code == 422 and field in result.json["errors"]


def test_users_filter_by_store_role_and_active(client, sessions):
    page = admin(client, sessions, "GET", "/v1/admin/users",
                 params={"store": "BJ-CHAOYANG", "role": "consultant", "active": "true"}).json
    assert [u["username"] for u in page["items"]] == ["consultant.bj1", "consultant.bj2",
                                                      "consultant.bj3"]


@pytest.mark.parametrize("path, body, field", [
    ("/v1/admin/stores/SH-PUDONG", {"business_hours": {"mon": ["18:00-09:00"]}}, "business_hours"),
    ("/v1/admin/stores/SH-PUDONG", {"business_hours": {"someday": ["09:00-18:00"]}}, "business_hours"),
    ("/v1/admin/stores/SH-PUDONG", {"holidays": ["2026-13-01"]}, "holidays"),
    ("/v1/admin/stores/SH-PUDONG", {"timezone": "Mars/Olympus"}, "timezone"),
    ("/v1/admin/stores/SH-PUDONG", {"response_minutes": 0}, "response_minutes"),
    ("/v1/admin/stores/SH-PUDONG", {"revision": 9}, "revision"),
    ("/v1/admin/users/{sh1}", {"stores": ["NOPE"]}, "stores"),
    ("/v1/admin/users/{sh1}", {"stores": []}, "stores"),
    ("/v1/admin/users/{sh1}", {"leave": [{"start": "2026-12-05", "end": "2026-12-01"}]},
     "leave"),
    ("/v1/admin/users/{sh1}", {"shift": {"mon": ["09:00-13:00", "12:00-18:00"]}}, "shift"),
    ("/v1/admin/users/{sh1}", {"daily_capacity": -1}, "daily_capacity"),
    ("/v1/admin/users/{sh1}", {"languages": ["Chinese!"]}, "languages"),
    ("/v1/admin/users/{sh1}", {"team_id": "no-such-team"}, "team_id"),
    ("/v1/admin/users/{bj1}", {"team_id": "{team}"}, "team_id"),
    ("/v1/admin/users/{sh1}", {"password": "sneaky-password"}, "password"),
])
def test_bad_changes_are_422_naming_the_field_and_change_nothing(client, sessions, ids, path, body,
                                                                  field):
    body = {k: (v.format(**ids) if isinstance(v, str) else v) for k, v in body.items()}
    before = admin(client, sessions, "GET", path.format(**ids)).json
    result = admin(client, sessions, "PATCH", path.format(**ids), json=body)
    assert result.status_code == 422, result.text
    assert result.json["title"] == "Invalid input" and field in result.json["errors"]
    assert admin(client, sessions, "GET", path.format(**ids)).json == before


def test_unknown_targets_are_404(client, sessions):
    for method, path in [("GET", "/v1/admin/stores/NOPE"), ("PATCH", "/v1/admin/stores/NOPE"),
                         ("PATCH", "/v1/admin/teams/nope"), ("PATCH", "/v1/admin/users/nope"),
                         ("POST", "/v1/admin/users/nope/password"),
                         ("DELETE", "/v1/admin/api-keys/nope")]:
        body = {"password": "long-enough"} if path.endswith("password") else {}
        assert admin(client, sessions, method, path, json=body).status_code == 404, path


def test_a_change_is_audited_and_announced(client, sessions, ids):
    result = admin(client, sessions, "PATCH", f"/v1/admin/users/{ids['sh1']}",
                   json={"daily_capacity": 7, "shift": SHIFT})
    assert result.json["revision"] == 2
    entries = admin(client, sessions, "GET", "/v1/admin/audit",
                    params={"target": f"user:{ids['sh1']}"}).json["items"]
    assert [entry["action"] for entry in entries] == ["user.update", "user.create"]  # newest first
    with sessions() as session:
        admin_id = org.user_named(session, "admin").id
        event = session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "user_saved")
                                .order_by(OutboxMessage.created_at.desc())).first().payload
    assert entries[0]["who"] == admin_id
    assert entries[0]["details"] == {"daily_capacity": 7, "shift": SHIFT}
    assert (event["user_id"], event["daily_capacity"], event["shift"], event["revision"]) == (
        ids["sh1"], 7, SHIFT, 2)


def test_a_store_change_is_announced_with_its_hours(client, sessions):
    admin(client, sessions, "PATCH", "/v1/admin/stores/SH-PUDONG",
          json={"business_hours": SHIFT, "holidays": ["2026-10-01"], "active": False})
    with sessions() as session:
        event = session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "store_saved")
                                .order_by(OutboxMessage.created_at.desc())).first().payload
    assert (event["business_hours"], event["holidays"], event["active"]) == (SHIFT, ["2026-10-01"],
                                                                           False)


def test_the_audit_log_filters_by_time_and_pages(client, sessions):
    everything = admin(client, sessions, "GET", "/v1/admin/audit", params={"limit": 200}).json["items"]
    middle = everything[len(everything) // 2]["at"]
    newer = admin(client, sessions, "GET", "/v1/admin/audit",
                  params={"since": middle, "limit": 200}).json["items"]
    assert newer and all(entry["at"] >= middle for entry in newer)
    older = admin(client, sessions, "GET", "/v1/admin/audit",
                  params={"until": middle, "limit": 200}).json["items"]
    assert len(newer) + len(older) == len(everything)
    first = admin(client, sessions, "GET", "/v1/admin/audit", params={"limit": 3}).json
    rest = admin(client, sessions, "GET", "/v1/admin/audit",
                 params={"limit": 200, "cursor": first["next_cursor"]}).json
    assert first["items"] + rest["items"] == everything


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_route_edits_or_deletes_the_audit_log(client, sessions, method):
    entry = admin(client, sessions, "GET", "/v1/admin/audit").json["items"][0]
    assert admin(client, sessions, method, "/v1/admin/audit", json={}).status_code == 405
    assert admin(client, sessions, method, f"/v1/admin/audit/{entry['id']}").status_code == 404


def test_an_api_key_is_shown_once_works_and_stops_when_revoked(client, sessions):
    created = admin(client, sessions, "POST", "/v1/admin/api-keys",
                    json={"platform": "autohome", "stores": ["SH-PUDONG"], "rate_limit": 0}).json
    key = created["key"]
    listed = admin(client, sessions, "GET", "/v1/admin/api-keys").json["items"]
    assert created["id"] in {k["id"] for k in listed} and all("key" not in k for k in listed)
    lead = client.simulate_post("/v1/leads", json=make_lead(), headers={"X-Api-Key": key})
    assert lead.status_code == 202
    assert admin(client, sessions, "DELETE", f"/v1/admin/api-keys/{created['id']}").status_code == 204
    assert client.simulate_post("/v1/leads", json=make_lead(),
                                headers={"X-Api-Key": key}).status_code == 401


def test_a_user_created_by_an_admin_can_sign_in(client, sessions):
    created = admin(client, sessions, "POST", "/v1/admin/users", json={
        "username": "wang.lei", "password": "long-enough", "role": "consultant",
        "stores": ["BJ-CHAOYANG"], "languages": ["zh", "en"], "daily_capacity": 12})
    assert created.status_code == 201 and "password" not in created.json
    token = client.simulate_post("/v1/auth/token", json={"username": "wang.lei",
                                                         "password": "long-enough"})
    assert token.status_code == 200
    twice = admin(client, sessions, "POST", "/v1/admin/users", json={
        "username": "wang.lei", "password": "long-enough", "role": "consultant",
        "stores": ["BJ-CHAOYANG"]})
    assert twice.status_code == 422 and "username" in twice.json["errors"]


def test_the_demo_consultants_are_on_shift_at_all_hours_in_their_teams(client, sessions):
    users = admin(client, sessions, "GET", "/v1/admin/users", params={"role": "consultant"}).json
    teams = {team["id"]: team["name"]
             for team in admin(client, sessions, "GET", "/v1/admin/teams").json["items"]}
    for user in users["items"]:
        assert user["shift"] == org.ALL_HOURS and user["daily_capacity"] >= 100
        assert user["languages"] == ["zh", "en"]
        assert teams[user["team_id"]] == {"SH-PUDONG": "Pudong A",
                                          "BJ-CHAOYANG": "Chaoyang A"}[user["stores"][0]]
    with sessions() as session:
        assert seed_demo(session, "another-password") == []
