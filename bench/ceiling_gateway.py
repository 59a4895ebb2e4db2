"""The bare gateway: what gunicorn + Falcon + a confirmed publish can accept
on this machine, with none of the gateway's own work (no API key lookup, no
dedupe ledger, no database).

POST /v1/leads loads the body with the contract's ``LeadIn`` schema and
publishes it with the gateway's own publisher (publisher confirm, durable
queue), aimed at the bench-only queue ``bench.ceiling``. Served like the
gateway: ``gunicorn -c services/gateway/gunicorn_conf.py 'bench.ceiling_gateway:get_app()'``.
"""
import json
import uuid

import falcon
from kombu import Queue
from marshmallow import ValidationError

from dealerflow import config
from services.gateway.bus import IntakePublisher
from services.gateway.platform_lead import LeadIn

QUEUE = "bench.ceiling"


class Leads:
    def __init__(self, publisher):
        self.publisher = publisher

    def on_post(self, req, resp):
        try:
            lead = LeadIn().load(json.loads(req.bounded_stream.read()))
        except (ValueError, ValidationError) as exc:
            raise falcon.HTTPUnprocessableEntity(description=str(exc))
        lead_id = str(uuid.uuid4())
        self.publisher.publish({"id": lead_id, "lead": LeadIn().dump(lead)})
        resp.status = falcon.HTTP_202
        resp.media = {"id": lead_id, "status": "accepted"}


def get_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/v1/leads", Leads(IntakePublisher(config.amqp_uri(), queue=Queue(QUEUE, durable=True))))
    return app
