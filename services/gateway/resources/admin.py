"""``/v1/admin/...``: stores, teams, users, API keys and the audit log.

Group admins manage everything. A manager may list the users and teams of
their stores and change the shift, leave, daily capacity and active flag of
the consultants in their stores; nothing else. Consultants and API keys
have no access. Every change goes through ``org`` (the same rules as the
command line), is audited and, for stores and users, announced. Lists page
by key: ``{"items": [...], "next_cursor": ...}``; pass ``cursor`` back for
the next page. The audit log has no route that edits or deletes it.
"""
from contextlib import contextmanager

import falcon
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from dealerflow.actor import CONSULTANT, GROUP_ADMIN, MANAGER, ROLES
from dealerflow.contracts import schema
from dealerflow.db import UTCDateTime
from dealerflow.paging import BadCursor, keyset_page
from services.gateway import org
from services.gateway.authn import staff
from services.gateway.errors import Forbidden, InvalidInput, NotFound
from services.gateway.models import ApiKey, AuditEntry, Store, Team, User, UserStore
from services.gateway.resources.auth import invalid, load_json

MAX_PAGE = 200
MANAGER_MAY_CHANGE = frozenset({"shift", "leave", "daily_capacity", "active"})
WEEKLY_HOURS = {"description": 'local hours per weekday, e.g. {"mon": ["09:00-12:00", '
                               '"13:00-18:00"]}; a missing day is off',
                "example": {"mon": ["09:00-18:00"], "sat": ["10:00-16:00"]}}


def weekly_hours(**kwargs):
    return fields.Dict(keys=fields.String(validate=validate.OneOf(org.DAYS)),
                       values=fields.List(fields.String()), metadata=WEEKLY_HOURS, **kwargs)


# -- schemas -------------------------------------------------------------------

class ListQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(validate=validate.Length(max=500),
                           metadata={"description": "next_cursor of the page before"})


