"""Staff sign-in through the app: tokens, refresh rotation and reuse,
sign-out, password change, lockout, immediate revocation, /v1/me, and
which credentials each kind of route takes."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from dealerflow.db import utcnow
from services.gateway import auth, org
from services.gateway.models import AuthSession, FailedSignIns, RefreshToken, Store
from services.gateway.tokens import Tokens
from tests.unit.gateway.conftest import DEMO_PASSWORD, make_lead
from tests.unit.gateway.test_app import make_client

SECRET = "unit-test-secret-" + "s" * 32


def staff_client(sessions, monkeypatch):
    """The app, signing staff tokens with ``SECRET``."""
    monkeypatch.setenv("JWT_SECRET", SECRET)
    return make_client(sessions)


@pytest.fixture
def client(sessions, monkeypatch):
    return staff_client(sessions, monkeypatch)


def sign_in(client, username="admin", password=DEMO_PASSWORD):
    return client.simulate_post("/v1/auth/token", json={"username": username, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def staff_headers(sessions, username: str) -> dict:
    """A signed-in user's headers without the (deliberately slow) password check."""
    with sessions() as session:
        user = org.user_named(session, username)
        session_id, _ = auth.start_session(session, user, utcnow())
        session.commit()
    return bearer(Tokens(SECRET).issue(user.id, session_id))


def me(client, headers):
    return client.simulate_get("/v1/me", headers=headers)


# --- sign-in ---------------------------------------------------------------------

def test_sign_in_answers_an_access_and_a_refresh_token(client):
    result = sign_in(client)
    assert result.status_code == 200
    assert set(result.json) == {"access_token", "token_type", "expires_in", "refresh_token",
                                "refresh_expires_in"}
    assert result.json["token_type"] == "Bearer"
    assert (result.json["expires_in"], result.json["refresh_expires_in"]) == (15 * 60, 14 * 86400)
    assert result.headers["Cache-Control"] == "no-store"
    assert me(client, bearer(result.json["access_token"])).json["username"] == "admin"


@pytest.mark.parametrize("username, password", [("admin", "wrong-password"),
                                                ("nobody.here", DEMO_PASSWORD)])
def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client, username, password):
    result = sign_in(client, username, password)
    assert result.status_code == 401
    assert result.json == {"title": "Unauthorized", "description": "Wrong username or password."}


def test_an_unknown_user_is_checked_against_a_hash_as_long_as_a_real_one(sessions):
    checked = []

    def run(function, password_hash, password):
        checked.append(password_hash)
        return function(password_hash, password)
    with sessions() as session:
        assert auth.check_password(session, "nobody.here", "whatever", utcnow(), run) is None
    assert checked == [auth.dummy_hash()] and checked[0].startswith("$argon2id$")


@pytest.mark.parametrize("body, fields", [({}, {"username", "password"}),
                                          ({"username": "admin", "password": 5}, {"password"}),
                                          ({"username": "a" * 65, "password": "x"}, {"username"})])
def test_a_bad_sign_in_body_is_422_naming_each_field(client, body, fields):
    result = client.simulate_post("/v1/auth/token", json=body)
    assert result.status_code == 422
    assert result.json["title"] == "Invalid input" and set(result.json["errors"]) == fields


def test_an_inactive_user_cannot_sign_in(client, sessions):
    with sessions() as session:
        org.update_user(session, org.user_named(session, "consultant.sh1").id, {"active": False}, "t")
        session.commit()
    assert sign_in(client, "consultant.sh1").status_code == 401


# --- lockout ---------------------------------------------------------------------

@pytest.mark.parametrize("failures, seconds", [(1, None), (4, None), (5, 30), (6, 60), (7, 120),
                                               (9, 480), (10, 900), (40, 900)])
def test_the_lock_grows_from_30_seconds_to_15_minutes(failures, seconds):
    lock = auth.lock_time(failures)
    assert (lock.total_seconds() if lock else None) == seconds


