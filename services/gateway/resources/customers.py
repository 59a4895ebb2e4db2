"""``/v1/customers``: search, profiles, timeline, traits, behaviours,
possible duplicates and merges, imports, and personal data on request.

The gateway passes each request on to the customers service with the
actor; the service decides what the actor may see and do (docs/customers.md)
and answers with ``dealerflow.customer_contracts``' schemas, which these
docstrings name for the OpenAPI document.
"""
import base64

import falcon
from marshmallow import INCLUDE, Schema

from dealerflow.contracts import CustomerQuery  # noqa: F401 (named in the docstrings' OpenAPI)
from dealerflow.customer_contracts import (  # noqa: F401 (named in the docstrings' OpenAPI)
    BehaviourIn,
    CustomerExport,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    DuplicatePage,
    ImportCommit,
    ImportMapping,
    ImportOut,
    MergeIn,
    MergeOut,
    MergePage,
    PageQuery,
    TimelinePage,
    TraitDecision,
)
from services.gateway.authn import staff
from services.gateway.errors import InvalidInput, Unauthorized
from services.gateway.resources.auth import load_json
from services.gateway.resources.leads import read_body

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def params(req) -> dict:
    return dict(req.params)


def language(req) -> str:
    """The caller's language for labels: ``lang``, else Accept-Language, else en."""
    wanted = req.get_param("lang") or req.get_header("Accept-Language") or "en"
    return "zh-CN" if wanted.lower().startswith("zh") else "en"


class Passthrough(Schema):
    """A JSON object the service loads itself (its errors come back as 422)."""

    class Meta:
        unknown = INCLUDE


class Resource:
    """A route of this area: it asks the customers service (and, for an export, the others)."""

    def __init__(self, clients):
        self.clients = clients


class CustomerCollection(Resource):
    def on_get(self, req, resp):
        """Find customers.
        ---
        summary: Search customers in scope (name, pinyin initials, phone fragment, email; filters)
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: CustomerQuery}
        responses:
          200:
            description: A page of customers; pass next_cursor as cursor for the next
            content: {application/json: {schema: CustomerPage}}
          401: {description: Not signed in}
          422: {description: A query parameter is not valid}
        """
        resp.media = self.clients.customers.search_customers(staff(req), params(req))

    def on_post(self, req, resp):
        """Create a customer.
        ---
        summary: Create a customer (its phones and emails must be nobody else's)
        tags: [customers]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: CustomerIn}}
        responses:
          201:
            description: The customer
            content: {application/json: {schema: CustomerOut}}
          401: {description: Not signed in}
          403: {description: A store that is not the caller's}
          409: {description: A phone or email is another customer's; errors names it (and whose)}
          422: {description: Invalid; errors names each field}
        """
        actor = staff(req)
        resp.status = falcon.HTTP_201
        resp.media = self.clients.customers.create_customer(actor, load_json(req, Passthrough))


class CustomerItem(Resource):
    def on_get(self, req, resp, customer_id):
        """A customer's profile.
        ---
        summary: A customer, with contacts, preferences, traits, leads and open possible duplicates
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: customer_id, required: true, schema: {type: string}}
          - {in: query, name: lang, schema: {type: string, enum: [en, zh-CN]}, description: traits' labels}
        responses:
          200:
            description: The customer
            content: {application/json: {schema: CustomerOut}}
          401: {description: Not signed in}
          404: {description: No such customer, or not one the caller may see}
        """
        resp.media = self.clients.customers.get_customer(staff(req), customer_id, language(req))

    def on_patch(self, req, resp, customer_id):
        """Change a customer.
        ---
        summary: Change what is sent (phones and emails, when sent, are the whole list)
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: customer_id, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: CustomerIn}}
        responses:
          200:
            description: The customer as it is now
            content: {application/json: {schema: CustomerOut}}
          401: {description: Not signed in}
          403: {description: Not allowed (a consultant giving the customer away, another store)}
          404: {description: No such customer in scope}
          409: {description: A phone or email is another customer's, or revision is stale}
          422: {description: Invalid; errors names each field}
        """
        resp.media = self.clients.customers.update_customer(staff(req), customer_id,
                                                            load_json(req, Passthrough))

    def on_delete(self, req, resp, customer_id):
        """Erase a customer.
        ---
        summary: Erase a customer's personal data everywhere (PIPL, GDPR); anonymous counts stay
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: customer_id, required: true, schema: {type: string}}
        responses:
          204: {description: Erased; every service scrubs the customer's leads}
          401: {description: Not signed in}
          403: {description: Managers and group admins only}
          404: {description: No such customer in scope}
        """
        self.clients.customers.erase_customer(staff(req), customer_id)
        resp.status = falcon.HTTP_204


