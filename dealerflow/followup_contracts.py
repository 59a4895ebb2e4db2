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


class HintOut(Schema):
    action = fields.String(metadata={"description": "call, wechat, sms, invitation, test_drive or quote"})
    in_days = fields.Integer(metadata={"description": "0: today"})
    script_id = fields.String(allow_none=True)
    why = fields.List(fields.String())
    values = fields.Dict()
    alternatives = fields.List(fields.String())
