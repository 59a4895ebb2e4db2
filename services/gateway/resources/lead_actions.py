"""What staff do to a lead, each a ``POST`` under ``/v1/leads/{id}/``:
grade, stage, win, loss, loss-decision, reopen, claim, assign, comments;
``POST /v1/leads/reassign`` for many at once. The leads service checks
the actor (a consultant acts on their own leads and claims from their
store's pool; assigning and deciding a loss are a manager's) and the
lead's state; each answers with the lead as ``GET /v1/leads/{id}`` shows it
(without its tasks and messages, which that ``GET`` adds).
"""
from marshmallow import INCLUDE, Schema

from dealerflow.lead_contracts import (  # noqa: F401 (named in the docstrings' OpenAPI)
    AssignIn,
    CommentIn,
    DecisionIn,
    GradeIn,
    LossIn,
    ReasonIn,
    ReassignIn,
    StageIn,
    WinIn,
)
from services.gateway.authn import staff
from services.gateway.resources.auth import load_json
from services.gateway.resources.leads import present


class Passthrough(Schema):
    """A JSON object the service loads itself (its errors come back as 422)."""

    class Meta:
        unknown = INCLUDE


TEMPLATE = """{summary}
        ---
        summary: {summary}
        tags: [leads]
        security: [{{bearer: []}}]
        parameters:
          - {{in: path, name: lead_id, required: true, schema: {{type: string}}}}
        {body}
        responses:
          200:
            description: The lead after the change
            content: {{application/json: {{schema: LeadDetailOut}}}}
          401: {{description: Not signed in}}
          403: {{description: {forbidden}}}
          404: {{description: No such lead, or not one the caller may see}}
          409: {{description: The lead changed meanwhile (claimed, re-routed); read it again}}
          422: {{description: Invalid, or a change the lead cannot go through now; errors names the field}}
        """


def action(method: str, body: str | None, summary: str, forbidden: str = "Not the caller's to change"):
    """The resource of ``POST /v1/leads/{id}/<action>``: the leads service's
    ``method``, its body loaded there (``body``: the schema's name, for the
    document; None: no body)."""
    def on_post(self, req, resp, lead_id):
        actor = staff(req)
        call = getattr(self.clients.leads, method)
        result = call(actor, lead_id, load_json(req, Passthrough)) if body else call(actor, lead_id)
        resp.media = present(self.sessions, result)

    on_post.__doc__ = TEMPLATE.format(
        summary=summary, forbidden=forbidden,
        body=f"requestBody: {{required: true, content: {{application/json: {{schema: {body}}}}}}}"
        if body else "")
    return type(f"{method.title().replace('_', '')}Action", (LeadAction,), {"on_post": on_post})


class LeadAction:
    def __init__(self, sessions, clients):
        self.sessions, self.clients = sessions, clients


ACTIONS = {
    "grade": action("change_grade", "GradeIn", "Change the lead's grade (H A B C N), with a reason"),
    "stage": action("change_stage", "StageIn",
                    "Move the lead to another stage (back by one needs a reason); stops the response clock"),
    "win": action("win_lead", "WinIn", "Mark the lead won, with the deal value and the vehicle"),
    "loss": action("lose_lead", "LossIn",
                   "Mark the lead lost with a reason; where the store asks for it, it waits for a manager's "
                   "approval (status loss_pending)"),
    "loss-decision": action("decide_loss", "DecisionIn",
                            "Approve a loss (it counts as lost) or refuse it (the lead goes back, with why)",
                            forbidden="Managers only"),
    "reopen": action("reopen_lead", "ReasonIn", "Reopen a lost lead, with a reason"),
    "claim": action("claim_lead", None, "Claim a lead from the store's pool (公海), within the daily claim limit",
                    forbidden="Staff of another store"),
    "assign": action("assign_lead", "AssignIn",
                     "Give the lead to a colleague of its store (or, with no consultant, route it again)",
                     forbidden="Managers only"),
    "comments": action("comment_lead", "CommentIn",
                       "Add to the lead's discussion; the people mentioned are told and may see the lead"),
}


class Reassign:
    def __init__(self, clients):
        self.clients = clients

    def on_post(self, req, resp):
        """Hand over many leads at once.
        ---
        summary: Reassign the leads named, or every open lead of a consultant (someone leaves), to one colleague or back to routing
        tags: [leads]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: ReassignIn}}
        responses:
          200:
            description: '{"moved": [lead ids], "refused": {lead id: why}}'
          401: {description: Not signed in}
          403: {description: Managers only}
          422: {description: Neither leads nor a consultant named, or an invalid body}
        """
        resp.media = self.clients.leads.assign_leads(staff(req), load_json(req, Passthrough))


def add_routes(app, gateway) -> None:
    app.add_route("/v1/leads/reassign", Reassign(gateway.clients))
    for name, resource in ACTIONS.items():
        app.add_route(f"/v1/leads/{{lead_id}}/{name}", resource(gateway.sessions, gateway.clients))
