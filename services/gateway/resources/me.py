"""``/v1/me``: the signed-in user, their role, team and stores; and
``/v1/me/colleagues``: the people they work with in one of their stores
(whom they can mention on a lead or hand a lead to)."""
from marshmallow import Schema, fields
from sqlalchemy import select

from dealerflow.contracts import schema
from services.gateway.authn import staff
from services.gateway.errors import InvalidInput
from services.gateway.models import Store, User, UserStore


class TeamRef(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class StoreRef(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)


class MeOut(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    language = fields.String(required=True, metadata={"description": "the UI's language: "
                                                                     "the first of the user's"})
    team = fields.Nested(TeamRef, allow_none=True, required=True)
    stores = fields.List(fields.Nested(StoreRef), required=True,
                         metadata={"description": "the stores the user acts in"})


class Me:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """Who am I.
        ---
        summary: The signed-in user, their role, team and stores
        description: A group admin's stores are every active store of the group.
        security: [{bearer: []}]
        responses:
          200:
            description: The signed-in user
            content:
              application/json:
                schema: MeOut
          401:
            description: Not signed in
        """
        actor = staff(req)
        with self.sessions() as session:
            user = session.get(User, actor.user_id)
            stores = session.scalars(select(Store).where(Store.code.in_(actor.stores))
                                     .order_by(Store.code)).all()
            resp.media = schema(MeOut).dump({
                "id": user.id, "username": user.username, "display_name": user.display_name,
                "role": user.role, "language": user.languages[0], "team": user.team,
                "stores": stores})


class ColleagueOut(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)


class ColleaguePage(Schema):
    items = fields.List(fields.Nested(ColleagueOut), required=True)


class Colleagues:
    def __init__(self, sessions):
        self.sessions = sessions

    def on_get(self, req, resp):
        """The people of one of my stores.
        ---
        summary: The active consultants and managers of one of the caller's stores, by name
        security: [{bearer: []}]
        parameters:
          - {in: query, name: store_code, required: true, schema: {type: string}}
        responses:
          200:
            description: The store's staff
            content: {application/json: {schema: ColleaguePage}}
          401: {description: Not signed in}
          422: {description: No store_code, or not one of the caller's stores}
        """
        actor, store_code = staff(req), req.get_param("store_code")
        if store_code not in actor.stores:
            raise InvalidInput("store_code is one of your stores.", errors={"store_code": ["not one of yours"]})
        with self.sessions() as session:
            people = session.scalars(select(User).join(UserStore).where(
                UserStore.store_code == store_code, User.active.is_(True)).order_by(User.display_name)).all()
            resp.media = schema(ColleaguePage).dump({"items": people})


def add_routes(app, gateway) -> None:
    app.add_route("/v1/me", Me(gateway.sessions))
    app.add_route("/v1/me/colleagues", Colleagues(gateway.sessions))
