"""``/v1/leads``: intake for lead platforms, and leads for both audiences:
a platform's key sees its narrow view of a lead it sent, a staff token the
staff API (lists, and the lead with its history, tasks and messages), each
within the actor's scope, which the services enforce."""
import logging

import falcon
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select

from dealerflow.contracts import LeadQuery, schema
from services.gateway import intake
from services.gateway.authn import platform as platform_of
from services.gateway.authn import staff
from services.gateway.errors import BUS_DOWN, Invalid, NotFound, TooLarge
from services.gateway.models import User

log = logging.getLogger(__name__)


# -- what the staff API answers (HTTP schemas: the gateway's own) ---------------

class Time(fields.AwareDateTime):
    """An ISO 8601 time with its zone; services send it as text already."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class PersonRef(Schema):
    id = fields.String()
    display_name = fields.String(allow_none=True)


class LeadSummaryOut(Schema):
    """A lead in a list: a card's three lines and its response clock."""
    id = fields.String()
    status = fields.String()
    store_code = fields.String()
    source = fields.String()
    channel = fields.String()
    consultant = fields.Nested(PersonRef, allow_none=True)
    customer = fields.Dict(metadata={"description": "name and phone"})
    interest = fields.Dict(allow_none=True, metadata={"description": "brand and model"})
    grade = fields.String(metadata={"description": "H A B C N (open), O (won), F (lost)"})
    stage = fields.String()
    score = fields.Integer(allow_none=True, metadata={"description": "0-100: how likely it is won"})
    reroutes = fields.Integer(metadata={"description": "times the SLA ran out and it was re-routed"})
    received_at = Time()
    created_at = Time()
    assigned_at = Time(allow_none=True)
    first_contact_due_at = Time(allow_none=True)
    first_contact_at = Time(allow_none=True)
    pooled_at = Time(allow_none=True, metadata={"description": "in the claim pool since"})


class LeadPageOut(Schema):
    items = fields.List(fields.Nested(LeadSummaryOut))
    next_cursor = fields.String(allow_none=True)


class AssignmentOut(Schema):
    consultant = fields.Nested(PersonRef)
    reason = fields.String(metadata={"description": "routing, reroute, claim, manual or escalation"})
    assigned_at = Time()
    actor = fields.Nested(PersonRef, allow_none=True, metadata={"description": "who assigned it; null: routing"})
    rule_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class LeadEventOut(Schema):
    change = fields.String(metadata={"description": "graded, stage_changed, won, loss_requested, lost, "
                                                    "loss_refused, reopened, first_contact, inquiry, pooled, "
                                                    "sla_warning, sla_breached, comment"})
    actor = fields.Nested(PersonRef, allow_none=True)
    at = Time()
    reason = fields.String(allow_none=True)
    details = fields.Dict()


class CommentOut(Schema):
    id = fields.String()
    author = fields.Nested(PersonRef)
    body = fields.String()
    mentions = fields.List(fields.Nested(PersonRef))
    created_at = Time()


