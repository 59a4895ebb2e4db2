"""``/v1/followups``: a consultant's tasks (what is due, by when), what
they do with them (complete, reschedule), tasks made by hand, follow-up
records (``/v1/followups/records``), the next-step hint
(``/v1/followups/hint``), the scripts for a lead (``/v1/scripts``) and
each store's cadence (``/v1/admin/cadences/{store}``). The followups
service checks the actor: a consultant acts on their own leads' tasks, a
manager on their stores'."""
import base64

import falcon
from sqlalchemy import select

from dealerflow.followup_contracts import (  # noqa: F401 (named in the docstrings' OpenAPI)
    AttachmentOut,
    CadenceIn,
    CadenceOut,
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
)
from services.gateway.authn import staff
from services.gateway.errors import BUS_DOWN, InvalidInput, NotFound
from services.gateway.models import Store, User
from services.gateway.resources.auth import load_json
from services.gateway.resources.lead_actions import Passthrough
from services.gateway.resources.leads import read_body

MAX_ATTACHMENT = 25 * 1024 * 1024  # the largest a kind allows (audio); photos are refused past 10 MiB


class Resource:
    def __init__(self, clients, sessions=None):
        self.clients, self.sessions = clients, sessions


def lead_param(req) -> str:
    lead_id = req.get_param("lead_id")
    if not lead_id:
        raise InvalidInput("Which lead? Give lead_id.", errors={"lead_id": ["required"]})
    return lead_id


def language(req) -> str:
    """The caller's language for scripts and hints: ``lang``, else Accept-Language, else zh."""
    wanted = (req.get_param("lang") or req.get_header("Accept-Language") or "zh").lower()
    return "en" if wanted.startswith("en") else "zh"


class Tasks(Resource):
    def on_get(self, req, resp):
        """Tasks in scope.
        ---
        summary: The caller's tasks (a manager's stores'), soonest due first; of one lead with lead_id
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: lead_id, schema: {type: string}}
          - {in: query, name: status, schema: {type: string, enum: [open, done, cancelled]}}
        responses:
          200:
            description: The tasks
            content: {application/json: {schema: {type: array, items: TaskOut}}}
          401: {description: Not signed in}
          422: {description: An unknown status}
        """
        status = req.get_param("status")
        if status not in (None, "open", "done", "cancelled"):
            raise InvalidInput("status is open, done or cancelled.", errors={"status": ["unknown"]})
        resp.media = self.clients.followups.list_tasks(staff(req), req.get_param("lead_id"), status)

    def on_post(self, req, resp):
        """Make a task by hand.
        ---
        summary: A task on one of the caller's leads (call, WeChat, SMS, invitation, test drive, quote, ...)
        tags: [followups]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: TaskIn}}
        responses:
          201:
            description: The task, with its reminder and escalation times
            content: {application/json: {schema: TaskOut}}
          401: {description: Not signed in}
          404: {description: No such lead of the caller's}
          422: {description: Invalid, or a lead that is closed; errors names the field}
        """
        resp.status = falcon.HTTP_201
        resp.media = self.clients.followups.create_task(staff(req), load_json(req, Passthrough))


class TaskStep(Resource):
    """``POST /v1/followups/{id}/complete`` and ``.../reschedule``."""

    STEPS = {"complete": "complete_task", "reschedule": "reschedule_task"}

    def on_post(self, req, resp, task_id, step):
        """Complete or move a task.
        ---
        summary: "complete: done with an outcome (CompletionIn), the next one scheduled; reschedule: snooze or move (RescheduleIn)"
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: task_id, required: true, schema: {type: string}}
          - {in: path, name: step, required: true, schema: {type: string, enum: [complete, reschedule]}}
        requestBody:
          required: true
          content: {application/json: {schema: {oneOf: [CompletionIn, RescheduleIn]}}}
        responses:
          200:
            description: The task
            content: {application/json: {schema: TaskOut}}
          401: {description: Not signed in}
          404: {description: No such task of the caller's}
          422: {description: Invalid, or a task that is closed; errors names the field}
        """
        if step not in self.STEPS:
            raise InvalidInput(f"{step!r} is not a step: complete or reschedule.", errors={"step": ["unknown"]})
        resp.media = getattr(self.clients.followups, self.STEPS[step])(staff(req), task_id,
                                                                       load_json(req, Passthrough))


