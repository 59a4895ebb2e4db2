"""The followups service: what must be done for a lead and by when
(tasks, reminders, escalations, the cadence), what was done (records),
and test drives (vehicles, bookings, check-in, no-shows)."""
import base64

from marshmallow import Schema, ValidationError, fields
from nameko.timer import timer

from dealerflow.actor import Actor
from dealerflow.contracts import (
    CUSTOMER_ERASED,
    LEAD_ASSIGNED,
    LEAD_CHANGED,
    LEAD_RECEIVED,
    STORE_SAVED,
    USER_SAVED,
    CustomerErased,
    LeadAssigned,
    LeadChanged,
    LeadReceived,
    StoreSaved,
    UserSaved,
    assignment_of,
    schema,
)
from dealerflow.db import Database
from dealerflow.followup_contracts import (
    AttachmentOut,
    BookingContext,
    CadenceIn,
    CadenceOut,
    CancelIn,
    CheckInIn,
    CompletionIn,
    HintOut,
    LibraryScriptOut,
    RecordIn,
    RecordOut,
    RescheduleIn,
    ScriptOut,
    ScriptTemplateIn,
    TaskIn,
    TaskOut,
    TestDriveIn,
    TestDriveOut,
    VehicleCalendarOut,
    VehicleChange,
    VehicleIn,
    VehicleOut,
)
from dealerflow.messaging import Correlation, Reliable, batch_event_handler, event_handler, rpc
from dealerflow.outbox import Relay
from services.followups import (
    activity,
    attachments,
    guidance,
    handlers,
    records,
    script_library,
    tasks,
    test_drives,
    transcription,
)
from services.followups.exceptions import (
    AttachmentRefused,
    AttachmentTooLarge,
    AttachmentType,
    BookingConflict,
    InvalidFollowup,
    NotAllowed,
    TaskNotFound,
    VehicleTaken,
)
from services.followups.models import OutboxMessage, ProcessedMessage

PUBLIC = (TaskNotFound, InvalidFollowup, NotAllowed, BookingConflict, VehicleTaken, AttachmentRefused,
          AttachmentTooLarge, AttachmentType)


def load(schema_cls, data) -> dict:
    try:
        return schema(schema_cls).load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise InvalidFollowup("The input is not valid; see errors.", exc.messages)