class TaskRef(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String()
    due_at = Time()


class MessageRef(Schema):
    id = fields.String()
    title = fields.String()
    created_at = Time()
    read_at = Time(allow_none=True)


class LeadDetailOut(LeadSummaryOut):
    """Everything staff may see of a lead. ``tasks`` or ``notifications``
    are null (and named in ``unavailable``) while their service is down."""
    external_id = fields.String(allow_none=True)
    customer = fields.Dict()
    interest = fields.Dict(allow_none=True)
    trade_in = fields.List(fields.Dict(), allow_none=True)
    comments = fields.String(allow_none=True)
    phone_e164 = fields.String(allow_none=True, metadata={"description": "the customer's phone, E.164"})
    provider = fields.Dict(allow_none=True, metadata={"description": "ADF: who relayed the lead"})
    received_at_note = fields.String(allow_none=True,
                                     metadata={"description": "why received_at is the submission time"})
    score_method = fields.String(allow_none=True, metadata={"description": "rules, or model (learned)"})
    score_reasons = fields.List(fields.Dict(), allow_none=True)
    lost_reason = fields.String(allow_none=True)
    lost_note = fields.String(allow_none=True)
    closed_at = Time(allow_none=True)
    deal_value = fields.Integer(allow_none=True, metadata={"description": "minor units"})
    deal_currency = fields.String(allow_none=True)
    vehicle = fields.Dict(allow_none=True)
    duplicate_of = fields.String(allow_none=True, metadata={"description": "the open lead this inquiry joined"})
    assignments = fields.List(fields.Nested(AssignmentOut))
    history = fields.List(fields.Nested(LeadEventOut))
    discussion = fields.List(fields.Nested(CommentOut))
    inquiries = fields.List(fields.Nested(LeadSummaryOut))
    tasks = fields.List(fields.Nested(TaskRef), allow_none=True)
    notifications = fields.List(fields.Nested(MessageRef), allow_none=True)
    unavailable = fields.List(fields.String())


class PlatformLeadOut(Schema):
    """A lead as the platform that sent it may see it."""
    id = fields.String()
    status = fields.String()
    store_code = fields.String()
    assigned_at = Time(allow_none=True)
    first_contact_at = Time(allow_none=True)


class LeadAccepted(Schema):
    id = fields.String()
    status = fields.String()
    status_url = fields.String()


class ProspectRefused(Schema):
    index = fields.Integer(metadata={"description": "the prospect's place in the document, from 0"})
    errors = fields.Dict(metadata={"description": "each bad field, as a 422 names them"})


class LeadsAccepted(Schema):
    """An ADF document's answer: its valid prospects' leads, in document
    order, and its invalid prospects, refused."""
    leads = fields.List(fields.Nested(LeadAccepted))
    refused = fields.List(fields.Nested(ProspectRefused))


def people(sessions, ids) -> dict[str, dict]:
    """``{user id: {"id", "display_name"}}`` of the gateway's users."""
    ids = {user_id for user_id in ids if user_id}
    if not ids:
        return {}
    with sessions() as session:
        rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {user_id: {"id": user_id, "display_name": name} for user_id, name in rows}


def with_people(lead: dict, names: dict) -> dict:
    consultant = lead.get("consultant_id")
    return dict(lead, consultant=names.get(consultant, {"id": consultant, "display_name": None})
                if consultant else None)


def lead_query(req) -> dict:
    """The list's query parameters, loaded (422 naming each bad one), as the
    leads service takes them."""
    params = {name: value for name, value in req.params.items() if name != "status"}
    if req.get_param("status"):
        params["status"] = req.get_param_as_list("status")
    try:
        return schema(LeadQuery).dump(schema(LeadQuery).load(params))
    except ValidationError as exc:
        raise Invalid("The query is not valid; see errors.", errors=exc.messages)


def read_body(req, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` bytes. A declared oversize
    body is drained first (up to a cap) so the client reads our answer
    instead of a broken pipe."""
    if req.content_length is not None and req.content_length > limit:
        if req.content_length <= 64 * limit:
            req.bounded_stream.exhaust()
        raise TooLarge(f"The body is {req.content_length} bytes; at most {limit} are accepted.",
                       headers={"Connection": "close"})
    body = req.bounded_stream.read(limit + 1)
    if len(body) > limit:
        raise TooLarge(f"The body is over {limit} bytes.", headers={"Connection": "close"})
    return body


def inline(function, *args):
    return function(*args)


class LeadCollection:
    """``POST /v1/leads``. Parsing a large body is CPU work: ``offload``
    runs it off the worker's event loop (a thread of gevent's pool under
    gunicorn), so that the other requests of the process keep moving."""

    OFFLOAD_OVER = 64 * 1024  # bytes; smaller bodies parse in well under a millisecond

    def __init__(self, gateway):
        """Intake reads through ``gateway.reads`` (``db.for_reads``) and writes
        its one-row transactions through ``gateway.single_writes``."""
        self.sessions, self.reads, self.single_writes = gateway.sessions, gateway.reads, gateway.single_writes
        self.clients, self.publisher, self.max_body = gateway.clients, gateway.publisher, gateway.max_body
        self.offload = gateway.offload or inline

    def on_get(self, req, resp):
        """Staff: the leads in scope.
        ---
        summary: List leads (a consultant's own; a manager's and a group admin's stores)
        tags: [leads]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: LeadQuery}
        responses:
          200:
            description: A page of leads, newest first by default; pass next_cursor as cursor for the next
            content: {application/json: {schema: LeadPageOut}}
          401: {description: Not signed in}
          422: {description: A query parameter is not valid}
        """
        actor = staff(req)
        page = self.clients.leads.list_leads(actor, lead_query(req))
        names = people(self.sessions, (lead["consultant_id"] for lead in page["items"]))
        resp.media = schema(LeadPageOut).dump(
            dict(page, items=[with_people(lead, names) for lead in page["items"]]))

    def on_post(self, req, resp):
        """Platforms: submit a lead.
        ---
        summary: Submit a lead (JSON, or an ADF XML document of one or more prospects)
        tags: [intake]
        security: [{apiKey: []}]
        parameters:
          - {in: header, name: Idempotency-Key, schema: {type: string, maxLength: 200}}
          - {in: query, name: store_code, schema: {type: string}, description: for ADF senders}
        requestBody:
          required: true
          content:
            application/json: {schema: LeadIn}
            application/xml: {schema: {type: string, description: ADF 1.0}}
            text/xml: {schema: {type: string, description: ADF 1.0}}
        responses:
          202:
            description: >-
              Accepted: the lead is safe. An ADF document is answered with LeadsAccepted: a lead
              for each valid prospect, and each invalid one refused with its errors (422 when
              none is valid).
            content: {application/json: {schema: {oneOf: [LeadAccepted, LeadsAccepted]}}}
          200: {description: The same lead again; the first answer}
          400: {description: The body cannot be parsed}
          401: {description: Missing or wrong X-Api-Key}
          403: {description: A store the key may not submit for}
          413: {description: Body over the limit}
          415: {description: Another content type}
          422: {description: Invalid, or a value no service could store; errors names each field}
          429: {description: Over the key's rate limit; see Retry-After}
          503: {description: The lead could not be made safe; see Retry-After}
        """
        platform = platform_of(req)  # the key and its rate limit: see authn
        intake.body_format(req.content_type)  # 415 before the body is read
        idempotency_key = intake.check_idempotency_key(req.get_header("Idempotency-Key"))
        body = read_body(req, self.max_body)
        store_code = req.get_param("store_code")
        body_hash = intake.request_hash(body, store_code)
        replayed = None
        if idempotency_key:
            with self.reads() as session:
                replayed = intake.replayed(session, platform, idempotency_key, body_hash)
        if replayed is not None:
            fmt, answer, new = intake.body_format(req.content_type), replayed, False
            req.context.intake = "replay"  # for the metrics (see metrics.HttpMetrics)
        else:
            fmt, answer, new = self.accept(platform, req.content_type, body, store_code, idempotency_key)
            req.context.intake = "new" if new else "duplicate"
            if idempotency_key:
                with self.single_writes() as session:
                    intake.remember_key(session, platform, idempotency_key, body_hash, answer)
        # the answer: a lead id for each accepted lead, {"index", "errors"} for each refused prospect
        answers = [{"id": lead_id, "status": "accepted", "status_url": f"/v1/leads/{lead_id}"}
                   for lead_id in answer if isinstance(lead_id, str)]
        resp.status = falcon.HTTP_202 if new else falcon.HTTP_200
        resp.media = answers[0] if fmt == "json" else {
            "leads": answers, "refused": [item for item in answer if isinstance(item, dict)]}

    def accept(self, platform, content_type, body, store_code, idempotency_key):
        """Parse, validate and publish; the format, the answer (a lead id for
        each accepted lead and ``{"index", "errors"}`` for each refused ADF
        prospect, in document order), and whether any lead was new."""
        parse = self.offload if len(body) > self.OFFLOAD_OVER else inline
        fmt, _, accepted, refused = parse(intake.read_and_validate, content_type, body,
                                          platform.platform)
        with self.reads() as session:
            prepared = intake.prepare(session, platform, [lead for _, lead in accepted], fmt,
                                      idempotency_key, store_code)
        for item in prepared:
            if item["new"]:
                self.publisher.publish(item["message"])
                with self.single_writes() as session:
                    item["new"] = intake.remember(session, platform, item)
        answer = sorted([(index, item["id"]) for (index, _), item in zip(accepted, prepared)]
                        + [(item["index"], item) for item in refused], key=lambda entry: entry[0])
        return fmt, [entry for _, entry in answer], any(item["new"] for item in prepared)


class LeadItem:
    def __init__(self, sessions, clients):
        self.sessions, self.clients = sessions, clients

    def on_get(self, req, resp, lead_id):
        """One lead, as the caller may see it.
        ---
        summary: A lead (a platform's key gets PlatformLeadOut, a staff token LeadDetailOut)
        tags: [leads, intake]
        security: [{bearer: []}, {apiKey: []}]
        parameters:
          - {in: path, name: lead_id, required: true, schema: {type: string}}
        responses:
          200:
            description: The lead
            content:
              application/json:
                schema: {oneOf: [LeadDetailOut, PlatformLeadOut]}
          401: {description: No credentials}
          404: {description: No such lead, or not one the caller may see}
        """
        if req.context.platform is None:
            resp.media = self.detail(staff(req), lead_id)
            return
        resp.media = schema(PlatformLeadOut).dump(self.platform_view(req.context.platform, lead_id))

    def platform_view(self, platform, lead_id: str) -> dict:
        try:
            return self.clients.leads.get_lead(lead_id, platform.actor())
        except NotFound:
            pass
        with self.sessions() as session:  # accepted, but not stored by the leads service yet?
            record = intake.find_accepted(session, platform, lead_id)
        if record is None:
            raise NotFound(f"No lead {lead_id}.")
        return {"id": lead_id, "status": "accepted", "store_code": record.store_code,
                "assigned_at": None, "first_contact_at": None}

    def detail(self, actor, lead_id: str) -> dict:
        """The lead with its assignments, tasks and messages. The lead comes
        from the leads service (404 if out of scope); tasks and messages are
        left out, and named in ``unavailable``, while their service is down."""
        lead = self.clients.leads.get_lead_detail(lead_id, actor)
        parts, unavailable = {}, []
        for name, ask in (("tasks", self.clients.followups.list_tasks),
                          ("notifications", self.clients.notifications.lead_messages)):
            try:
                parts[name] = ask(actor, lead_id)
            except BUS_DOWN as exc:
                log.warning("lead %s shown without its %s: %r", lead_id, name, exc)
                parts[name] = None
                unavailable.append(name)
        return present(self.sessions, lead, unavailable=unavailable, **parts)


def present(sessions, lead: dict, **parts) -> dict:
    """A lead's detail as staff read it: people named, not only numbered."""
    ids = {lead["consultant_id"]}
    ids.update(entry["consultant_id"] for entry in lead["assignments"])
    ids.update(entry["actor_id"] for entry in lead["assignments"] + lead["history"])
    for note in lead["discussion"]:
        ids.update([note["author_id"], *note["mentions"]])
    names = people(sessions, ids)

    def person(user_id):
        return names.get(user_id, {"id": user_id, "display_name": None}) if user_id else None

    return schema(LeadDetailOut).dump(dict(
        with_people(lead, names), **parts,
        assignments=[dict(entry, consultant=person(entry["consultant_id"]), actor=person(entry["actor_id"]))
                     for entry in lead["assignments"]],
        history=[dict(entry, actor=person(entry["actor_id"])) for entry in lead["history"]],
        discussion=[dict(note, author=person(note["author_id"]), mentions=[person(m) for m in note["mentions"]])
                    for note in lead["discussion"]],
        inquiries=[with_people(inquiry, names) for inquiry in lead["inquiries"]]))


def add_routes(app, gateway) -> None:
    app.add_route("/v1/leads", LeadCollection(gateway))
    app.add_route("/v1/leads/{lead_id}", LeadItem(gateway.sessions, gateway.clients))