class CustomerExportItem(Resource):
    def on_get(self, req, resp, customer_id):
        """Everything held about a customer.
        ---
        summary: Export everything held about one customer, from every service (JSON)
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: customer_id, required: true, schema: {type: string}}
        responses:
          200:
            description: >-
              The customers service's record (CustomerExport) with, under "leads_detail", each lead as the
              leads service holds it and its tasks
            content: {application/json: {schema: CustomerExport}}
          401: {description: Not signed in}
          403: {description: Managers and group admins only}
          404: {description: No such customer in scope}
          503: {description: A service holding part of the data cannot be reached; nothing partial is given}
        """
        actor = staff(req)
        held = self.clients.customers.export_customer(actor, customer_id)
        held["leads_detail"] = [dict(self.clients.leads.get_lead_detail(lead["lead_id"], actor),
                                     tasks=self.clients.followups.list_tasks(actor, lead["lead_id"]))
                                for lead in held["leads"]]
        resp.media = held
        resp.set_header("Content-Disposition", f'attachment; filename="customer-{customer_id}.json"')


class Timeline(Resource):
    def on_get(self, req, resp, customer_id):
        """A customer's timeline.
        ---
        summary: What happened with the customer, newest first
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: customer_id, required: true, schema: {type: string}}
          - {in: query, schema: PageQuery}
        responses:
          200:
            description: A page of timeline entries
            content: {application/json: {schema: TimelinePage}}
          401: {description: Not signed in}
          404: {description: No such customer in scope}
        """
        resp.media = self.clients.customers.get_timeline(staff(req), customer_id, params(req))


class TraitItem(Resource):
    def on_put(self, req, resp, customer_id, trait):
        """Confirm or remove a derived trait.
        ---
        summary: Confirm a derived trait, or remove it (it is not inferred again)
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: customer_id, required: true, schema: {type: string}}
          - {in: path, name: trait, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: TraitDecision}}
        responses:
          204: {description: Decided}
          401: {description: Not signed in}
          404: {description: No such customer in scope, or no such trait}
          422: {description: Invalid status}
        """
        self.clients.customers.decide_trait(staff(req), customer_id, trait, load_json(req, Passthrough))
        resp.status = falcon.HTTP_204


class Behaviours(Resource):
    def on_post(self, req, resp):
        """What a known customer did.
        ---
        summary: Tell what a known customer did (a model viewed, the configurator, the finance calculator...)
        description: >-
          The customer is found by phone or email among the customers of the caller's stores; nobody is
          created, and the answer does not say whether the person is a customer.
        tags: [customers, intake]
        security: [{apiKey: []}, {bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: BehaviourIn}}
        responses:
          202: {description: Taken}
          401: {description: No credentials}
          422: {description: Invalid; errors names each field}
        """
        actor = req.context.actor
        if actor is None:
            raise Unauthorized("Send an X-Api-Key or a Bearer token.")
        self.clients.customers.record_behaviour(actor, load_json(req, Passthrough))
        resp.status = falcon.HTTP_202
        resp.media = {"status": "accepted"}


class Duplicates(Resource):
    def on_get(self, req, resp):
        """Possible duplicates.
        ---
        summary: Pairs of customers that may be one person, for a person to decide
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: PageQuery}
        responses:
          200:
            description: A page of open pairs, newest first
            content: {application/json: {schema: DuplicatePage}}
          401: {description: Not signed in}
        """
        resp.media = self.clients.customers.list_duplicates(staff(req), params(req))


class DuplicateDismissal(Resource):
    def on_post(self, req, resp, pair_id):
        """Not the same person.
        ---
        summary: Dismiss a possible duplicate (not the same person)
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: pair_id, required: true, schema: {type: string}}
        responses:
          204: {description: Dismissed}
          401: {description: Not signed in}
          404: {description: One of the two is not in scope}
          422: {description: No such open pair}
        """
        self.clients.customers.dismiss_duplicate(staff(req), pair_id)
        resp.status = falcon.HTTP_204


class Merges(Resource):
    def on_get(self, req, resp):
        """The merges, for audit.
        ---
        summary: Who merged which customers, when and why
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: query, schema: PageQuery}
        responses:
          200:
            description: A page of merges, newest first
            content: {application/json: {schema: MergePage}}
          401: {description: Not signed in}
          403: {description: Managers and group admins only}
        """
        resp.media = self.clients.customers.list_merges(staff(req), params(req))

    def on_post(self, req, resp):
        """Merge two customers.
        ---
        summary: Merge one customer into another, keeping everything of both
        tags: [customers]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: MergeIn}}
        responses:
          201:
            description: The merge, as the audit list shows it
            content: {application/json: {schema: MergeOut}}
          401: {description: Not signed in}
          403: {description: Managers and group admins only}
          404: {description: A customer not in scope}
          422: {description: Invalid}
        """
        resp.status = falcon.HTTP_201
        resp.media = self.clients.customers.merge_customers(staff(req), load_json(req, Passthrough))


