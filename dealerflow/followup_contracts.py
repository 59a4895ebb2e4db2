"""What staff send the followups service and what it answers (through
the gateway, which documents its API with these schemas)."""
from marshmallow import Schema, fields, validate

from dealerflow.contracts import Tolerant

KINDS = ("call", "wechat", "sms", "invitation", "test_drive", "quote", "delivery", "care_visit")
NOTE = validate.Length(max=4000)


class TaskOut(Schema):
    id = fields.String()
    lead_id = fields.String()
    consultant_id = fields.String()
    store_code = fields.String()
    kind = fields.String(metadata={"description": "first_contact, or one of the kinds a task is made with"})
    status = fields.String(metadata={"description": "open, done, cancelled"})
    source = fields.String(metadata={"description": "sla, cadence, manual, after_sales"})
    due_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    note = fields.String(allow_none=True)
    remind_at = fields.AwareDateTime(allow_none=True)
    escalate_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    outcome = fields.String(allow_none=True)


class TaskIn(Tolerant):
    lead_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    due_at = fields.AwareDateTime(required=True)
    note = fields.String(allow_none=True, validate=NOTE)


class CompletionIn(Tolerant):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=40))
    next_due_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when to follow up next; none: the store's cadence decides"})
    next_kind = fields.String(allow_none=True, validate=validate.OneOf(KINDS))
    note = fields.String(allow_none=True, validate=NOTE)


class RescheduleIn(Tolerant):
    due_at = fields.AwareDateTime(required=True)


class RecordIn(Tolerant):
    lead_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    task_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    channel = fields.String(required=True, validate=validate.OneOf(
        ("call", "wechat", "sms", "visit", "email")))
    direction = fields.String(load_default="outbound", validate=validate.OneOf(("outbound", "inbound")))
    outcome = fields.String(required=True, validate=validate.OneOf(
        ("reached", "no_answer", "busy", "wrong_number", "call_back", "appointment", "visited", "test_drive",
         "quote_sent", "refused")))
    notes = fields.String(allow_none=True, validate=NOTE)
    next_step = fields.String(allow_none=True, validate=validate.Length(max=500))
    next_due_at = fields.AwareDateTime(allow_none=True)
    next_kind = fields.String(allow_none=True, validate=validate.OneOf(KINDS))
    script_id = fields.String(allow_none=True, validate=validate.Length(max=64))


class AttachmentOut(Schema):
    id = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    filename = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    url = fields.Function(lambda attached: f"/v1/followups/attachments/{attached.id}")
    # none (a photo, or no speech engine), pending, working, done, failed
    transcript_status = fields.String()
    transcript = fields.String(allow_none=True)
    transcribed_at = fields.AwareDateTime(allow_none=True)
    transcript_error = fields.String(allow_none=True)


class RecordOut(Schema):
    id = fields.String()
    lead_id = fields.String()
    task_id = fields.String(allow_none=True)
    consultant_id = fields.String()
    channel = fields.String()
    direction = fields.String()
    outcome = fields.String()
    notes = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    script_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    attachments = fields.List(fields.Nested(AttachmentOut), load_default=list)


class CadenceIn(Tolerant):
    plan = fields.Dict(metadata={"description": 'by grade and stage: {"grades": {"H": {"every_days": 1, "kind": '
                                                '"call", "at": "10:00"}}, "stages": {...}, "at": "10:00", '
                                                '"business_days": true}; what is left out is the default'})
    remind_minutes = fields.Integer(validate=validate.Range(min=0, max=24 * 60),
                                    metadata={"description": "the reminder, this long before a task is due"})
    escalate_minutes = fields.Integer(validate=validate.Range(min=5, max=7 * 24 * 60),
                                      metadata={"description": "a task still open this long after it was due "
                                                               "is escalated to the store's managers"})


class CadenceOut(CadenceIn):
    inherited = fields.Boolean(metadata={"description": "the group's (or the defaults), not the store's own"})
    revision = fields.Integer()


class ScriptOut(Schema):
    id = fields.String()
    situation = fields.String()
    title = fields.String(allow_none=True)
    text = fields.String(metadata={"description": "filled for the lead; what could not be filled shows as 【name】"})
    missing = fields.List(fields.String(), metadata={"description": "placeholders left for the consultant"})
    addresses = fields.List(fields.String(), metadata={"description": "the customer traits it answers"})


class ScriptTemplateIn(Tolerant):
    """A store's own version of a script (or a script only the store has);
    ``hidden``: the store does not use this group script (nothing else needed)."""
    situation = fields.String(validate=validate.Length(max=64))
    stages = fields.List(fields.String(), metadata={"description": "the funnel stages it fits"})
    texts = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "{zh: ..., en: ...}, 1..2000 characters each; placeholders {customer_name} "
                       "{customer_title} {consultant_name} {store_name} {brand} {model} {trim} {price} "
                       "{test_drive_time} {competitor} {concern}"})
    title = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    addresses = fields.List(fields.String(), allow_none=True)
    channels = fields.List(fields.String(), allow_none=True)
    hidden = fields.Boolean(load_default=False)


