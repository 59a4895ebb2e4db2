"""One typed client per service: what the gateway may ask each of them.

Resources call ``clients.leads.get_lead(lead_id, actor)``, never RPC by
strings; every call carries the actor, and each service enforces it on the
data it owns. A service's public errors (its ``exceptions.py``) come back as
the gateway's own (``errors.REMOTE_ERRORS``), so resources can catch them.
Tests give ``Clients`` a fake ``rpc`` (anything with ``call(service, method,
*args)``).
"""
from dealerflow.actor import Actor
from dealerflow.config import WORKERS


class ServiceClient:
    service = ""

    def __init__(self, rpc):
        self.rpc = rpc

    def call(self, method: str, *args):
        return self.rpc.call(self.service, method, *args)

    def ping(self) -> str:
        return self.call("ping")

    METHODS: tuple[str, ...] = ()

    def __getattr__(self, method: str):
        """``clients.customers.search_customers(actor, query)``: the service's
        RPC of that name (one of ``METHODS``), the actor first, as every one takes it."""
        if method not in self.METHODS:
            raise AttributeError(method)
        return lambda actor, *args: self.call(method, actor.dump(), *args)


class LeadsClient(ServiceClient):
    """Staff's changes to leads, routing rules and policies (``METHODS``,
    actor first), and the reads below; the service checks role and scope."""
    service = "leads"
    METHODS = ("change_grade", "change_stage", "win_lead", "lose_lead", "decide_loss", "reopen_lead",
               "comment_lead", "claim_lead", "assign_lead", "assign_leads", "get_policy", "save_policy",
               "list_rules", "save_rule", "delete_rule", "rebuild_scoring", "analytics", "list_source_costs",
               "save_source_cost")

    def get_lead(self, lead_id: str, actor: Actor) -> dict:
        """The lead as this actor may see it (a platform's narrow view, or
        staff's full one); ``NotFound`` outside the actor's scope."""
        return self.call("get_lead", lead_id, actor.dump())

    def get_lead_detail(self, lead_id: str, actor: Actor) -> dict:
        """Everything staff may see of a lead, with its assignment history."""
        return self.call("get_lead_detail", lead_id, actor.dump())

    def list_leads(self, actor: Actor, query: dict) -> dict:
        """``{"items": [...], "next_cursor": ...}`` of the leads in scope."""
        return self.call("list_leads", actor.dump(), query)


class CustomersClient(ServiceClient):
    """Every call but ``record_behaviour`` is staff's; the service checks
    the actor's role and scope, and answers with
    ``dealerflow.customer_contracts``' schemas."""
    service = "customers"
    METHODS = ("search_customers", "get_customer", "get_lead_customer", "create_customer", "update_customer",
               "get_timeline", "decide_trait", "record_behaviour", "list_duplicates", "dismiss_duplicate",
               "merge_customers", "list_merges", "start_import", "get_import", "check_import", "commit_import",
               "export_customer", "erase_customer")


class FollowupsClient(ServiceClient):
    service = "followups"
    METHODS = ("create_task", "complete_task", "reschedule_task", "add_record", "list_records", "scripts_for",
               "hint_for", "script_library", "save_script", "revert_script", "get_cadence", "save_cadence",
               "add_attachment", "get_attachment", "list_vehicles",
               "add_vehicle", "change_vehicle", "vehicle_calendar", "list_test_drives", "book_test_drive",
               "check_in_test_drive", "cancel_test_drive", "test_drive_invitation", "activity")

    def list_tasks(self, actor: Actor, lead_id: str | None = None, status: str | None = None) -> list[dict]:
        return self.call("list_tasks", actor.dump(), lead_id, status)


class NotificationsClient(ServiceClient):
    """A user's inbox, preferences and push devices; the stores' channels
    and failed deliveries (managers, group admins): the service checks the
    actor and answers with ``dealerflow.notification_contracts``' schemas."""
    service = "notifications"
    METHODS = ("list_inbox", "unread_count", "mark_read", "get_preferences", "save_preferences",
               "save_push_subscription", "delete_push_subscription", "list_channels", "create_channel",
               "update_channel", "delete_channel", "test_channel", "get_store_settings", "save_store_settings",
               "list_deliveries", "resend")

    def vapid_public_key(self) -> dict:
        """The Web Push key: the same for everyone, so no actor."""
        return self.call("vapid_public_key")

    def lead_messages(self, actor: Actor, lead_id: str) -> list[dict]:
        """The caller's messages about one lead (its page shows them), newest first."""
        return self.list_inbox(actor, lead_id)["items"]


class Clients:
    """Every service's client, by the service's name."""

    def __init__(self, rpc):
        self.customers = CustomersClient(rpc)
        self.leads = LeadsClient(rpc)
        self.followups = FollowupsClient(rpc)
        self.notifications = NotificationsClient(rpc)

    def each(self) -> dict[str, ServiceClient]:
        """The clients in ``config.WORKERS`` order."""
        return {name: getattr(self, name) for name in WORKERS}
