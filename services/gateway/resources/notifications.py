"""Notifications: a user's inbox (``/v1/notifications``), their preferences
and Web Push devices (``/v1/me/notification-preferences``,
``/v1/me/push-subscriptions``), and for managers and group admins the
stores' channels (robots, SMTP, webhooks: ``/v1/admin/stores/{code}/channels``,
``/v1/admin/channels/{id}``), whether urgent messages break through quiet
hours in a store (``/v1/admin/stores/{code}/notification-settings``) and
the deliveries that failed for good (``/v1/admin/deliveries``). New inbox messages reach the browser on the
live stream as ``notification`` events (``services/gateway/stream.py``).

The notifications service checks the actor and owns the rules (a user
reaches only their own inbox, preferences and devices; a manager only
their stores' channels). The gateway loads every body and query with the
contracts' schemas (``dealerflow/notification_contracts.py``) so that a
bad one is a 422 naming its fields before any service is asked, and
refuses the admin routes to consultants itself (403) as a second lock."""
import falcon
from marshmallow import ValidationError, fields, validate

from dealerflow.actor import GROUP_ADMIN, MANAGER
from dealerflow.contracts import Tolerant, schema
from dealerflow.notification_contracts import (  # noqa: F401 (named in the docstrings' OpenAPI)
    ChannelIn,
    ChannelOut,
    DeliveryOut,
    InboxPageOut,
    MarkReadIn,
    PreferencesIn,
    PreferencesOut,
    PushSubscriptionIn,
    ResendIn,
    StoreNotificationSettingsIn,
    StoreNotificationSettingsOut,
    TestResultOut,
    UnreadOut,
    VapidKeyOut,
)
from services.gateway.authn import staff
from services.gateway.errors import InvalidInput
from services.gateway.resources.auth import load_json
from services.gateway.resources.lead_actions import Passthrough

MAX_PAGE = 100
DELIVERY_STATUSES = ("pending", "sending", "sent", "dead")
# a channel's change: ChannelIn's fields, each optional and none defaulted (absent: kept)
CHANNEL_CHANGE = ChannelIn(partial=True)


class InboxQuery(Tolerant):
    """Which of the caller's messages; pages are keyset: ``cursor`` is the
    ``next_cursor`` of the page before."""
    unread = fields.Boolean(load_default=False, metadata={"description": "only the unread ones"})
    lead_id = fields.String(validate=validate.Length(min=1, max=36), metadata={"description": "about this lead"})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


class DeliveryQuery(Tolerant):
    status = fields.String(load_default="dead", validate=validate.OneOf(DELIVERY_STATUSES))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class EndpointQuery(Tolerant):
    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=1000))


def load_query(req, schema_class) -> dict:
    """The query string loaded with ``schema_class``; 422 naming each bad parameter."""
    try:
        return schema(schema_class).load(req.params)
    except ValidationError as exc:
        raise InvalidInput("The query is not valid; see errors.", errors=exc.messages)


def load_change(req) -> dict:
    """A channel's change: only the fields sent (a secret left out is kept)."""
    try:
        return CHANNEL_CHANGE.load(load_json(req, Passthrough))
    except ValidationError as exc:
        raise InvalidInput("The body is invalid; see errors.", errors=exc.messages)


def admin(req):
    """Managers (their stores) and group admins; 403 for anyone else."""
    return staff(req, MANAGER, GROUP_ADMIN)


class Resource:
    def __init__(self, clients):
        self.notifications = clients.notifications


# -- a user's own -------------------------------------------------------------------

class Inbox(Resource):
    def on_get(self, req, resp):
        """My inbox.
        ---
        summary: The caller's inbox messages, newest first, with the unread count; pass next_cursor as cursor for the next page
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: InboxQuery}
        responses:
          200:
            description: A page of messages
            content: {application/json: {schema: InboxPageOut}}
          401: {description: Not signed in}
          422: {description: A query parameter is not valid}
        """
        actor, query = staff(req), load_query(req, InboxQuery)
        resp.media = self.notifications.list_inbox(actor, query.get("lead_id"), query["unread"],
                                                   query.get("cursor"), query["limit"])


class Unread(Resource):
    def on_get(self, req, resp):
        """How many unread.
        ---
        summary: The number of the caller's unread messages (the app bar's badge)
        tags: [notifications]
        security: [{bearer: []}]
        responses:
          200:
            description: The count
            content: {application/json: {schema: UnreadOut}}
          401: {description: Not signed in}
        """
        resp.media = self.notifications.unread_count(staff(req))