class Imports(Resource):
    def on_post(self, req, resp):
        """Upload a spreadsheet to import.
        ---
        summary: Upload an .xlsx or .csv of customers (the body is the file); then dry-run, then commit
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: store_code, required: true, schema: {type: string}}
          - {in: query, name: filename, required: true, schema: {type: string}, description: ends .xlsx or .csv}
        requestBody:
          required: true
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {schema: {type: string,
              format: binary}}
            text/csv: {schema: {type: string, format: binary}}
            application/octet-stream: {schema: {type: string, format: binary}}
        responses:
          201:
            description: >-
              The import, status "reading": its header row, suggested mapping and first rows appear
              (status "uploaded") within seconds; poll GET /v1/customers/imports/{import_id}
            content: {application/json: {schema: ImportOut}}
          401: {description: Not signed in}
          403: {description: Managers and group admins only, in their stores}
          413: {description: Over 20 MiB}
          422: {description: Not an .xlsx or .csv, or a parameter missing}
        """
        actor = staff(req)
        store_code, filename = req.get_param("store_code"), req.get_param("filename")
        missing = {name: ["Required."] for name, value in (("store_code", store_code), ("filename", filename))
                   if not value}
        if missing:
            raise InvalidInput("Say which store and which file.", errors=missing)
        body = read_body(req, MAX_IMPORT_BYTES)
        resp.status = falcon.HTTP_201
        resp.media = self.clients.customers.start_import(actor, store_code, filename,
                                                         base64.b64encode(body).decode())


class ImportItem(Resource):
    def on_get(self, req, resp, import_id):
        """An import and how far it got.
        ---
        summary: An import, its progress, counts, and its rejected and matched rows
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: import_id, required: true, schema: {type: string}}
        responses:
          200:
            description: The import
            content: {application/json: {schema: ImportOut}}
          401: {description: Not signed in}
          404: {description: No such import in the caller's stores}
        """
        resp.media = self.clients.customers.get_import(staff(req), import_id)


class ImportStep(Resource):
    """``POST /v1/customers/imports/{id}/dry-run`` and ``.../commit``."""

    def __init__(self, clients, method: str):
        super().__init__(clients)
        self.method = method

    def on_post(self, req, resp, import_id):
        """Take an import's next step.
        ---
        summary: "dry-run: check every row with this mapping (ImportMapping); commit: import (ImportCommit)"
        tags: [customers]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: import_id, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: {oneOf: [ImportMapping, ImportCommit]}}}
        responses:
          202:
            description: Started; poll the import for its progress
            content: {application/json: {schema: ImportOut}}
          401: {description: Not signed in}
          403: {description: Managers and group admins only}
          404: {description: No such import in the caller's stores}
          409: {description: Not the step for the import's state (or rows rejected without skip_rejected)}
          422: {description: Invalid mapping}
        """
        resp.status = falcon.HTTP_202
        resp.media = getattr(self.clients.customers, self.method)(staff(req), import_id,
                                                                  load_json(req, Passthrough))


def add_routes(app, gateway) -> None:
    clients = gateway.clients
    app.add_route("/v1/customers", CustomerCollection(clients))
    app.add_route("/v1/customers/{customer_id}", CustomerItem(clients))
    app.add_route("/v1/customers/{customer_id}/export", CustomerExportItem(clients))
    app.add_route("/v1/customers/{customer_id}/timeline", Timeline(clients))
    app.add_route("/v1/customers/{customer_id}/traits/{trait}", TraitItem(clients))
    app.add_route("/v1/customers/behaviours", Behaviours(clients))
    app.add_route("/v1/customers/duplicates", Duplicates(clients))
    app.add_route("/v1/customers/duplicates/{pair_id}/dismiss", DuplicateDismissal(clients))
    app.add_route("/v1/customers/merges", Merges(clients))
    app.add_route("/v1/customers/imports", Imports(clients))
    app.add_route("/v1/customers/imports/{import_id}", ImportItem(clients))
    app.add_route("/v1/customers/imports/{import_id}/dry-run", ImportStep(clients, "check_import"))
    app.add_route("/v1/customers/imports/{import_id}/commit", ImportStep(clients, "commit_import"))
