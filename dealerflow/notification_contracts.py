"""What staff and admins send the notifications service and what it answers
(through the gateway, which documents its API with these schemas).

Words used throughout:
- a *kind* is what a message is about (``KINDS``); a user chooses, per kind,
  the *channels* that reach them (``USER_CHANNELS``);
- a *store channel* is a destination an admin configures for a store
  (``STORE_CHANNEL_TYPES``): a group robot the store's people are in, the
  store's SMTP server, or a webhook; secrets are written, never read back;
- a *delivery* is one message on its way through one channel to one
  recipient; ``dedupe_key`` makes it exist once however often the event
  behind it is delivered.
"""
from marshmallow import Schema, fields, validate

from dealerflow.contracts import Tolerant

# what a message is about (a preference is set per kind)
KINDS = (
    "lead_assigned",   # a new lead is yours: the response clock and a link to it
    "lead_rerouted",   # a lead came to you (or left you) because it was not called in time
    "sla_warning",     # your first-contact deadline is near
    "escalation",      # to managers: an SLA breach, a lead escalated, a follow-up overdue
    "reminder",        # a follow-up task is due soon
    "loss_approval",   # to managers: a lost lead awaits approval
    "test_drive",      # a test drive was booked, or is coming up
    "daily_digest",    # to managers: yesterday and today for their stores
    "lead_update",     # anything else about a lead you follow (comments, mentions, stage, won, lost)
)
# the kinds that may break through a user's quiet hours when the store allows it
URGENT_KINDS = ("escalation", "sla_warning")

# how a user is reached: the in-app inbox (always on), Web Push to their
# installed app, email to their address, the store's group robots (WeCom,
# DingTalk, Feishu) mentioning them
USER_CHANNELS = ("inapp", "webpush", "email", "robot")
ROBOT_TYPES = ("wecom", "dingtalk", "feishu")
STORE_CHANNEL_TYPES = (*ROBOT_TYPES, "email", "webhook")
LANGUAGES = ("zh", "en")
HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time of day as HH:MM")


# -- the in-app inbox -------------------------------------------------------------

class InboxMessageOut(Schema):
    id = fields.String()
    user_id = fields.String()
    kind = fields.String(metadata={"description": "one of KINDS (older messages: the lead change's name)"})
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True, metadata={"description": "the app's path to open, e.g. /leads/{id}"})
    lead_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class InboxPageOut(Schema):
    items = fields.List(fields.Nested(InboxMessageOut))
    unread = fields.Integer(metadata={"description": "the caller's unread messages, all of them"})
    next_cursor = fields.String(allow_none=True)


class MarkReadIn(Tolerant):
    ids = fields.List(fields.String(validate=validate.Length(max=36)), allow_none=True,
                      validate=validate.Length(max=500),
                      metadata={"description": "the messages read; none or absent: all of the caller's"})


class UnreadOut(Schema):
    unread = fields.Integer()


# -- a user's preferences -----------------------------------------------------------

class PreferencesIn(Tolerant):
    language = fields.String(validate=validate.OneOf(LANGUAGES),
                             metadata={"description": "the messages' language"})
    channels = fields.Dict(keys=fields.String(validate=validate.OneOf(KINDS)),
                           values=fields.List(fields.String(validate=validate.OneOf(USER_CHANNELS))),
                           metadata={"description": "kind -> the channels that carry it (the inbox always does)"})
    quiet_start = fields.String(allow_none=True, validate=HHMM,
                                metadata={"description": "quiet hours start, the store's time; none: no quiet hours"})
    quiet_end = fields.String(allow_none=True, validate=HHMM)
    mention = fields.String(allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "how the store's robots @ you: a mobile number (WeCom, DingTalk) or a Feishu open_id"})


class PreferencesOut(PreferencesIn):
    email = fields.String(allow_none=True, metadata={"description": "the address email goes to (the user's, from staff)"})
    push_devices = fields.Integer(metadata={"description": "devices subscribed to Web Push"})


class PushSubscriptionIn(Tolerant):
    """A browser's ``PushSubscription.toJSON()``."""
    endpoint = fields.Url(required=True, validate=validate.Length(max=1000))
    keys = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                       metadata={"description": "p256dh and auth"})


class VapidKeyOut(Schema):
    public_key = fields.String(metadata={"description": "the applicationServerKey, URL-safe base64"})


# -- a store's channels (admins) -----------------------------------------------------

class ChannelIn(Tolerant):
    type = fields.String(required=True, validate=validate.OneOf(STORE_CHANNEL_TYPES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    url = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "a robot's webhook address or a webhook's; email: none"})
    secret = fields.String(allow_none=True, load_only=True, validate=validate.Length(max=500), metadata={
        "description": "DingTalk's SEC... signing secret, Feishu's, a webhook's signing secret, the SMTP "
                       "password; stored encrypted, never answered; absent on a change: kept"})
    settings = fields.Dict(load_default=dict, metadata={
        "description": "email: host, port, username, sender, starttls (true/false), ssl (true/false)"})
    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS)), load_default=list(KINDS),
                        metadata={"description": "the kinds it carries"})
    enabled = fields.Boolean(load_default=True)


class CircuitOut(Schema):
    state = fields.String(metadata={"description": "closed (working), open (resting after failures), half_open"})
    failures = fields.Integer(metadata={"description": "failures in a row"})
    open_until = fields.AwareDateTime(allow_none=True)


class ChannelOut(Schema):
    id = fields.String()
    store_code = fields.String()
    type = fields.String()
    name = fields.String()
    url = fields.String(allow_none=True, metadata={"description": "masked: a robot's key is its secret"})
    has_secret = fields.Boolean()
    settings = fields.Dict()
    kinds = fields.List(fields.String())
    enabled = fields.Boolean()
    rate_per_minute = fields.Integer(allow_none=True, metadata={"description": "the receiver's limit, queued to"})
    circuit = fields.Nested(CircuitOut)
    last_answer = fields.String(allow_none=True)


class TestResultOut(Schema):
    __test__ = False  # not a pytest class
    ok = fields.Boolean()
    outcome = fields.String(metadata={"description": "sent, retry, rate_limited or refused"})
    answer = fields.String(metadata={"description": "what the channel answered, as it said it"})


class StoreNotificationSettingsIn(Tolerant):
    """A store's notification policy (managers of the store, group admins)."""
    urgent_breaks_quiet = fields.Boolean(required=True, metadata={
        "description": "escalations and SLA warnings reach people in their quiet hours (default false: they wait)"})


class StoreNotificationSettingsOut(StoreNotificationSettingsIn):
    store_code = fields.String()


# -- deliveries that failed (admins) ----------------------------------------------

class DeliveryOut(Schema):
    id = fields.String()
    store_code = fields.String(allow_none=True)
    channel = fields.String(metadata={"description": "webpush, email, wecom, dingtalk, feishu or webhook"})
    channel_id = fields.String(allow_none=True)
    channel_name = fields.String(allow_none=True)
    recipient = fields.String(allow_none=True, metadata={"description": "the user's name, or the channel's"})
    kind = fields.String()
    title = fields.String()
    status = fields.String(metadata={"description": "pending, sent, dead"})
    attempts = fields.Integer()
    last_answer = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.AwareDateTime(allow_none=True)


class ResendIn(Tolerant):
    ids = fields.List(fields.String(validate=validate.Length(max=36)), required=True,
                      validate=validate.Length(min=1, max=500))