@pytest.mark.parametrize("username", ["manager.sh", "nobody.here"])
def test_five_failures_lock_a_username_even_for_the_right_password(client, sessions, username):
    for _ in range(5):
        assert sign_in(client, username, "wrong-password").status_code == 401
    locked = sign_in(client, username)
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "30"
    assert sign_in(client, "admin").status_code == 200  # other usernames are not locked
    with sessions() as session:  # the lock runs out
        session.execute(update(FailedSignIns).values(locked_until=utcnow()))
        session.commit()
    again = sign_in(client, username, "wrong-password")
    assert again.status_code == 401
    assert sign_in(client, username).headers["Retry-After"] == "60"  # the sixth doubled it


def test_a_successful_sign_in_resets_the_count(client, sessions):
    for _ in range(4):
        sign_in(client, "manager.sh", "wrong-password")
    assert sign_in(client, "manager.sh").status_code == 200
    with sessions() as session:
        assert session.get(FailedSignIns, "manager.sh") is None


# --- refresh and sign-out --------------------------------------------------------------

def refresh(client, token):
    return client.simulate_post("/v1/auth/refresh", json={"refresh_token": token})


def test_each_refresh_gives_a_new_pair_and_spends_the_old_token(client):
    first = sign_in(client).json
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    assert me(client, bearer(second.json["access_token"])).status_code == 200
    assert refresh(client, second.json["refresh_token"]).status_code == 200


def test_reusing_a_spent_refresh_token_ends_the_whole_session(client):
    first = sign_in(client).json
    second = refresh(client, first["refresh_token"]).json
    other_session = sign_in(client).json
    assert refresh(client, first["refresh_token"]).status_code == 401  # stolen copy replayed
    assert refresh(client, second["refresh_token"]).status_code == 401
    assert me(client, bearer(second["access_token"])).status_code == 401
    assert me(client, bearer(other_session["access_token"])).status_code == 200


@pytest.mark.parametrize("token", ["", "not-a-token"])
def test_an_unknown_refresh_token_is_refused(client, token):
    assert refresh(client, token).status_code == (422 if not token else 401)


def test_an_expired_refresh_token_is_refused(client, sessions):
    tokens = sign_in(client).json
    with sessions() as session:
        session.execute(update(auth.RefreshToken).values(expires_at=utcnow()))
        session.commit()
    assert refresh(client, tokens["refresh_token"]).status_code == 401


def test_sign_out_ends_the_refresh_token_and_the_access_tokens_of_the_session(client):
    tokens = sign_in(client).json
    out = client.simulate_post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    assert me(client, bearer(tokens["access_token"])).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 401


# --- password change and immediate revocation ------------------------------------------

def change_password(client, headers, current, new):
    return client.simulate_post("/v1/auth/password", headers=headers,
                                json={"current_password": current, "new_password": new})


def test_a_password_change_ends_every_session_and_the_new_password_works(client):
    one, two = sign_in(client, "manager.sh").json, sign_in(client, "manager.sh").json
    headers = bearer(one["access_token"])
    assert change_password(client, headers, DEMO_PASSWORD, "a-new-password").status_code == 204
    for tokens in (one, two):
        assert me(client, bearer(tokens["access_token"])).status_code == 401
        assert refresh(client, tokens["refresh_token"]).status_code == 401
    assert sign_in(client, "manager.sh").status_code == 401
    assert sign_in(client, "manager.sh", "a-new-password").status_code == 200


@pytest.mark.parametrize("current, new, field", [("wrong-password", "a-new-password", "current_password"),
                                                 (DEMO_PASSWORD, "short", "new_password")])
def test_a_password_change_needs_the_current_password_and_a_long_enough_new_one(
        client, sessions, current, new, field):
    headers = staff_headers(sessions, "manager.sh")
    result = change_password(client, headers, current, new)
    assert result.status_code == 422 and field in result.json["errors"]
    assert me(client, headers).status_code == 200


def test_a_password_change_needs_a_staff_token(client, make_key):
    result = client.simulate_post("/v1/auth/password", headers={"X-Api-Key": make_key()},
                                  json={"current_password": "x", "new_password": "y" * 8})
    assert result.status_code == 401


