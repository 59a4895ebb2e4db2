"""Rotating keys at the gateway signs nobody out and loses no lead.

JWT signing keys: ``JWT_SECRET`` signs, a key listed in
``JWT_PREVIOUS_SECRETS`` still verifies, a key taken off that list no longer
does; refresh tokens (not JWTs) outlive every rotation. API keys: a
platform's new key works beside its old one, shares its leads and their
dedupe, and goes on alone once the old one is revoked (docs/operations.md)."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from dealerflow.db import utcnow
from services.gateway import auth, org
from services.gateway.tokens import AUDIENCE, BadToken, Tokens
from tests.unit.gateway.conftest import make_lead
from tests.unit.gateway.test_app import FakePublisher, make_client, post_json
from tests.unit.gateway.test_auth import bearer

OLD = "old-signing-key-" + "o" * 32
NEW = "new-signing-key-" + "n" * 32


def keys(monkeypatch, secret: str, previous: str = "") -> None:
    monkeypatch.setenv("JWT_SECRET", secret)
    monkeypatch.setenv("JWT_PREVIOUS_SECRETS", previous)


def test_a_previous_key_verifies_while_listed_and_fails_once_removed(monkeypatch):
    token = Tokens(OLD).issue("u-1", "s-1")
    keys(monkeypatch, NEW, f"{'x' * 32}, {OLD}")
    assert Tokens().read(token).user_id == "u-1"
    keys(monkeypatch, NEW)
    with pytest.raises(BadToken, match="Signature verification failed"):
        Tokens().read(token)


def test_new_tokens_are_signed_with_the_new_key_only(monkeypatch):
    keys(monkeypatch, NEW, OLD)
    token = Tokens().issue("u-1", "s-1")
    assert jwt.decode(token, NEW, algorithms=["HS256"], audience=AUDIENCE)["sub"] == "u-1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, OLD, algorithms=["HS256"], audience=AUDIENCE)


def test_an_expired_token_of_a_previous_key_is_refused_as_expired(monkeypatch):
    keys(monkeypatch, NEW, OLD)
    token = Tokens(OLD).issue("u-1", "s-1", now=datetime.now(timezone.utc) - timedelta(minutes=16))
    with pytest.raises(BadToken, match="expired"):
        Tokens().read(token)


def test_a_short_previous_key_is_refused_rather_than_trusted(monkeypatch):
    keys(monkeypatch, NEW, "short")
    with pytest.raises(RuntimeError, match="32"):
        Tokens().read(Tokens(NEW).issue("u-1", "s-1"))


def test_a_rotation_through_the_app_keeps_sessions_and_refresh_tokens(sessions, monkeypatch):
    with sessions() as session:
        user = org.user_named(session, "consultant.sh1")
        session_id, refresh_token = auth.start_session(session, user, utcnow())
        session.commit()
    signed_before = bearer(Tokens(OLD).issue(user.id, session_id))

    keys(monkeypatch, NEW, OLD)  # the rollout: new key, old one kept for the tokens it signed
    rotated = make_client(sessions)
    assert rotated.simulate_get("/v1/me", headers=signed_before).status_code == 200

    keys(monkeypatch, NEW)  # the old key dropped once its tokens have expired
    done = make_client(sessions)
    assert done.simulate_get("/v1/me", headers=signed_before).status_code == 401
    refreshed = done.simulate_post("/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 200
    assert done.simulate_get("/v1/me", headers=bearer(refreshed.json["access_token"])).status_code == 200


def test_a_platforms_new_api_key_works_beside_the_old_one_until_it_is_revoked(sessions, make_key):
    publisher = FakePublisher()
    client = make_client(sessions, publisher)
    old = make_key(["SH-PUDONG"], platform="autohome")
    first = post_json(client, old, make_lead())
    assert first.status_code == 202

    new = make_key(["SH-PUDONG"], platform="autohome")  # `dealerflow create-api-key`, then the platform switches
    again = post_json(client, new, make_lead())  # a retry of the same lead under the new key
    assert (again.status_code, again.json["id"]) == (200, first.json["id"])
    assert post_json(client, old, make_lead(external_id="AH-old")).status_code == 202
    assert post_json(client, new, make_lead(external_id="AH-new")).status_code == 202

    with sessions() as session:
        org.revoke_api_key(session, old)  # `dealerflow revoke-api-key`
        session.commit()
    assert post_json(client, old, make_lead(external_id="AH-late")).status_code == 401
    assert post_json(client, new, make_lead(external_id="AH-late")).status_code == 202
    assert len(publisher.messages) == 4