class MarkRead(Resource):
    def on_post(self, req, resp):
        """Mark messages read.
        ---
        summary: Mark the caller's messages read (those named in ids; none named, all of them); answers what is left unread
        tags: [notifications]
        security: [{bearer: []}]
        requestBody:
          content: {application/json: {schema: MarkReadIn}}
        responses:
          200:
            description: The unread count now
            content: {application/json: {schema: UnreadOut}}
          401: {description: Not signed in}
          422: {description: Invalid; errors names the field}
        """
        actor = staff(req)
        resp.media = self.notifications.mark_read(actor, load_json(req, MarkReadIn).get("ids"))


class Preferences(Resource):
    def on_get(self, req, resp):
        """My notification preferences.
        ---
        summary: "The caller's preferences: language, the channels of each kind of message, quiet hours, how robots mention them"
        tags: [notifications]
        security: [{bearer: []}]
        responses:
          200:
            description: The preferences
            content: {application/json: {schema: PreferencesOut}}
          401: {description: Not signed in}
        """
        resp.media = self.notifications.get_preferences(staff(req))

    def on_put(self, req, resp):
        """Change my notification preferences.
        ---
        summary: Change the caller's preferences (the fields given; the inbox always carries every kind)
        tags: [notifications]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: PreferencesIn}}
        responses:
          200:
            description: The preferences
            content: {application/json: {schema: PreferencesOut}}
          401: {description: Not signed in}
          422: {description: Invalid; errors names each field (channels.lead_assigned, quiet_start)}
        """
        actor = staff(req)
        resp.media = self.notifications.save_preferences(actor, load_json(req, PreferencesIn))


class VapidKey(Resource):
    def on_get(self, req, resp):
        """The Web Push key.
        ---
        summary: The applicationServerKey a browser subscribes to Web Push with
        tags: [notifications]
        security: [{bearer: []}]
        responses:
          200:
            description: The key
            content: {application/json: {schema: VapidKeyOut}}
          401: {description: Not signed in}
        """
        staff(req)
        resp.media = self.notifications.vapid_public_key()


class PushSubscriptions(Resource):
    def on_post(self, req, resp):
        """Get Web Push on this device.
        ---
        summary: Keep a browser's push subscription (PushSubscription.toJSON()) for the caller; the same endpoint again replaces it
        tags: [notifications]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: PushSubscriptionIn}}
        responses:
          200: {description: '{"push_devices": n}: the caller''s subscribed devices'}
          401: {description: Not signed in}
          422: {description: Invalid; errors names each field}
        """
        actor = staff(req)
        resp.media = self.notifications.save_push_subscription(actor, load_json(req, PushSubscriptionIn))

    def on_delete(self, req, resp):
        """Stop Web Push on a device.
        ---
        summary: Forget one of the caller's push subscriptions, by its endpoint
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: EndpointQuery}
        responses:
          200: {description: '{"push_devices": n}: the caller''s subscribed devices left'}
          401: {description: Not signed in}
          422: {description: No endpoint}
        """
        actor = staff(req)
        resp.media = self.notifications.delete_push_subscription(actor, load_query(req, EndpointQuery)["endpoint"])


# -- stores' channels and failed deliveries (managers, group admins) ----------------

class StoreChannels(Resource):
    def on_get(self, req, resp, code):
        """A store's channels.
        ---
        summary: "A store's channels (robots, SMTP, webhooks) with their state: circuit, last answer; secrets never shown"
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: code, required: true, schema: {type: string}}
        responses:
          200:
            description: The channels
            content: {application/json: {schema: {type: array, items: ChannelOut}}}
          401: {description: Not signed in}
          403: {description: Not a manager or group admin}
          404: {description: Not one of the caller's stores}
        """
        resp.media = self.notifications.list_channels(admin(req), code)

    def on_post(self, req, resp, code):
        """Add a channel to a store.
        ---
        summary: A WeCom, DingTalk or Feishu robot, an SMTP server or a signed webhook for a store; its secret is stored encrypted
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: code, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: ChannelIn}}
        responses:
          201:
            description: The channel
            content: {application/json: {schema: ChannelOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store or a group admin}
          404: {description: Not one of the caller's stores}
          422: {description: Invalid; errors names each field}
        """
        actor = admin(req)
        resp.status = falcon.HTTP_201
        resp.media = self.notifications.create_channel(actor, code, load_json(req, ChannelIn))