class Records(Resource):
    def on_get(self, req, resp):
        """A lead's follow-up records.
        ---
        summary: What was done on a lead, newest first
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: lead_id, required: true, schema: {type: string}}
        responses:
          200:
            description: The records
            content: {application/json: {schema: {type: array, items: RecordOut}}}
          401: {description: Not signed in}
          404: {description: No such lead of the caller's}
          422: {description: No lead_id}
        """
        resp.media = self.clients.followups.list_records(staff(req), lead_param(req))

    def on_post(self, req, resp):
        """Log a follow-up.
        ---
        summary: Log a call, a WeChat, an SMS, a visit; it completes the lead's task and schedules the next (the first stops the response clock)
        tags: [followups]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: RecordIn}}
        responses:
          201:
            description: The record
            content: {application/json: {schema: RecordOut}}
          401: {description: Not signed in}
          404: {description: No such lead of the caller's}
          422: {description: Invalid; errors names each field}
        """
        resp.status = falcon.HTTP_201
        resp.media = self.clients.followups.add_record(staff(req), load_json(req, Passthrough))


class Attachments(Resource):
    def on_post(self, req, resp, record_id):
        """Attach a photo or a recording to a follow-up record.
        ---
        summary: Attach a photo (JPEG, PNG, WebP, HEIC; 10 MiB) or a voice recording (MP3, M4A, AAC, Ogg/Opus, WebM audio, WAV, AMR; 25 MiB); the file is the body
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: record_id, required: true, schema: {type: string}}
          - {in: query, name: filename, schema: {type: string, maxLength: 255}}
        requestBody:
          required: true
          content: {"*/*": {schema: {type: string, format: binary}}}
        responses:
          201:
            description: The attachment
            content: {application/json: {schema: AttachmentOut}}
          401: {description: Not signed in}
          404: {description: No such record of the caller's}
          413: {description: Over the kind's limit; nothing was stored}
          415: {description: Not a photo or a recording we accept (the bytes decide); nothing was stored}
          422: {description: An empty file}
        """
        actor = staff(req)
        content = read_body(req, MAX_ATTACHMENT)
        resp.status = falcon.HTTP_201
        resp.media = self.clients.followups.add_attachment(actor, record_id, req.get_param("filename"),
                                                           req.content_type, base64.b64encode(content).decode())


class AttachmentFile(Resource):
    def on_get(self, req, resp, attachment_id):
        """An attachment's file.
        ---
        summary: The photo or recording, as it was stored
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: attachment_id, required: true, schema: {type: string}}
        responses:
          200: {description: The file, with its media type}
          401: {description: Not signed in}
          404: {description: No such attachment of the caller's leads}
        """
        found = self.clients.followups.get_attachment(staff(req), attachment_id)
        resp.content_type = found["media_type"]
        resp.set_header("Content-Disposition", "inline")
        resp.set_header("Cache-Control", "private, max-age=3600")
        resp.data = base64.b64decode(found["content_b64"])


class Hint(Resource):
    def on_get(self, req, resp):
        """What to do next on a lead.
        ---
        summary: The next step for a lead (action, when, the script that fits) and why, from its stage, grade, last outcomes, notes and its customer's traits
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: lead_id, required: true, schema: {type: string}}
          - {in: query, name: lang, schema: {type: string, enum: [zh, en]}}
        responses:
          200:
            description: The hint
            content: {application/json: {schema: HintOut}}
          401: {description: Not signed in}
          404: {description: No such lead of the caller's}
        """
        actor, lead_id = staff(req), lead_param(req)
        resp.media = self.clients.followups.hint_for(actor, lead_id, language(req), self.traits(actor, lead_id))

    def traits(self, actor, lead_id: str) -> list[str]:
        """The lead's customer's traits not removed by a consultant (none while
        the customer is unknown or the customers service is down: the notes still count)."""
        try:
            customer = self.clients.customers.get_lead_customer(actor, lead_id, "en")
        except (NotFound, *BUS_DOWN):
            return []
        return [trait["trait"] for trait in customer.get("traits", []) if trait.get("status") != "removed"]


class Scripts(Resource):
    def on_get(self, req, resp):
        """Scripts (话术) for a lead.
        ---
        summary: The script templates that fit the lead's stage, filled from the customer, the lead, the consultant and the store
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: lead_id, required: true, schema: {type: string}}
          - {in: query, name: lang, schema: {type: string, enum: [zh, en]}}
        responses:
          200:
            description: The scripts, filled
            content: {application/json: {schema: {type: array, items: ScriptOut}}}
          401: {description: Not signed in}
          404: {description: No such lead of the caller's}
        """
        actor = staff(req)
        with self.sessions() as session:
            me = session.get(User, actor.user_id)
            stores = dict(session.execute(select(Store.code, Store.name).where(Store.code.in_(actor.stores))).all())
        values = {"consultant_name": me.display_name if me else None,
                  "store_name": stores[actor.stores[0]] if len(actor.stores) == 1 else None}
        resp.media = self.clients.followups.scripts_for(actor, lead_param(req), language(req), values)