class FollowupsService(Reliable):
    name = "followups"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @event_handler("gateway", STORE_SAVED)
    def handle_store_saved(self, payload):
        handlers.save_store_calendar(self.db, schema(StoreSaved).load(payload))

    @event_handler("gateway", USER_SAVED)
    def handle_user_saved(self, payload):
        handlers.save_managers(self.db, schema(UserSaved).load(payload))

    @event_handler("leads", LEAD_ASSIGNED)
    def handle_lead_assigned(self, payload):
        handlers.schedule_first_contact(self.db, schema(LeadAssigned).load(payload))

    @batch_event_handler("leads", LEAD_RECEIVED)
    def handle_lead_received(self, batch):
        """Leads routed as they were stored: each one's first owner comes with it."""
        for payload in batch:
            assigned = assignment_of(schema(LeadReceived).load(payload))
            if assigned:
                handlers.schedule_first_contact(self.db, assigned)

    @event_handler("leads", LEAD_CHANGED)
    def handle_lead_changed(self, payload):
        handlers.follow_lead_change(self.db, schema(LeadChanged).load(payload))

    @event_handler("customers", CUSTOMER_ERASED)
    def handle_customer_erased(self, payload):
        handlers.forget_customer(self.db, schema(CustomerErased).load(payload))

    @timer(interval=0.5)
    def fire_reminders(self):
        """Reminders and escalations that are due (every replica; each task once)."""
        tasks.fire_due(self.db)

    @timer(interval=5)
    def mark_no_shows(self):
        """Test drives not checked in NO_SHOW_MINUTES after their start (every replica; each once)."""
        test_drives.mark_no_shows(self.db)

    @timer(interval=1)
    def transcribe_voice_notes(self):
        """Voice recordings waiting for their transcript (every replica; each once, under a lease)."""
        transcription.transcribe_pending(self.db)

    @rpc
    def activity(self, actor, query):
        """Each consultant's follow-ups done and tasks on time in a range (docs/analytics.md)."""
        return activity.activity(self.db, Actor.load(actor), query)

    @rpc
    def list_tasks(self, actor, lead_id=None, status=None):
        return schema(TaskOut, many=True).dump(handlers.list_tasks(self.db, Actor.load(actor), lead_id,
                                                                   status=status))

    @rpc(expected_exceptions=PUBLIC)
    def create_task(self, actor, data):
        data = load(TaskIn, data)
        return schema(TaskOut).dump(tasks.create(self.db, Actor.load(actor), data["lead_id"], data["kind"],
                                                 data["due_at"], data.get("note")))

    @rpc(expected_exceptions=PUBLIC)
    def complete_task(self, actor, task_id, data):
        data = load(CompletionIn, data)
        return schema(TaskOut).dump(tasks.complete(self.db, Actor.load(actor), task_id, data["outcome"],
                                                   data.get("next_due_at"), data.get("next_kind"),
                                                   data.get("note")))

    @rpc(expected_exceptions=PUBLIC)
    def reschedule_task(self, actor, task_id, data):
        return schema(TaskOut).dump(tasks.reschedule(self.db, Actor.load(actor), task_id,
                                                     load(RescheduleIn, data)["due_at"]))

    @rpc(expected_exceptions=PUBLIC)
    def add_record(self, actor, data):
        return schema(RecordOut).dump(records.add(self.db, Actor.load(actor), load(RecordIn, data)))

    @rpc(expected_exceptions=PUBLIC)
    def list_records(self, actor, lead_id):
        rows = records.of_lead(self.db, Actor.load(actor), lead_id)
        attached = attachments.of_records(self.db, [row.id for row in rows])
        return schema(RecordOut, many=True).dump([dict(vars(row), attachments=attached.get(row.id, []))
                                                  for row in rows])

    @rpc(expected_exceptions=PUBLIC)
    def add_attachment(self, actor, record_id, filename, declared_type, content_b64):
        return schema(AttachmentOut).dump(attachments.add(self.db, Actor.load(actor), record_id, filename,
                                                          declared_type, base64.b64decode(content_b64)))

    @rpc(expected_exceptions=PUBLIC)
    def get_attachment(self, actor, attachment_id):
        attached, content = attachments.get(self.db, Actor.load(actor), attachment_id)
        return dict(schema(AttachmentOut).dump(attached), content_b64=base64.b64encode(content).decode())

    @rpc(expected_exceptions=PUBLIC)
    def scripts_for(self, actor, lead_id, language, values):
        return schema(ScriptOut, many=True).dump(guidance.scripts_for(self.db, Actor.load(actor), lead_id,
                                                                      language, values or {}))

    @rpc(expected_exceptions=PUBLIC)
    def hint_for(self, actor, lead_id, language, traits=()):
        return schema(HintOut).dump(guidance.hint_for(self.db, Actor.load(actor), lead_id, language,
                                                      list(traits or ())))

    @rpc(expected_exceptions=PUBLIC)
    def script_library(self, actor, store_code):
        return schema(LibraryScriptOut, many=True).dump(script_library.view(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_script(self, actor, store_code, script_id, data):
        return schema(LibraryScriptOut, many=True).dump(script_library.save(
            self.db, Actor.load(actor), store_code, script_id, load(ScriptTemplateIn, data)))

    @rpc(expected_exceptions=PUBLIC)
    def revert_script(self, actor, store_code, script_id):
        return schema(LibraryScriptOut, many=True).dump(script_library.revert(
            self.db, Actor.load(actor), store_code, script_id))

    @rpc(expected_exceptions=PUBLIC)
    def get_cadence(self, actor, store_code):
        return schema(CadenceOut).dump(tasks.get_policy(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_cadence(self, actor, store_code, data):
        return schema(CadenceOut).dump(tasks.save_policy(self.db, Actor.load(actor), store_code,
                                                         load(CadenceIn, data)))

    # -- test drives ---------------------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def list_vehicles(self, actor, store_code=None):
        return schema(VehicleOut, many=True).dump(test_drives.list_vehicles(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def add_vehicle(self, actor, data):
        return schema(VehicleOut).dump(test_drives.add_vehicle(self.db, Actor.load(actor), load(VehicleIn, data)))

    @rpc(expected_exceptions=PUBLIC)
    def change_vehicle(self, actor, vehicle_id, data):
        return schema(VehicleOut).dump(test_drives.change_vehicle(self.db, Actor.load(actor), vehicle_id,
                                                                  load(VehicleChange, data)))

    @rpc(expected_exceptions=PUBLIC)
    def vehicle_calendar(self, actor, vehicle_id, start=None, end=None):
        start, end = (load_time(value, name) for value, name in ((start, "from"), (end, "to")))
        return schema(VehicleCalendarOut).dump(test_drives.vehicle_calendar(self.db, Actor.load(actor), vehicle_id,
                                                                            start, end))

    @rpc(expected_exceptions=PUBLIC)
    def list_test_drives(self, actor, lead_id):
        return schema(TestDriveOut, many=True).dump(test_drives.of_lead(self.db, Actor.load(actor), lead_id))

    @rpc(expected_exceptions=PUBLIC)
    def book_test_drive(self, actor, data, context):
        return schema(TestDriveOut).dump(test_drives.book(self.db, Actor.load(actor), load(TestDriveIn, data),
                                                          load(BookingContext, context)))

    @rpc(expected_exceptions=PUBLIC)
    def check_in_test_drive(self, actor, booking_id, data):
        return schema(TestDriveOut).dump(test_drives.check_in(self.db, Actor.load(actor), booking_id,
                                                              load(CheckInIn, data).get("licence_number")))

    @rpc(expected_exceptions=PUBLIC)
    def cancel_test_drive(self, actor, booking_id, data):
        return schema(TestDriveOut).dump(test_drives.cancel(self.db, Actor.load(actor), booking_id,
                                                            load(CancelIn, data).get("reason")))

    @rpc(expected_exceptions=PUBLIC)
    def test_drive_invitation(self, actor, booking_id):
        return test_drives.invitation_of(self.db, Actor.load(actor), booking_id)


def load_time(value, name: str):
    """An ISO 8601 time with its zone from a query, or None."""
    if value is None:
        return None
    try:
        return schema(TimeIn).load({"at": value})["at"]
    except ValidationError:
        raise InvalidFollowup(f"{name} is an ISO 8601 time with its zone.", {name: ["an ISO 8601 time with its zone"]})


class TimeIn(Schema):
    at = fields.AwareDateTime(required=True)