class StoreSettings(Resource):
    def on_get(self, req, resp, code):
        """A store's notification settings.
        ---
        summary: Whether escalations and SLA warnings break through people's quiet hours in a store
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: code, required: true, schema: {type: string}}
        responses:
          200:
            description: The settings
            content: {application/json: {schema: StoreNotificationSettingsOut}}
          401: {description: Not signed in}
          403: {description: Not a manager or group admin}
          404: {description: Not one of the caller's stores}
        """
        resp.media = self.notifications.get_store_settings(admin(req), code)

    def on_put(self, req, resp, code):
        """Change a store's notification settings.
        ---
        summary: Let escalations and SLA warnings break through quiet hours in a store, or make them wait
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: code, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: StoreNotificationSettingsIn}}
        responses:
          200:
            description: The settings
            content: {application/json: {schema: StoreNotificationSettingsOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store or a group admin}
          404: {description: Not one of the caller's stores}
          422: {description: Invalid; errors names the field}
        """
        actor = admin(req)
        resp.media = self.notifications.save_store_settings(actor, code, load_json(req, StoreNotificationSettingsIn))


class Channel(Resource):
    def on_patch(self, req, resp, channel_id):
        """Change a channel.
        ---
        summary: Change a channel (the fields given; a secret left out is kept, null clears it)
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: channel_id, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: ChannelIn}}
        responses:
          200:
            description: The channel
            content: {application/json: {schema: ChannelOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of its store or a group admin}
          404: {description: No such channel of the caller's stores}
          422: {description: Invalid; errors names each field}
        """
        actor = admin(req)
        resp.media = self.notifications.update_channel(actor, channel_id, load_change(req))

    def on_delete(self, req, resp, channel_id):
        """Delete a channel.
        ---
        summary: Delete a channel (its failed deliveries stay listed)
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: channel_id, required: true, schema: {type: string}}
        responses:
          204: {description: Deleted}
          401: {description: Not signed in}
          403: {description: Not a manager of its store or a group admin}
          404: {description: No such channel of the caller's stores}
        """
        self.notifications.delete_channel(admin(req), channel_id)
        resp.status = falcon.HTTP_204


class ChannelTest(Resource):
    def on_post(self, req, resp, channel_id):
        """Send a test message.
        ---
        summary: Send a test message through the channel now and answer what it said (a robot's errcode, an SMTP reply, a webhook's status)
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: channel_id, required: true, schema: {type: string}}
        responses:
          200:
            description: The channel's answer (ok false when it refused or could not be reached)
            content: {application/json: {schema: TestResultOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of its store or a group admin}
          404: {description: No such channel of the caller's stores}
        """
        resp.media = self.notifications.test_channel(admin(req), channel_id)


class Deliveries(Resource):
    def on_get(self, req, resp):
        """Deliveries, the failed ones by default.
        ---
        summary: Deliveries of the caller's stores by status (dead by default, newest first), to see and resend
        tags: [notifications]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: DeliveryQuery}
        responses:
          200:
            description: The deliveries
            content: {application/json: {schema: {type: array, items: DeliveryOut}}}
          401: {description: Not signed in}
          403: {description: Not a manager or group admin}
          404: {description: Not one of the caller's stores}
          422: {description: A query parameter is not valid}
        """
        actor, query = admin(req), load_query(req, DeliveryQuery)
        resp.media = self.notifications.list_deliveries(actor, query.get("store_code"), query["status"],
                                                        query["limit"])


class Resend(Resource):
    def on_post(self, req, resp):
        """Resend failed deliveries.
        ---
        summary: Send dead deliveries again (their attempts start over); answers how many were queued
        tags: [notifications]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: ResendIn}}
        responses:
          200: {description: '{"resent": n}'}
          401: {description: Not signed in}
          403: {description: Not a manager or group admin}
          422: {description: Invalid; errors names the field}
        """
        actor = admin(req)
        resp.media = self.notifications.resend(actor, load_json(req, ResendIn)["ids"])


def add_routes(app, gateway) -> None:
    clients = gateway.clients
    app.add_route("/v1/notifications", Inbox(clients))
    app.add_route("/v1/notifications/unread", Unread(clients))
    app.add_route("/v1/notifications/read", MarkRead(clients))
    app.add_route("/v1/notifications/vapid-key", VapidKey(clients))
    app.add_route("/v1/me/notification-preferences", Preferences(clients))
    app.add_route("/v1/me/push-subscriptions", PushSubscriptions(clients))
    app.add_route("/v1/admin/stores/{code}/channels", StoreChannels(clients))
    app.add_route("/v1/admin/stores/{code}/notification-settings", StoreSettings(clients))
    app.add_route("/v1/admin/channels/{channel_id}", Channel(clients))
    app.add_route("/v1/admin/channels/{channel_id}/test", ChannelTest(clients))
    app.add_route("/v1/admin/deliveries", Deliveries(clients))
    app.add_route("/v1/admin/deliveries/resend", Resend(clients))