@pytest.mark.parametrize("revoke", [
    lambda session, user_id: org.update_user(session, user_id, {"active": False}, "admin"),
    lambda session, user_id: org.set_password(session, user_id, "reset-by-admin", "admin"),
], ids=["deactivated", "password reset"])
def test_revocation_stops_an_unexpired_access_token_at_once(client, sessions, revoke):
    tokens = sign_in(client, "consultant.sh1").json
    assert me(client, bearer(tokens["access_token"])).status_code == 200
    with sessions() as session:
        revoke(session, org.user_named(session, "consultant.sh1").id)
        session.commit()
    assert me(client, bearer(tokens["access_token"])).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 401


def test_reactivating_a_user_does_not_revive_old_tokens(client, sessions):
    headers = staff_headers(sessions, "consultant.sh1")
    with sessions() as session:
        user_id = org.user_named(session, "consultant.sh1").id
        org.update_user(session, user_id, {"active": False}, "admin")
        org.update_user(session, user_id, {"active": True}, "admin")
        session.commit()
    assert me(client, headers).status_code == 401


# --- /v1/me -----------------------------------------------------------------------------

def test_me_of_a_consultant(client, sessions):
    result = me(client, staff_headers(sessions, "consultant.sh1"))
    assert result.status_code == 200
    body = result.json
    assert (body["username"], body["display_name"], body["role"], body["language"]) == (
        "consultant.sh1", "Pudong Consultant 1", "consultant", "zh")
    assert body["team"]["name"] == "Pudong A" and set(body["team"]) == {"id", "name"}
    assert body["stores"] == [{"code": "SH-PUDONG", "name": "Shanghai Pudong",
                               "timezone": "Asia/Shanghai"}]


def test_a_group_admins_stores_are_every_active_store(client, sessions):
    with sessions() as session:
        org.create_store(session, "GZ-TIANHE", "Guangzhou Tianhe")
        session.execute(update(Store).where(Store.code == "BJ-CHAOYANG").values(active=False))
        session.commit()
    body = me(client, staff_headers(sessions, "admin")).json
    assert body["team"] is None
    assert [store["code"] for store in body["stores"]] == ["GZ-TIANHE", "SH-PUDONG"]


# --- which credentials each route takes ---------------------------------------------------

def test_without_credentials_staff_routes_answer_401_with_a_bearer_challenge(client):
    result = me(client, {})
    assert result.status_code == 401
    assert result.headers["WWW-Authenticate"] == "Bearer"
    assert set(result.json) == {"title", "description"}


def test_an_api_key_is_refused_on_staff_routes(client, make_key):
    assert me(client, {"X-Api-Key": make_key()}).status_code == 401
    assert client.simulate_get("/v1/admin/users", headers={"X-Api-Key": make_key()}).status_code == 401


def test_a_staff_token_is_refused_at_intake(client, sessions):
    result = client.simulate_post("/v1/leads", json=make_lead(),
                                  headers=staff_headers(sessions, "admin"))
    assert result.status_code == 401


def test_a_bad_api_key_is_refused_on_any_route(client):
    assert me(client, {"X-Api-Key": "dfk_wrong"}).status_code == 401


def test_both_kinds_of_credentials_at_once_are_refused(client, sessions, make_key):
    headers = dict(staff_headers(sessions, "admin"), **{"X-Api-Key": make_key()})
    assert me(client, headers).status_code == 401


@pytest.mark.parametrize("authorization", ["Basic YWRtaW46cGFzcw==", "Bearer", "Bearer ", "token"])
def test_an_authorization_header_that_is_not_a_bearer_token_is_401(client, authorization):
    assert me(client, {"Authorization": authorization}).status_code == 401


def test_public_routes_need_no_credentials(client):
    assert client.simulate_get("/healthz").status_code == 200


def test_pruning_forgets_what_can_no_longer_matter(client, sessions):
    for _ in range(2):
        sign_in(client, "nobody-x", "wrong-password")
    assert sign_in(client).status_code == 200
    later = utcnow() + timedelta(days=30)
    with sessions() as session:
        assert session.query(FailedSignIns).count() == 1
        assert auth.prune_sign_ins(session, utcnow()) == 0  # everything still matters today
        assert auth.prune_sign_ins(session, later) >= 3
        session.commit()
        assert session.query(FailedSignIns).count() == 0
        assert session.query(RefreshToken).count() == 0
        assert session.query(AuthSession).count() == 0
