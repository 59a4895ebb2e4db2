"""The notifications service: delivery to people. The in-app inbox (live
through the gateway's stream), Web Push, email, store robots (WeCom,
DingTalk, Feishu) and signed webhooks; per-user preferences and quiet
hours; retries, rate limits, a circuit breaker and dead letters
(``engine``); the daily digest and test-drive reminders (``schedules``).
docs/notifications.md says it for users, admins and ops."""
from marshmallow import ValidationError
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from dealerflow.actor import Actor
from dealerflow.contracts import (
    CUSTOMER_ERASED,
    FOLLOWUP_OVERDUE,
    FOLLOWUP_REMINDER,
    LEAD_ASSIGNED,
    LEAD_CHANGED,
    LEAD_RECEIVED,
    STORE_SAVED,
    TEST_DRIVE_BOOKED,
    TEST_DRIVE_CANCELLED,
    TEST_DRIVE_NO_SHOW,
    TEST_DRIVE_SHOWN,
    USER_SAVED,
    CustomerErased,
    FollowupReminder,
    LeadAssigned,
    LeadChanged,
    LeadReceived,
    StoreSaved,
    TestDriveBooked,
    TestDriveChanged,
    UserSaved,
    assignment_of,
    schema,
)
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, batch_event_handler, event_handler, rpc
from dealerflow.notification_contracts import (
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
from dealerflow.ops import OpsServer
from dealerflow.outbox import Relay
from services.notifications import (
    dead_letters,
    engine,
    handlers,
    inbox,
    messages,
    preferences,
    schedules,
    store_channels,
)
from services.notifications.exceptions import InvalidNotification, NotAllowed, NotificationNotFound
from services.notifications.models import OutboxMessage, ProcessedMessage

PUBLIC = (NotificationNotFound, InvalidNotification, NotAllowed)


class Templates(DependencyProvider):
    """Loads the message templates when the service starts: a templates
    file that cannot be used (``NOTIFICATIONS_TEMPLATES``) stops the service
    with the reason, instead of failing every message later."""

    def setup(self):
        messages.library()


def load(schema_cls, data, partial: bool = False) -> dict:
    try:
        return schema(schema_cls).load(data if isinstance(data, dict) else {}, partial=partial)
    except ValidationError as exc:
        raise InvalidNotification("The input is not valid; see errors.", exc.messages)


class NotificationsService(Reliable):
    name = "notifications"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()
    templates = Templates()
    ops = OpsServer(extra_gauges=engine.circuit_gauges)  # health and metrics, with the channels' circuits

    # -- copies -------------------------------------------------------------------------

    @event_handler("gateway", STORE_SAVED)
    def handle_store_saved(self, payload):
        handlers.save_store(self.db, schema(StoreSaved).load(payload))

    @event_handler("gateway", USER_SAVED)
    def handle_user_saved(self, payload):
        handlers.save_user(self.db, schema(UserSaved).load(payload))

    # -- what tells people something ----------------------------------------------------

    @event_handler("leads", LEAD_ASSIGNED)
    def handle_lead_assigned(self, payload):
        handlers.notify_assigned(self.db, schema(LeadAssigned).load(payload))

    @batch_event_handler("leads", LEAD_RECEIVED)
    def handle_lead_received(self, batch):
        """Leads routed as they were stored: each one's first owner comes with it."""
        for payload in batch:
            assigned = assignment_of(schema(LeadReceived).load(payload))
            if assigned:
                handlers.notify_assigned(self.db, assigned)

    @event_handler("leads", LEAD_CHANGED)
    def handle_lead_changed(self, payload):
        handlers.notify_change(self.db, schema(LeadChanged).load(payload))

    @event_handler("followups", FOLLOWUP_REMINDER)
    def handle_followup_reminder(self, payload):
        handlers.notify_task(self.db, schema(FollowupReminder).load(payload), overdue=False)

    @event_handler("followups", FOLLOWUP_OVERDUE)
    def handle_followup_overdue(self, payload):
        handlers.notify_task(self.db, schema(FollowupReminder).load(payload), overdue=True)

    @event_handler("followups", TEST_DRIVE_BOOKED)
    def handle_test_drive_booked(self, payload):
        handlers.notify_test_drive(self.db, schema(TestDriveBooked).load(payload))

    @event_handler("followups", TEST_DRIVE_CANCELLED)
    def handle_test_drive_cancelled(self, payload):
        handlers.follow_test_drive(self.db, schema(TestDriveChanged).load(payload))

    @event_handler("followups", TEST_DRIVE_SHOWN)
    def handle_test_drive_shown(self, payload):
        handlers.follow_test_drive(self.db, schema(TestDriveChanged).load(payload))

    @event_handler("followups", TEST_DRIVE_NO_SHOW)
    def handle_test_drive_no_show(self, payload):
        handlers.follow_test_drive(self.db, schema(TestDriveChanged).load(payload))

    @event_handler("customers", CUSTOMER_ERASED)
    def handle_customer_erased(self, payload):
        handlers.forget_customer(self.db, schema(CustomerErased).load(payload))

    # -- timers (every replica; each delivery, reminder and digest once) ------------------

    @timer(interval=0.5)
    def deliver(self):
        """Send the deliveries that are due through their channels."""
        engine.deliver_due(self.db)

    @timer(interval=5)
    def remind_test_drives(self):
        """Tell consultants of their test drives an hour away."""
        schedules.remind_test_drives(self.db)

    @timer(interval=30)
    def send_digests(self):
        """The managers' daily digest at 08:30 in each store."""
        schedules.send_digests(self.db)

    # -- the inbox ----------------------------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def list_inbox(self, actor, lead_id=None, unread_only=False, cursor=None, limit=50):
        return schema(InboxPageOut).dump(inbox.page(self.db, Actor.load(actor), lead_id, bool(unread_only), cursor,
                                                    limit if isinstance(limit, int) else 50))

    @rpc(expected_exceptions=PUBLIC)
    def unread_count(self, actor):
        return schema(UnreadOut).dump({"unread": inbox.unread(self.db, Actor.load(actor))})

    @rpc(expected_exceptions=PUBLIC)
    def mark_read(self, actor, ids=None):
        return schema(UnreadOut).dump(inbox.mark_read(self.db, Actor.load(actor), load(MarkReadIn, {"ids": ids})
                                                      .get("ids")))

    # -- a user's own settings ------------------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def get_preferences(self, actor):
        return schema(PreferencesOut).dump(preferences.get(self.db, Actor.load(actor)))

    @rpc(expected_exceptions=PUBLIC)
    def save_preferences(self, actor, data):
        return schema(PreferencesOut).dump(preferences.save(self.db, Actor.load(actor), load(PreferencesIn, data)))

    @rpc(expected_exceptions=PUBLIC)
    def save_push_subscription(self, actor, data):
        return preferences.subscribe(self.db, Actor.load(actor), load(PushSubscriptionIn, data))

    @rpc(expected_exceptions=PUBLIC)
    def delete_push_subscription(self, actor, endpoint):
        return preferences.unsubscribe(self.db, Actor.load(actor), endpoint)

    @rpc
    def vapid_public_key(self):
        return schema(VapidKeyOut).dump(preferences.vapid_public_key(self.db))

    # -- a store's channels and settings (managers, group admins) ---------------------------

    @rpc(expected_exceptions=PUBLIC)
    def list_channels(self, actor, store_code):
        return schema(ChannelOut, many=True).dump(store_channels.list_channels(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def create_channel(self, actor, store_code, data):
        return schema(ChannelOut).dump(store_channels.create(self.db, Actor.load(actor), store_code,
                                                             load(ChannelIn, data)))

    @rpc(expected_exceptions=PUBLIC)
    def update_channel(self, actor, channel_id, data):
        return schema(ChannelOut).dump(store_channels.change(self.db, Actor.load(actor), channel_id,
                                                             load(ChannelIn, data, partial=True)))

    @rpc(expected_exceptions=PUBLIC)
    def delete_channel(self, actor, channel_id):
        store_channels.remove(self.db, Actor.load(actor), channel_id)

    @rpc(expected_exceptions=PUBLIC)
    def test_channel(self, actor, channel_id):
        return schema(TestResultOut).dump(store_channels.test(self.db, Actor.load(actor), channel_id))

    @rpc(expected_exceptions=PUBLIC)
    def get_store_settings(self, actor, store_code):
        return schema(StoreNotificationSettingsOut).dump(store_channels.get_settings(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_store_settings(self, actor, store_code, data):
        return schema(StoreNotificationSettingsOut).dump(store_channels.save_settings(self.db, Actor.load(actor), store_code,
                                                                          load(StoreNotificationSettingsIn, data)))

    # -- deliveries and dead letters (managers, group admins) --------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def list_deliveries(self, actor, store_code=None, status="dead", limit=100):
        return schema(DeliveryOut, many=True).dump(dead_letters.listed(
            self.db, Actor.load(actor), store_code, status, limit if isinstance(limit, int) else 100))

    @rpc(expected_exceptions=PUBLIC)
    def resend(self, actor, ids):
        return dead_letters.resend(self.db, Actor.load(actor), load(ResendIn, {"ids": ids})["ids"])
