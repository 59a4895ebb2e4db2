"""``/v1/auth/...``: staff sign-in, token refresh, sign-out, password change.

See ``services/gateway/auth.py`` for sessions, refresh-token rotation and the
sign-in lockout, ``tokens.py`` for access tokens.
"""
import falcon
from marshmallow import Schema, ValidationError, fields, validate

from dealerflow import config
from dealerflow.contracts import schema
from dealerflow.db import utcnow
from services.gateway import auth
from services.gateway.authn import staff
from services.gateway.errors import BadRequest, InvalidInput, RateLimited, Unauthorized
from services.gateway.org import MAX_PASSWORD, OrgError, set_password, user_of
from services.gateway.storable import TooDeep, unstorable
from services.gateway.tokens import Tokens

CREDENTIAL = validate.Length(min=1, max=MAX_PASSWORD)


def load_json(req, schema_class) -> dict:
    """The JSON body loaded with ``schema_class``; 422 naming each bad field,
    a value no database could store (NUL, a lone surrogate) included."""
    try:
        document = req.get_media(default_when_empty={})
        problems = unstorable(document)
    except (TooDeep, RecursionError):
        raise BadRequest("The JSON body nests too deeply.")
    if problems:
        raise InvalidInput("The body holds values that cannot be stored; see errors.", errors=problems)
    try:
        return schema(schema_class).load(document)
    except ValidationError as exc:
        raise InvalidInput("The body is invalid; see errors.", errors=exc.messages)


def invalid(exc: OrgError) -> InvalidInput:
    """The 422 for an organisation rule the input broke."""
    return InvalidInput(str(exc), errors={exc.field or "_schema": [str(exc)]})


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=CREDENTIAL)


class TokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    refresh_token = fields.String(required=True)
    refresh_expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class RefreshRequest(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChange(Schema):
    current_password = fields.String(required=True, validate=CREDENTIAL)
    new_password = fields.String(required=True, validate=CREDENTIAL)


class SignIn:
    """Sign-in and refresh answer the same token pair."""

    def __init__(self, sessions, tokens: Tokens, offload=None):
        self.sessions, self.tokens = sessions, tokens
        self.offload = offload or auth.inline

    def answer(self, resp, user_id: str, session_id: str, refresh_token: str) -> None:
        resp.media = schema(TokenOut).dump({
            "access_token": self.tokens.issue(user_id, session_id), "token_type": "Bearer",
            "expires_in": int(self.tokens.lifetime.total_seconds()),
            "refresh_token": refresh_token,
            "refresh_expires_in": int(config.refresh_token_lifetime().total_seconds())})
        resp.set_header("Cache-Control", "no-store")


class Token(SignIn):
    def on_post(self, req, resp):
        """Sign in.
        ---
        summary: Sign in with a username and password
        description: >-
          Answers an access token (send it as `Authorization: Bearer ...`) and a
          refresh token. Five failed sign-ins in a row lock the username for 30 s,
          doubling with each further failure up to 15 minutes (429).
        requestBody:
          required: true
          content:
            application/json:
              schema: TokenRequest
        responses:
          200:
            description: Signed in
            content:
              application/json:
                schema: TokenOut
          401:
            description: Wrong username or password
          422:
            description: The body is invalid
          429:
            description: The username is locked for a while; see Retry-After
        """
        body, now = load_json(req, TokenRequest), utcnow()
        with self.sessions() as session:
            try:
                user = auth.check_password(session, body["username"], body["password"], now,
                                           self.offload)
            except auth.Locked as locked:
                raise RateLimited("Too many failed sign-ins for this username; try again later.",
                                  headers={"Retry-After": str(locked.seconds)})
            session_id, refresh_token = auth.start_session(session, user, now) if user else (None, None)
            session.commit()
        if user is None:
            raise Unauthorized("Wrong username or password.")
        self.answer(resp, user.id, session_id, refresh_token)


class Refresh(SignIn):
    def on_post(self, req, resp):
        """Refresh.
        ---
        summary: Trade a refresh token for a new token pair
        description: >-
          Each refresh token works once. Using one a second time ends its whole
          session: every token of that sign-in stops working.
        requestBody:
          required: true
          content:
            application/json:
              schema: RefreshRequest
        responses:
          200:
            description: A new access token and refresh token
            content:
              application/json:
                schema: TokenOut
          401:
            description: Unknown, expired or already used refresh token, or ended session
          422:
            description: The body is invalid
        """
        body = load_json(req, RefreshRequest)
        with self.sessions() as session:
            rotated = auth.rotate(session, body["refresh_token"], utcnow())
            session.commit()
        if rotated is None:
            raise Unauthorized("The refresh token is not valid; sign in again.")
        self.answer(resp, *rotated)


class Logout:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_post(self, req, resp):
        """Sign out.
        ---
        summary: End the session of a refresh token
        description: >-
          The session's refresh token and every access token issued in it stop
          working at once. An unknown token is ignored.
        requestBody:
          required: true
          content:
            application/json:
              schema: RefreshRequest
        responses:
          204:
            description: Signed out
          422:
            description: The body is invalid
        """
        body = load_json(req, RefreshRequest)
        with self.sessions() as session:
            auth.end_session_of(session, body["refresh_token"], utcnow())
            session.commit()
        resp.status = falcon.HTTP_204


class Password:
    def __init__(self, sessions, offload=None):
        self.sessions, self.offload = sessions, offload or auth.inline

    def on_post(self, req, resp):
        """Change my password.
        ---
        summary: Change the signed-in user's password
        description: >-
          Every session of the user ends, this one included: sign in again with
          the new password. A wrong current password counts as a failed sign-in.
        security: [{bearer: []}]
        requestBody:
          required: true
          content:
            application/json:
              schema: PasswordChange
        responses:
          204:
            description: Changed; sign in again
          401:
            description: Not signed in
          422:
            description: The current password is wrong, or the new one too short
          429:
            description: Locked after too many failures; see Retry-After
        """
        actor = staff(req)
        body, now = load_json(req, PasswordChange), utcnow()
        with self.sessions() as session:
            try:
                user = auth.check_password(session, user_of(session, actor.user_id).username, body["current_password"], now,
                                           self.offload)
            except auth.Locked as locked:
                raise RateLimited("Too many failed attempts; try again later.",
                                  headers={"Retry-After": str(locked.seconds)})
            if user is None:
                session.commit()
                raise InvalidInput("The current password is wrong.",
                                   errors={"current_password": ["Wrong password."]})
            try:
                set_password(session, user.id, body["new_password"], by=user.id)
            except OrgError as exc:
                raise InvalidInput(str(exc), errors={"new_password": [str(exc)]})
            session.commit()
        resp.status = falcon.HTTP_204


def add_routes(app, gateway) -> None:
    tokens = Tokens()
    app.add_route("/v1/auth/token", Token(gateway.sessions, tokens, gateway.offload))
    app.add_route("/v1/auth/refresh", Refresh(gateway.sessions, tokens))
    app.add_route("/v1/auth/logout", Logout(gateway.sessions))
    app.add_route("/v1/auth/password", Password(gateway.sessions, gateway.offload))
