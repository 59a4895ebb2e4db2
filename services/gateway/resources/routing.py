"""``/v1/admin/routing-rules``, ``/v1/admin/lead-policies/{store_code}``
and ``/v1/admin/scoring-model``: how leads are routed and answered, set by
managers (their stores) and group admins (the group's rules and default
policy, store ``*``). The leads service owns and checks them."""
import falcon

from dealerflow.lead_contracts import PolicyIn, PolicyOut, RuleIn, RuleOut  # noqa: F401 (OpenAPI)
from services.gateway.authn import staff
from services.gateway.resources.auth import load_json
from services.gateway.resources.lead_actions import Passthrough


class Resource:
    def __init__(self, clients):
        self.clients = clients


class Rules(Resource):
    def on_get(self, req, resp):
        """The routing rules.
        ---
        summary: The routing rules of the caller's stores and the group's, in the order they are tried
        tags: [routing]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: store_code, schema: {type: string}, description: one store's and the group's}
        responses:
          200:
            description: The rules
            content: {application/json: {schema: {type: array, items: RuleOut}}}
          401: {description: Not signed in}
        """
        resp.media = self.clients.leads.list_rules(staff(req), req.get_param("store_code"))

    def on_post(self, req, resp):
        """Add a routing rule.
        ---
        summary: Add a routing rule (a store's, by its managers; the group's, store_code null, by group admins)
        tags: [routing]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: RuleIn}}
        responses:
          201:
            description: The rule
            content: {application/json: {schema: RuleOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store (or a group rule by a manager)}
          422: {description: Invalid; errors names each field}
        """
        resp.status = falcon.HTTP_201
        resp.media = self.clients.leads.save_rule(staff(req), None, load_json(req, Passthrough))


class Rule(Resource):
    def on_put(self, req, resp, rule_id):
        """Replace a routing rule.
        ---
        summary: Replace a routing rule
        tags: [routing]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: rule_id, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: RuleIn}}
        responses:
          200:
            description: The rule
            content: {application/json: {schema: RuleOut}}
          401: {description: Not signed in}
          403: {description: Not the caller's to change}
          404: {description: No such rule}
          422: {description: Invalid; errors names each field}
        """
        resp.media = self.clients.leads.save_rule(staff(req), rule_id, load_json(req, Passthrough))

    def on_delete(self, req, resp, rule_id):
        """Delete a routing rule.
        ---
        summary: Delete a routing rule
        tags: [routing]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: rule_id, required: true, schema: {type: string}}
        responses:
          204: {description: Deleted}
          401: {description: Not signed in}
          403: {description: Not the caller's to change}
          404: {description: No such rule}
        """
        self.clients.leads.delete_rule(staff(req), rule_id)
        resp.status = falcon.HTTP_204


class Policy(Resource):
    def on_get(self, req, resp, store_code):
        """A store's lead policy.
        ---
        summary: 'The lead policy that applies to a store (its own, else the group''s: store "*")'
        tags: [routing]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: store_code, required: true, schema: {type: string}}
        responses:
          200:
            description: The policy
            content: {application/json: {schema: PolicyOut}}
          401: {description: Not signed in}
          404: {description: Not one of the caller's stores}
        """
        resp.media = self.clients.leads.get_policy(staff(req), store_code)

    def on_put(self, req, resp, store_code):
        """Change a store's lead policy.
        ---
        summary: Change a store's lead policy (the fields given); store "*" is the group's default
        tags: [routing]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: store_code, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: PolicyIn}}
        responses:
          200:
            description: The policy
            content: {application/json: {schema: PolicyOut}}
          401: {description: Not signed in}
          403: {description: Not a manager of the store (or the group's, by a manager)}
          404: {description: Not one of the caller's stores}
          422: {description: Invalid; errors names each field}
        """
        resp.media = self.clients.leads.save_policy(staff(req), store_code, load_json(req, Passthrough))


class ScoringModel(Resource):
    def on_post(self, req, resp):
        """Rebuild the scoring model now.
        ---
        summary: Learn the score from the group's won and lost leads now (it is also rebuilt daily)
        tags: [routing]
        security: [{bearer: []}]
        responses:
          200:
            description: '{"trained_at", "won", "lost", "used": whether scores use it, "min_history"}'
          401: {description: Not signed in}
          403: {description: Managers and group admins only}
        """
        resp.media = self.clients.leads.rebuild_scoring(staff(req))


def add_routes(app, gateway) -> None:
    app.add_route("/v1/admin/routing-rules", Rules(gateway.clients))
    app.add_route("/v1/admin/routing-rules/{rule_id}", Rule(gateway.clients))
    app.add_route("/v1/admin/lead-policies/{store_code}", Policy(gateway.clients))
    app.add_route("/v1/admin/scoring-model", ScoringModel(gateway.clients))
