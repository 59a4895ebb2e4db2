"""``/v1/analytics/...``: the funnel and the KPIs (docs/analytics.md). The
leads service computes the figures about leads; for the consultants'
table the followups service adds what they did (follow-ups, tasks on
time); ``/v1/analytics/export`` writes any table as CSV or ``.xlsx``.
``/v1/admin/source-costs``: what a lead source costs a store a month."""
import json

import falcon

from dealerflow.analytics_contracts import (  # noqa: F401 (OpenAPI)
    TABLES,
    AnalyticsQuery,
    ConsultantsOut,
    DemandOut,
    FunnelOut,
    ResponseTimesOut,
    SourceCostIn,
    SourceCostOut,
    SourcesOut,
)
from services.gateway import tables
from services.gateway.authn import staff
from services.gateway.errors import Invalid
from services.gateway.resources.auth import load_json
from services.gateway.resources.customers import language
from services.gateway.resources.lead_actions import Passthrough

FORMATS = {"csv": ("text/csv; charset=utf-8", tables.as_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None)}


def scope_params(req) -> dict:
    return {name: value for name, value in req.params.items() if name not in ("table", "format", "lang")}


def report(clients, actor, name: str, query: dict) -> dict:
    """One report; the consultants' with what each did, from the followups service."""
    answer = clients.leads.analytics(actor, name, query)
    if name == "consultants":
        narrowed = bool(query.get("consultant_id") or query.get("team_id"))
        done = clients.followups.activity(actor, {
            "created_from": answer["scope"]["created_from"], "created_to": answer["scope"]["created_to"],
            "store_codes": sorted({row["store_code"] for row in answer["rows"] if row["store_code"]}),
            "consultant_ids": [row["consultant_id"] for row in answer["rows"]] if narrowed else None})
        for row in answer["rows"]:
            row.update(done.get(row["consultant_id"]) or {"followups_done": 0, "tasks_due": 0,
                                                         "on_time_rate": None})
    return answer


class Report:
    """A report's route; ``documented`` makes one per report, with its OpenAPI operation."""

    def __init__(self, clients):
        self.clients = clients


def documented(name: str, summary: str, out: str) -> type:
    def on_get(self, req, resp):
        resp.media = report(self.clients, staff(req), name, scope_params(req))
    on_get.__doc__ = f"""{summary}
        ---
        summary: {json.dumps(summary, ensure_ascii=False)}
        tags: [analytics]
        security: [{{bearer: []}}]
        parameters:
          - {{in: query, schema: AnalyticsQuery}}
        responses:
          200:
            description: The report, over the leads created in the range (docs/analytics.md)
            content: {{application/json: {{schema: {out}}}}}
          401: {{description: Not signed in}}
          404: {{description: A store that is not the caller's}}
          422: {{description: A query parameter is not valid; errors names it}}
        """
    return type(f"{name.title().replace('_', '')}Report", (Report,), {"on_get": on_get})


Funnel = documented("funnel", "The funnel: counts per stage, conversion, time in stage, dealer rates, "
                    "lost reasons", "FunnelOut")
Sources = documented("sources", "Source effectiveness: per source and channel, contact, test-drive and win "
                     "rates, response time, revenue, cost per lead and per sale", "SourcesOut")
Demand = documented("demand", "Demand: what people ask for (by brand, model, fuel type or budget band) per "
                    "day, week or month", "DemandOut")
Consultants = documented("consultants", "Consultant KPIs and the ranking in each store", "ConsultantsOut")
ResponseTimes = documented("response_times", "First-response times: the histogram, the share under 5 minutes, "
                           "per store or per consultant", "ResponseTimesOut")


class Export:
    def __init__(self, clients):
        self.clients = clients

    def on_get(self, req, resp):
        """One table as a CSV or .xlsx file.
        ---
        summary: Export one analytics table as CSV (UTF-8 with BOM) or .xlsx
        tags: [analytics]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: table, required: true, schema: {type: string, enum: [funnel, rates, lost_reasons,
             sources, demand, consultants, response_times]}}
          - {in: query, name: format, schema: {type: string, enum: [csv, xlsx], default: xlsx}}
          - {in: query, name: lang, schema: {type: string, enum: [zh, en]}, description: the headers' language}
          - {in: query, schema: AnalyticsQuery}
        responses:
          200:
            description: The file (Content-Disposition names it)
            content:
              text/csv: {schema: {type: string}}
              application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {schema: {type: string,
                format: binary}}
          401: {description: Not signed in}
          422: {description: An unknown table or format, or a bad filter}
        """
        actor = staff(req)
        name, fmt = req.get_param("table"), req.get_param("format") or "xlsx"
        problems = {**({"table": [f"one of {', '.join(TABLES)}"]} if name not in TABLES else {}),
                    **({"format": ["csv or xlsx"]} if fmt not in FORMATS else {})}
        if problems:
            raise Invalid("The query is not valid; see errors.", errors=problems)
        answer = report(self.clients, actor, tables.REPORT_OF[name], scope_params(req))
        header, rows = tables.table(name, answer, language(req))
        scope = answer["scope"]
        resp.content_type = FORMATS[fmt][0]
        resp.data = tables.as_csv(header, rows) if fmt == "csv" else tables.as_xlsx(name, header, rows)
        resp.set_header("Content-Disposition", f'attachment; filename="dealerflow-{name}-{scope["from"]}-'
                                               f'{scope["to"]}.{fmt}"')


class SourceCosts:
    def __init__(self, clients):
        self.clients = clients

    def on_get(self, req, resp):
        """What lead sources cost.
        ---
        summary: The monthly costs of lead sources in the caller's stores (or one store's)
        tags: [analytics]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: store_code, schema: {type: string}}
        responses:
          200:
            description: The costs, newest month first
            content: {application/json: {schema: {type: array, items: SourceCostOut}}}
          401: {description: Not signed in}
          404: {description: A store that is not the caller's}
        """
        resp.media = self.clients.leads.list_source_costs(staff(req), req.get_param("store_code"))

    def on_put(self, req, resp):
        """Set what a source costs a store in a month.
        ---
        summary: Set (or with amount null remove) a store's monthly cost of a lead source
        tags: [analytics]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: SourceCostIn}}
        responses:
          200:
            description: The cost as kept
            content: {application/json: {schema: SourceCostOut}}
          204: {description: Removed (amount null)}
          401: {description: Not signed in}
          403: {description: Not a manager or a group admin}
          404: {description: A store that is not the caller's}
          422: {description: Invalid; errors names each field}
        """
        kept = self.clients.leads.save_source_cost(staff(req), load_json(req, Passthrough))
        if kept is None:
            resp.status = falcon.HTTP_204
        else:
            resp.media = kept


def add_routes(app, gateway) -> None:
    clients = gateway.clients
    for path, resource in (("funnel", Funnel), ("sources", Sources), ("demand", Demand),
                           ("consultants", Consultants), ("response-times", ResponseTimes)):
        app.add_route(f"/v1/analytics/{path}", resource(clients))
    app.add_route("/v1/analytics/export", Export(clients))
    app.add_route("/v1/admin/source-costs", SourceCosts(clients))
