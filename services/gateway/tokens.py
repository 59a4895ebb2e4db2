"""Staff access tokens: short-lived JWTs, HS256 only.

An access token names its user (``sub``) and its sign-in session (``sid``);
the authentication middleware checks on every request that both are still
good (``authn``), so revoking a session or a user takes effect at once.
Anything else about a token (its signature, algorithm, audience, issuer,
expiry and the presence of every claim) is checked strictly here: a token
that fails any of it is ``BadToken``.

Keys rotate without signing anyone out: ``JWT_SECRET`` signs, and it or any
of ``JWT_PREVIOUS_SECRETS`` verifies. A token is tried against each key in
turn (no ``kid`` header: tokens issued before rotation existed carry none,
and an HMAC per key costs microseconds); a key that opens the signature
decides, so an expired token of an old key is refused as expired. Refresh
tokens are not JWTs (random strings kept hashed in the gateway's database,
``auth``): rotation does not touch them, and the next refresh gives an access
token signed with the new key.
"""
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

import jwt

from dealerflow import config

ALGORITHM = "HS256"
ISSUER = "dealerflow"
AUDIENCE = "dealerflow-staff"
STREAM_AUDIENCE = "dealerflow-stream"  # a stream ticket: good for opening /v1/stream only
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "sid")


class BadToken(Exception):
    """Not a token this gateway issued, or no longer valid; says why."""


@dataclass(frozen=True)
class Claims:
    user_id: str
    session_id: str


class Tokens:
    """Issues and reads access tokens. The keys are read when first needed
    (``config.jwt_secret`` and ``config.jwt_previous_secrets`` unless given),
    so an app that never sees a staff token needs none."""

    def __init__(self, secret=None, lifetime=None, audience: str = AUDIENCE, previous=None):
        self._secret, self.lifetime = secret, lifetime or config.access_token_lifetime()
        self._previous, self.audience = previous, audience

    @cached_property
    def secret(self) -> str:
        return self._secret or config.jwt_secret()

    @cached_property
    def verifying_secrets(self) -> tuple[str, ...]:
        """The signing key first, then the previous ones."""
        previous = config.jwt_previous_secrets() if self._previous is None else self._previous
        return self.secret, *previous

    def issue(self, user_id: str, session_id: str, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        claims = {"iss": ISSUER, "aud": self.audience, "sub": user_id, "sid": session_id,
                  "iat": now, "exp": now + self.lifetime}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def read(self, token: str) -> Claims:
        for secret in self.verifying_secrets:
            try:
                claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=self.audience,
                                    issuer=ISSUER, options={"require": list(REQUIRED_CLAIMS)})
                break
            except jwt.InvalidSignatureError as exc:
                wrong_key = exc  # the next key may open it
            except jwt.PyJWTError as exc:
                raise BadToken(str(exc)) from None
        else:
            raise BadToken(str(wrong_key))
        if not all(isinstance(claims[name], str) and claims[name] for name in ("sub", "sid")):
            raise BadToken("sub and sid must be non-empty strings")
        return Claims(claims["sub"], claims["sid"])


def ensure_secret() -> str:
    """Generate ``config.jwt_secret_file()`` (mode 0600) unless ``JWT_SECRET``
    is set or the file exists; says which secret the gateway will use. Two
    commands at once write it once (``O_EXCL``)."""
    if os.environ.get("JWT_SECRET"):
        return "JWT secret: from JWT_SECRET"
    path = config.jwt_secret_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return f"JWT secret: {path}"
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return f"JWT secret: {path} (generated)"
