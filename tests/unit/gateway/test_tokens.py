"""Access tokens are read strictly: every bad token is 401 with the JSON
error body, and no string at all makes the gateway fail (hypothesis)."""
import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealerflow.db import utcnow
from services.gateway import auth, org
from services.gateway.tokens import AUDIENCE, ISSUER, BadToken, Tokens
from tests.unit.gateway.test_auth import SECRET, bearer, staff_client


@pytest.fixture
def client(sessions, monkeypatch):
    return staff_client(sessions, monkeypatch)


def segment(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forge(header: dict, claims: dict, key: str = SECRET, digest=hashlib.sha256) -> str:
    """A token signed by hand, so that any header can be tried."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{segment(signature)}"


@pytest.fixture
def live(sessions):
    """The claims of a live session of consultant.sh1."""
    with sessions() as session:
        user = org.user_named(session, "consultant.sh1")
        session_id, _ = auth.start_session(session, user, utcnow())
        session.commit()
    now = datetime.now(timezone.utc)  # not the module's import time: a long run would expire it
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": user.id, "sid": session_id,
            "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp())}


HS256 = {"alg": "HS256", "typ": "JWT"}


def without(claims: dict, name: str) -> dict:
    return {key: value for key, value in claims.items() if key != name}


BAD_TOKENS = {
    "expired": lambda c: forge(HS256, dict(c, exp=c["iat"] - 1)),
    "tampered payload": lambda c: forge(HS256, c).split(".")[0] + "." + segment(
        dict(c, sub="someone-else")) + "." + forge(HS256, c).split(".")[2],
    "tampered signature": lambda c: forge(HS256, c)[:-4] + "AAAA",
    "another secret": lambda c: forge(HS256, c, key="another-secret-" + "x" * 32),
    "alg none": lambda c: f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(c)}.",
    "alg None": lambda c: f"{segment({'alg': 'None'})}.{segment(c)}.",
    "RS256 header": lambda c: f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(c)}.{segment(b'x' * 256)}",
    "HS512 with the right secret": lambda c: forge({"alg": "HS512"}, c, digest=hashlib.sha512),
    "wrong audience": lambda c: forge(HS256, dict(c, aud="another-app")),
    "wrong issuer": lambda c: forge(HS256, dict(c, iss="someone-else")),
    "not yet valid": lambda c: forge(HS256, dict(c, nbf=c["iat"] + 3600)),
    "sub not a string": lambda c: forge(HS256, dict(c, sub=123)),
    "empty sid": lambda c: forge(HS256, dict(c, sid="")),
    "unknown session": lambda c: forge(HS256, dict(c, sid="no-such-session")),
    "another user's session": lambda c: forge(HS256, dict(c, sub="no-such-user")),
    **{f"missing {name}": (lambda name: lambda c: forge(HS256, without(c, name)))(name)
       for name in ("exp", "iat", "iss", "aud", "sub", "sid")},
    "two segments": lambda c: ".".join(forge(HS256, c).split(".")[:2]),
    "not base64": lambda c: "@@@.###.$$$",
    "header not an object": lambda c: f"{segment([1, 2])}.{segment(c)}.sig",
}


def test_a_good_token_works(client, live):
    assert client.simulate_get("/v1/me", headers=bearer(forge(HS256, live))).status_code == 200


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_every_bad_token_is_401_with_a_json_body(client, live, case):
    result = client.simulate_get("/v1/me", headers=bearer(BAD_TOKENS[case](live)))
    assert result.status_code == 401
    assert set(result.json) == {"title", "description"} and result.json["title"] == "Unauthorized"


def test_tokens_issued_are_hs256_with_every_claim():
    token = Tokens(SECRET).issue("u-1", "s-1")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert {"iss", "aud", "sub", "sid", "iat", "exp"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_an_expired_token_of_ours_is_refused():
    tokens = Tokens(SECRET)
    token = tokens.issue("u-1", "s-1", now=datetime.now(timezone.utc) - timedelta(minutes=16))
    with pytest.raises(BadToken):
        tokens.read(token)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_reading_any_string_is_a_bad_token_or_claims(text):
    try:
        Tokens(SECRET).read(text)
    except BadToken:
        pass


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                                max_size=3),
                    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(JSON, JSON)
def test_reading_any_signed_json_is_a_bad_token_or_claims(header, claims):
    try:
        Tokens(SECRET).read(forge(header, claims))
    except BadToken:
        pass


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=HEADER_TEXT)
def test_any_bearer_string_is_401_never_500(client, token):
    result = client.simulate_get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert result.status_code == 401
