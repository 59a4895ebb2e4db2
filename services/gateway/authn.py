"""Authentication: one Falcon middleware for every request.

A request that carries credentials is authenticated before it is routed,
and refused at once (401) when they are bad:

- ``Authorization: Bearer <access token>``: a staff user; ``req.context.actor``
  is their ``Actor`` (a group admin's stores are every active store, anyone
  else's their own);
- ``X-Api-Key: <key>``: a lead platform, within the key's rate limit (429
  with ``Retry-After`` over it); ``req.context.platform`` is its ``Platform``
  and ``req.context.actor`` its actor.

Without credentials both are None. Resources say what they need with
``staff(req, *roles)`` and ``platform(req)``.
"""
from dealerflow.actor import Actor
from services.gateway.auth import Platform, authenticate_key, staff_actor
from services.gateway.errors import Forbidden, RateLimited, Unauthorized
from services.gateway.tokens import BadToken, Tokens

BEARER = {"WWW-Authenticate": "Bearer"}


class Authentication:
    def __init__(self, sessions, limiter, tokens: Tokens | None = None):
        self.sessions, self.limiter = sessions, limiter
        self.tokens = tokens or Tokens()

    def process_request(self, req, resp):
        req.context.actor = req.context.platform = req.context.session_id = None
        authorization, key = req.get_header("Authorization"), req.get_header("X-Api-Key")
        if authorization is not None and key is not None:
            raise Unauthorized("Send either a Bearer token or an X-Api-Key, not both.")
        if key is not None:
            req.context.platform = self.platform(key)
            req.context.actor = req.context.platform.actor()
        elif authorization is not None:
            req.context.actor, req.context.session_id = self.staff(authorization)

    def platform(self, key: str) -> Platform:
        with self.sessions() as session:
            platform = authenticate_key(session, key)
        if platform is None:
            raise Unauthorized("A valid X-Api-Key header is required.")
        wait = self.limiter.wait_time(platform.key_id, platform.rate_limit)
        if wait:
            raise RateLimited(f"Over this key's limit of {platform.rate_limit} requests per second.",
                              headers={"Retry-After": str(max(1, round(wait + 0.5)))})
        return platform

    def staff(self, authorization: str) -> tuple[Actor, str]:
        """The actor of a Bearer token, and its sign-in session."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be 'Bearer <access token>'.", headers=BEARER)
        try:
            claims = self.tokens.read(token.strip())
        except BadToken as exc:
            raise Unauthorized(f"The access token is not valid: {exc}.", headers=BEARER)
        return self.actor_of(claims), claims.session_id

    def actor_of(self, claims) -> Actor:
        """The actor of a token's claims, if its user and session are still good."""
        with self.sessions() as session:
            actor = staff_actor(session, claims.user_id, claims.session_id)
        if actor is None:
            raise Unauthorized("The session has ended; sign in again.", headers=BEARER)
        return actor


def staff(req, *roles: str) -> Actor:
    """The signed-in staff user (401 without a staff token); 403 when
    ``roles`` are given and theirs is not one of them."""
    actor = req.context.actor
    if actor is None or not actor.is_user:
        raise Unauthorized("Sign in: send 'Authorization: Bearer <access token>'.", headers=BEARER)
    if roles and actor.role not in roles:
        raise Forbidden(f"This needs the role {' or '.join(roles)}.")
    return actor


def platform(req) -> Platform:
    """The lead platform behind the request's API key (401 without one)."""
    if req.context.platform is None:
        raise Unauthorized("A valid X-Api-Key header is required.")
    return req.context.platform