class LibraryScriptOut(Schema):
    id = fields.String()
    situation = fields.String()
    stages = fields.List(fields.String())
    texts = fields.Dict()
    title = fields.Dict(allow_none=True)
    addresses = fields.List(fields.String())
    channels = fields.List(fields.String())
    origin = fields.String(metadata={"description": "group (the group's library) or store (the store's own)"})
    changed_by_store = fields.Boolean(metadata={"description": "the store's wording replaces the group's"})
    hidden = fields.Boolean(metadata={"description": "the store does not use it"})
    used = fields.Integer(metadata={"description": "follow-up records of the store that used it"})
    moved_forward = fields.Integer(metadata={"description": "of those, leads that moved on a stage or were won"})
    forward_rate = fields.Float(allow_none=True)


class HintOut(Schema):
    action = fields.String(metadata={"description": "call, wechat, sms, invitation, test_drive or quote"})
    in_days = fields.Integer(metadata={"description": "0: today"})
    script_id = fields.String(allow_none=True)
    why = fields.List(fields.String())
    values = fields.Dict()
    alternatives = fields.List(fields.String())


# -- test drives ------------------------------------------------------------------

FUEL_TYPES = ("ICE", "HEV", "PHEV", "EV")
VEHICLE_STATUSES = ("available", "in_service", "retired")
BOOKING_STATUSES = ("booked", "shown", "no_show", "cancelled")
LICENCE = validate.Regexp(r"^[A-Za-z0-9-]{5,32}$", error="5 to 32 letters, digits or '-'")


class VehicleIn(Tolerant):
    store_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    vin = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$", error="17 letters and digits, without I, O or Q"))
    stock_number = fields.String(allow_none=True, validate=validate.Length(min=1, max=32))
    brand = fields.String(required=True, validate=validate.Length(min=1, max=60))
    model = fields.String(required=True, validate=validate.Length(min=1, max=60))
    trim = fields.String(allow_none=True, validate=validate.Length(max=100))
    fuel_type = fields.String(required=True, validate=validate.OneOf(FUEL_TYPES))
    status = fields.String(load_default="available", validate=validate.OneOf(VEHICLE_STATUSES))


class VehicleChange(Tolerant):
    trim = fields.String(allow_none=True, validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(VEHICLE_STATUSES), metadata={
        "description": "in_service or retired: no new bookings (those made stay; cancel them if need be)"})


class VehicleOut(Schema):
    id = fields.String()
    store_code = fields.String()
    vin = fields.String(allow_none=True)
    stock_number = fields.String(allow_none=True)
    brand = fields.String()
    model = fields.String()
    trim = fields.String(allow_none=True)
    fuel_type = fields.String(metadata={"description": "ICE, HEV, PHEV or EV"})
    status = fields.String(metadata={"description": "available, in_service, retired"})


class TestDriveIn(Tolerant):
    __test__ = False  # not a pytest class
    lead_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    vehicle_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True, metadata={"description": "15 minutes to 3 hours after starts_at"})
    specialist_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=36), metadata={
        "description": "a test-drive specialist (any active staff of the store); none: the lead's consultant"})
    customer_email = fields.Email(allow_none=True, validate=validate.Length(max=254), metadata={
        "description": "where the invitation goes (ATTENDEE); personal data, erased with the customer"})
    language = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")),
                             metadata={"description": "the customer's: the invitation's text"})
    licence_number = fields.String(allow_none=True, validate=LICENCE, metadata={
        "description": "the customer's driving licence number (may be given at check-in instead); "
                       "answered masked, erased with the customer"})
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))


class BookingContext(Tolerant):
    """What the gateway adds to a booking from its own records (never the
    caller's): the stores' names (the invitation's location), who books
    (its organizer) and the stores of the specialist asked for (None: no
    such active user)."""
    store_names = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    organizer_name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    organizer_email = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=254))
    specialist_stores = fields.List(fields.String(), allow_none=True, load_default=None)


class CheckInIn(Tolerant):
    licence_number = fields.String(allow_none=True, validate=LICENCE)


class CancelIn(Tolerant):
    reason = fields.String(allow_none=True, validate=validate.Length(max=200))


class TestDriveOut(Schema):
    __test__ = False  # not a pytest class
    id = fields.String()
    lead_id = fields.String()
    store_code = fields.String()
    vehicle_id = fields.String()
    consultant_id = fields.String(allow_none=True)
    specialist_id = fields.String(allow_none=True)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.String(metadata={"description": "booked, shown, no_show, cancelled"})
    task_id = fields.String(allow_none=True, metadata={"description": "the consultant's test_drive task"})
    language = fields.String()
    licence_recorded = fields.Method("has_licence", metadata={"description": "a licence number is on record"})
    licence_last4 = fields.Method("licence_tail", allow_none=True,
                                  metadata={"description": "the licence number's last 4 characters"})
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by = fields.String(allow_none=True)
    checked_in_at = fields.AwareDateTime(allow_none=True)
    checked_in_by = fields.String(allow_none=True)
    no_show_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)

    def has_licence(self, booking) -> bool:
        return bool(booking.licence_number)

    def licence_tail(self, booking):
        return booking.licence_number[-4:] if booking.licence_number else None


class SlotOut(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()


class VehicleCalendarOut(Schema):
    vehicle = fields.Nested(VehicleOut)
    timezone = fields.String(metadata={"description": "the store's"})
    slot_minutes = fields.Integer()
    bookings = fields.List(fields.Nested(TestDriveOut), metadata={
        "description": "not cancelled, in the range: those the caller may see (a consultant: their leads')"})
    busy = fields.List(fields.Nested(SlotOut), metadata={"description": "every booking's time, not cancelled"})
    free = fields.List(fields.Nested(SlotOut), metadata={
        "description": "slots within the store's hours with no booking, from now on"})