class ScriptLibrary(Resource):
    def on_get(self, req, resp):
        """A store's script library.
        ---
        summary: Every script of a store's library (the group's with the store's own over them, the hidden too), each with how often it was used and how often the lead moved on after it
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: store_code, required: true, schema: {type: string}}
        responses:
          200:
            description: The library, in the group's order, the store's own scripts after
            content: {application/json: {schema: {type: array, items: LibraryScriptOut}}}
          401: {description: Not signed in}
          404: {description: Not one of the caller's stores}
          422: {description: No store_code}
        """
        store_code = req.get_param("store_code")
        if not store_code:
            raise InvalidInput("Which store? Give store_code.", errors={"store_code": ["required"]})
        resp.media = self.clients.followups.script_library(staff(req), store_code)


class StoreScript(Resource):
    def on_put(self, req, resp, store_code, script_id):
        """A store's own version of a script.
        ---
        summary: The store's wording of a group script, a script only the store has (a new id), or a group script the store hides (hidden true)
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: store_code, required: true, schema: {type: string}}
          - {in: path, name: script_id, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: ScriptTemplateIn}}
        responses:
          200:
            description: The store's library after the change
            content: {application/json: {schema: {type: array, items: LibraryScriptOut}}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store}
          404: {description: Not one of the caller's stores}
          422: {description: Invalid; errors names the field (texts, stages, ...)}
        """
        resp.media = self.clients.followups.save_script(staff(req), store_code, script_id,
                                                        load_json(req, Passthrough))

    def on_delete(self, req, resp, store_code, script_id):
        """Back to the group's script.
        ---
        summary: Drop the store's version of a script (the group's applies again; a store-only script is gone)
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: store_code, required: true, schema: {type: string}}
          - {in: path, name: script_id, required: true, schema: {type: string}}
        responses:
          200:
            description: The store's library after the change
            content: {application/json: {schema: {type: array, items: LibraryScriptOut}}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store}
          404: {description: The store has no version of this script}
        """
        resp.media = self.clients.followups.revert_script(staff(req), store_code, script_id)


class Cadence(Resource):
    def on_get(self, req, resp, store_code):
        """A store's follow-up cadence.
        ---
        summary: 'The cadence that applies to a store (its own, else the group''s: store "*"), with its reminder and escalation times'
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: store_code, required: true, schema: {type: string}}
        responses:
          200:
            description: The cadence
            content: {application/json: {schema: CadenceOut}}
          401: {description: Not signed in}
          404: {description: Not one of the caller's stores}
        """
        resp.media = self.clients.followups.get_cadence(staff(req), store_code)

    def on_put(self, req, resp, store_code):
        """Change a store's follow-up cadence.
        ---
        summary: Change a store's cadence (the fields given); store "*" is the group's default (group admins)
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: store_code, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: CadenceIn}}
        responses:
          200:
            description: The cadence
            content: {application/json: {schema: CadenceOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store (or the group's, by a manager)}
          404: {description: Not one of the caller's stores}
          422: {description: Invalid; errors names the field (plan.grades.H.every_days)}
        """
        resp.media = self.clients.followups.save_cadence(staff(req), store_code, load_json(req, Passthrough))


def add_routes(app, gateway) -> None:
    app.add_route("/v1/followups", Tasks(gateway.clients))
    app.add_route("/v1/followups/records", Records(gateway.clients))
    app.add_route("/v1/followups/hint", Hint(gateway.clients))
    app.add_route("/v1/followups/records/{record_id}/attachments", Attachments(gateway.clients))
    app.add_route("/v1/followups/attachments/{attachment_id}", AttachmentFile(gateway.clients))
    app.add_route("/v1/followups/{task_id}/{step}", TaskStep(gateway.clients))
    app.add_route("/v1/scripts", Scripts(gateway.clients, gateway.sessions))
    app.add_route("/v1/scripts/library", ScriptLibrary(gateway.clients))
    app.add_route("/v1/admin/scripts/{store_code}/{script_id}", StoreScript(gateway.clients))
    app.add_route("/v1/admin/cadences/{store_code}", Cadence(gateway.clients))
