"""``/v1/followups``: a consultant's tasks (what is due, by when), what
they do with them (complete, reschedule), tasks made by hand, and
follow-up records (``/v1/followups/records``). The followups service
checks the actor: a consultant acts on their own leads' tasks, a manager
on their stores'."""
import falcon

from dealerflow.followup_contracts import (  # noqa: F401 (named in the docstrings' OpenAPI)
    CompletionIn,
    RecordIn,
    RecordOut,
    RescheduleIn,
    TaskIn,
    TaskOut,
)
from services.gateway.authn import staff
from services.gateway.errors import InvalidInput
from services.gateway.resources.auth import load_json
from services.gateway.resources.lead_actions import Passthrough


class Resource:
    def __init__(self, clients):
        self.clients = clients


class Tasks(Resource):
    def on_get(self, req, resp):
        """Tasks in scope.
        ---
        summary: The caller's tasks (a manager's stores'), soonest due first; of one lead with lead_id
        tags: [followups]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: lead_id, schema: {type: string}}
        responses:
          200:
            description: The tasks
            content: {application/json: {schema: {type: array, items: TaskOut}}}
          401: {description: Not signed in}
        """
        resp.media = self.clients.followups.list_tasks(staff(req), req.get_param("lead_id"))

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
        lead_id = req.get_param("lead_id")
        if not lead_id:
            raise InvalidInput("Which lead's records? Give lead_id.", errors={"lead_id": ["required"]})
        resp.media = self.clients.followups.list_records(staff(req), lead_id)

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


def add_routes(app, gateway) -> None:
    app.add_route("/v1/followups", Tasks(gateway.clients))
    app.add_route("/v1/followups/records", Records(gateway.clients))
    app.add_route("/v1/followups/{task_id}/{step}", TaskStep(gateway.clients))