class StoreChange(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    timezone = fields.String(metadata={"example": "Asia/Shanghai"})
    country = fields.String(metadata={"example": "CN", "description": (
        "ISO 3166 alpha-2 (default CN): a phone a lead gives without a country code is read "
        "in this country's numbering plan, unless the lead's address names another")})
    response_minutes = fields.Integer(metadata={"description": "first-contact deadline, 1-1440"})
    business_hours = weekly_hours()
    holidays = fields.List(fields.String(metadata={"format": "date"}))
    active = fields.Boolean()


class StoreIn(StoreChange):
    code = fields.String(required=True, metadata={"example": "SH-PUDONG"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StoreOut(Schema):
    code = fields.String()
    name = fields.String()
    timezone = fields.String()
    country = fields.String()
    response_minutes = fields.Integer()
    business_hours = weekly_hours()
    holidays = fields.List(fields.String(metadata={"format": "date"}))
    active = fields.Boolean()
    revision = fields.Integer()
    created_at = fields.AwareDateTime()


class TeamChange(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    store_code = fields.String()
    leader_id = fields.String(allow_none=True)


class TeamIn(TeamChange):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    store_code = fields.String(required=True)


class TeamOut(Schema):
    id = fields.String()
    name = fields.String()
    store_code = fields.String()
    leader_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class LeavePeriod(Schema):
    start = fields.String(required=True, metadata={"format": "date"})
    end = fields.String(required=True, metadata={"format": "date", "description": "included"})


class UserChange(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.String(allow_none=True)
    role = fields.String(validate=validate.OneOf(ROLES))
    stores = fields.List(fields.String())
    team_id = fields.String(allow_none=True)
    languages = fields.List(fields.String(), metadata={"example": ["zh", "en"]})
    shift = weekly_hours()
    leave = fields.List(fields.Nested(LeavePeriod))
    daily_capacity = fields.Integer(metadata={"description": "new leads a day at most, 0-1000"})
    active = fields.Boolean()


class UserIn(UserChange):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=org.MAX_PASSWORD))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    stores = fields.List(fields.String(), load_default=list)


class UserOut(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    role = fields.String()
    stores = fields.List(fields.String())
    team_id = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    shift = weekly_hours()
    leave = fields.List(fields.Nested(LeavePeriod))
    daily_capacity = fields.Integer()
    active = fields.Boolean()
    revision = fields.Integer()
    created_at = fields.AwareDateTime()


class UserQuery(ListQuery):
    store = fields.String(metadata={"description": "users of this store"})
    role = fields.String(validate=validate.OneOf(ROLES))
    team_id = fields.String()
    active = fields.Boolean()


class PasswordReset(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=org.MAX_PASSWORD))


class ApiKeyIn(Schema):
    platform = fields.String(required=True, metadata={"example": "autohome"})
    stores = fields.List(fields.String(), required=True)
    rate_limit = fields.Integer(load_default=100,
                                metadata={"description": "requests per second; 0 for none"})


class ApiKeyOut(Schema):
    id = fields.String()
    prefix = fields.String()
    platform = fields.String()
    stores = fields.List(fields.String())
    rate_limit = fields.Integer()
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class ApiKeyCreated(ApiKeyOut):
    key = fields.String(metadata={"description": "the key itself, shown this once"})


class AuditQuery(ListQuery):
    target = fields.String(metadata={"example": "user:6f1c...", "description": "store:CODE, "
                                     "team:ID, user:ID or api_key:ID"})
    since = fields.AwareDateTime(metadata={"description": "entries at or after"})
    until = fields.AwareDateTime(metadata={"description": "entries before"})


class AuditEntryOut(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    who = fields.String(metadata={"description": "a user id, cli:<login> or seed-demo"})
    action = fields.String(metadata={"example": "user.update"})
    target = fields.String(metadata={"example": "store:SH-PUDONG"})
    details = fields.Dict(metadata={"description": "the values set (never a password)"})


class PageOut(Schema):
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "pass as cursor for the next page; "
                                                         "null on the last"})


class StorePageOut(PageOut):
    items = fields.List(fields.Nested(StoreOut), required=True)


class TeamPageOut(PageOut):
    items = fields.List(fields.Nested(TeamOut), required=True)


class UserPageOut(PageOut):
    items = fields.List(fields.Nested(UserOut), required=True)


class ApiKeyPageOut(PageOut):
    items = fields.List(fields.Nested(ApiKeyOut), required=True)


class AuditPageOut(PageOut):
    items = fields.List(fields.Nested(AuditEntryOut), required=True)


# -- helpers -------------------------------------------------------------------

def load_query(req, schema_class) -> dict:
    try:
        return schema(schema_class).load(req.params)
    except ValidationError as exc:
        raise InvalidInput("The query is invalid; see errors.", errors=exc.messages)


def page(session, query, column, id_column, params: dict, out, descending: bool = False) -> dict:
    """One page of ``query`` in ``(column, id)`` order (``dealerflow.paging``)."""
    try:
        rows, next_cursor = keyset_page(session, query, column, id_column, descending,
                                        params["limit"], params.get("cursor"),
                                        is_time=isinstance(column.type, UTCDateTime))
    except BadCursor as exc:
        raise InvalidInput(str(exc), errors={"cursor": [str(exc)]})
    return {"items": schema(out, many=True).dump(rows), "next_cursor": next_cursor}


@contextmanager
def changing(sessions):
    """A session for an organisation change, committed when it is done;
    404 for a target that does not exist, 422 for a rule the input broke."""
    with sessions() as session:
        try:
            yield session
        except org.Unknown as exc:
            raise NotFound(str(exc))
        except org.OrgError as exc:
            raise invalid(exc)
        session.commit()


def scoped_users(actor):
    """The users an actor may see: all for a group admin, else those of their stores."""
    query = select(User)
    if actor.role != GROUP_ADMIN:
        query = query.where(User.store_links.any(UserStore.store_code.in_(actor.stores)))
    return query


def scoped_teams(actor):
    query = select(Team)
    if actor.role != GROUP_ADMIN:
        query = query.where(Team.store_code.in_(actor.stores))
    return query


def found(row, what: str):
    if row is None:
        raise NotFound(f"No {what}.")
    return row


# -- stores --------------------------------------------------------------------

class Stores:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """List stores.
        ---
        summary: Every store of the group, by code
        security: [{bearer: []}]
        parameters: [{in: query, schema: ListQuery}]
        responses:
          200: {description: A page of stores, content: {application/json: {schema: StorePageOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
        """
        staff(req, GROUP_ADMIN)
        params = load_query(req, ListQuery)
        with self.sessions() as session:
            resp.media = page(session, select(Store), Store.code, Store.code, params, StoreOut)

    def on_post(self, req, resp):
        """Create a store.
        ---
        summary: Create a store (announced as store_saved)
        security: [{bearer: []}]
        requestBody: {required: true, content: {application/json: {schema: StoreIn}}}
        responses:
          201: {description: Created, content: {application/json: {schema: StoreOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, StoreIn)
        with changing(self.sessions) as session:
            store = org.create_store(session, by=actor.user_id, **body)
        resp.status, resp.media = falcon.HTTP_201, schema(StoreOut).dump(store)


class StoreItem:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp, code):
        """A store.
        ---
        summary: One store
        security: [{bearer: []}]
        parameters: [{name: code, in: path, required: true, schema: {type: string}}]
        responses:
          200: {description: The store, content: {application/json: {schema: StoreOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          404: {description: No such store}
        """
        staff(req, GROUP_ADMIN)
        with self.sessions() as session:
            resp.media = schema(StoreOut).dump(found(session.get(Store, code), f"store {code}"))

    def on_patch(self, req, resp, code):
        """Change a store.
        ---
        summary: Change a store's name, time zone, deadline, hours, holidays or active flag
        security: [{bearer: []}]
        parameters: [{name: code, in: path, required: true, schema: {type: string}}]
        requestBody: {required: true, content: {application/json: {schema: StoreChange}}}
        responses:
          200: {description: Changed, content: {application/json: {schema: StoreOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          404: {description: No such store}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, StoreChange)
        with changing(self.sessions) as session:
            store = org.update_store(session, code, body, actor.user_id)
        resp.media = schema(StoreOut).dump(store)


# -- teams ---------------------------------------------------------------------

class Teams:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """List teams.
        ---
        summary: Teams, by name (a manager sees those of their stores)
        security: [{bearer: []}]
        parameters: [{in: query, schema: ListQuery}]
        responses:
          200: {description: A page of teams, content: {application/json: {schema: TeamPageOut}}}
          401: {description: Not signed in}
          403: {description: A consultant}
        """
        actor = staff(req, GROUP_ADMIN, MANAGER)
        params = load_query(req, ListQuery)
        with self.sessions() as session:
            resp.media = page(session, scoped_teams(actor), Team.name, Team.id, params, TeamOut)

    def on_post(self, req, resp):
        """Create a team.
        ---
        summary: Create a team of a store
        security: [{bearer: []}]
        requestBody: {required: true, content: {application/json: {schema: TeamIn}}}
        responses:
          201: {description: Created, content: {application/json: {schema: TeamOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, TeamIn)
        with changing(self.sessions) as session:
            team = org.create_team(session, by=actor.user_id, **body)
        resp.status, resp.media = falcon.HTTP_201, schema(TeamOut).dump(team)


class TeamItem:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp, team_id):
        """A team.
        ---
        summary: One team
        security: [{bearer: []}]
        parameters: [{name: team_id, in: path, required: true, schema: {type: string}}]
        responses:
          200: {description: The team, content: {application/json: {schema: TeamOut}}}
          401: {description: Not signed in}
          403: {description: A consultant}
          404: {description: No such team (or not of the manager's stores)}
        """
        actor = staff(req, GROUP_ADMIN, MANAGER)
        with self.sessions() as session:
            team = session.scalar(scoped_teams(actor).where(Team.id == team_id))
            resp.media = schema(TeamOut).dump(found(team, f"team {team_id}"))

    def on_patch(self, req, resp, team_id):
        """Change a team.
        ---
        summary: Rename a team, move it to another store or change its leader
        security: [{bearer: []}]
        parameters: [{name: team_id, in: path, required: true, schema: {type: string}}]
        requestBody: {required: true, content: {application/json: {schema: TeamChange}}}
        responses:
          200: {description: Changed, content: {application/json: {schema: TeamOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          404: {description: No such team}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, TeamChange)
        with changing(self.sessions) as session:
            team = org.update_team(session, team_id, body, actor.user_id)
        resp.media = schema(TeamOut).dump(team)


# -- users ---------------------------------------------------------------------

class Users:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """List users.
        ---
        summary: Users, by username (a manager sees those of their stores)
        security: [{bearer: []}]
        parameters: [{in: query, schema: UserQuery}]
        responses:
          200: {description: A page of users, content: {application/json: {schema: UserPageOut}}}
          401: {description: Not signed in}
          403: {description: A consultant}
          422: {description: A bad query parameter}
        """
        actor = staff(req, GROUP_ADMIN, MANAGER)
        params = load_query(req, UserQuery)
        query = scoped_users(actor)
        if "store" in params:
            query = query.where(User.store_links.any(UserStore.store_code == params["store"]))
        for name in ("role", "team_id", "active"):
            if name in params:
                query = query.where(getattr(User, name) == params[name])
        with self.sessions() as session:
            resp.media = page(session, query, User.username, User.id, params, UserOut)

    def on_post(self, req, resp):
        """Create a user.
        ---
        summary: Create a staff user (announced as user_saved)
        security: [{bearer: []}]
        requestBody: {required: true, content: {application/json: {schema: UserIn}}}
        responses:
          201: {description: Created, content: {application/json: {schema: UserOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, UserIn)
        with changing(self.sessions) as session:
            user = org.create_user(session, by=actor.user_id, **body)
        resp.status, resp.media = falcon.HTTP_201, schema(UserOut).dump(user)


class UserItem:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp, user_id):
        """A user.
        ---
        summary: One user
        security: [{bearer: []}]
        parameters: [{name: user_id, in: path, required: true, schema: {type: string}}]
        responses:
          200: {description: The user, content: {application/json: {schema: UserOut}}}
          401: {description: Not signed in}
          403: {description: A consultant}
          404: {description: No such user (or not of the manager's stores)}
        """
        actor = staff(req, GROUP_ADMIN, MANAGER)
        with self.sessions() as session:
            user = session.scalar(scoped_users(actor).where(User.id == user_id))
            resp.media = schema(UserOut).dump(found(user, f"user {user_id}"))

    def on_patch(self, req, resp, user_id):
        """Change a user.
        ---
        summary: Change a user (announced as user_saved)
        description: >-
          A group admin may change any field. A manager may change only shift,
          leave, daily_capacity and active, of consultants of their stores.
          Deactivating a user ends their sessions at once.
        security: [{bearer: []}]
        parameters: [{name: user_id, in: path, required: true, schema: {type: string}}]
        requestBody: {required: true, content: {application/json: {schema: UserChange}}}
        responses:
          200: {description: Changed, content: {application/json: {schema: UserOut}}}
          401: {description: Not signed in}
          403: {description: Not allowed to change this user or these fields}
          404: {description: No such user (or not of the manager's stores)}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN, MANAGER)
        body = load_json(req, UserChange)
        with changing(self.sessions) as session:
            user = found(session.scalar(scoped_users(actor).where(User.id == user_id)),
                         f"user {user_id}")
            if actor.role == MANAGER and (user.role != CONSULTANT or set(body) - MANAGER_MAY_CHANGE):
                raise Forbidden("A manager may change only the shift, leave, daily capacity "
                                "and active flag of consultants of their stores.")
            user = org.update_user(session, user_id, body, actor.user_id)
        resp.media = schema(UserOut).dump(user)


class UserPassword:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_post(self, req, resp, user_id):
        """Reset a user's password.
        ---
        summary: Set a new password for a user; their sessions end at once
        security: [{bearer: []}]
        parameters: [{name: user_id, in: path, required: true, schema: {type: string}}]
        requestBody: {required: true, content: {application/json: {schema: PasswordReset}}}
        responses:
          204: {description: Reset}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          404: {description: No such user}
          422: {description: The password is too short}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, PasswordReset)
        with changing(self.sessions) as session:
            org.set_password(session, user_id, body["password"], actor.user_id)
        resp.status = falcon.HTTP_204


# -- API keys ------------------------------------------------------------------

class ApiKeys:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """List API keys.
        ---
        summary: Every API key, revoked ones included, oldest first (never the keys themselves)
        security: [{bearer: []}]
        parameters: [{in: query, schema: ListQuery}]
        responses:
          200: {description: A page of keys, content: {application/json: {schema: ApiKeyPageOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
        """
        staff(req, GROUP_ADMIN)
        params = load_query(req, ListQuery)
        with self.sessions() as session:
            resp.media = page(session, select(ApiKey), ApiKey.created_at, ApiKey.id, params,
                              ApiKeyOut)

    def on_post(self, req, resp):
        """Create an API key.
        ---
        summary: Create a lead platform's API key; the key is in this answer only
        security: [{bearer: []}]
        requestBody: {required: true, content: {application/json: {schema: ApiKeyIn}}}
        responses:
          201: {description: Created, content: {application/json: {schema: ApiKeyCreated}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          422: {description: Invalid; errors names each bad field}
        """
        actor = staff(req, GROUP_ADMIN)
        body = load_json(req, ApiKeyIn)
        with changing(self.sessions) as session:
            row, key = org.create_api_key(session, body["stores"], body["platform"],
                                          body["rate_limit"], by=actor.user_id)
        resp.status = falcon.HTTP_201
        resp.media = dict(schema(ApiKeyCreated).dump(row), key=key)
        resp.set_header("Cache-Control", "no-store")


class ApiKeyItem:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_delete(self, req, resp, key_id):
        """Revoke an API key.
        ---
        summary: Revoke an API key; it is refused from now on (the record stays, revoked)
        security: [{bearer: []}]
        parameters: [{name: key_id, in: path, required: true, schema: {type: string}}]
        responses:
          204: {description: Revoked}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          404: {description: No such key}
        """
        actor = staff(req, GROUP_ADMIN)
        with changing(self.sessions) as session:
            found(session.get(ApiKey, key_id), f"API key {key_id}")
            org.revoke_api_key(session, key_id, by=actor.user_id)
        resp.status = falcon.HTTP_204


# -- the audit log ---------------------------------------------------------------

class Audit:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """The audit log.
        ---
        summary: Who changed what in the organisation, newest first
        security: [{bearer: []}]
        parameters: [{in: query, schema: AuditQuery}]
        responses:
          200: {description: A page of entries, content: {application/json: {schema: AuditPageOut}}}
          401: {description: Not signed in}
          403: {description: Not a group admin}
          422: {description: A bad query parameter}
        """
        staff(req, GROUP_ADMIN)
        params = load_query(req, AuditQuery)
        query = select(AuditEntry)
        if "target" in params:
            query = query.where(AuditEntry.target == params["target"])
        if "since" in params:
            query = query.where(AuditEntry.at >= params["since"])
        if "until" in params:
            query = query.where(AuditEntry.at < params["until"])
        with self.sessions() as session:
            resp.media = page(session, query, AuditEntry.at, AuditEntry.id, params,
                              AuditEntryOut, descending=True)


def add_routes(app, gateway) -> None:
    sessions = gateway.sessions
    app.add_route("/v1/admin/stores", Stores(sessions))
    app.add_route("/v1/admin/stores/{code}", StoreItem(sessions))
    app.add_route("/v1/admin/teams", Teams(sessions))
    app.add_route("/v1/admin/teams/{team_id}", TeamItem(sessions))
    app.add_route("/v1/admin/users", Users(sessions))
    app.add_route("/v1/admin/users/{user_id}", UserItem(sessions))
    app.add_route("/v1/admin/users/{user_id}/password", UserPassword(sessions))
    app.add_route("/v1/admin/api-keys", ApiKeys(sessions))
    app.add_route("/v1/admin/api-keys/{key_id}", ApiKeyItem(sessions))
    app.add_route("/v1/admin/audit", Audit(sessions))
