"""The gateway's Prometheus metrics.

gunicorn runs several worker processes, and a scrape of one of them would
see that worker alone. prometheus-client's multiprocess mode has every
worker write its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (which
``gunicorn_conf`` sets before any worker imports prometheus_client) and the
gunicorn master serves their sum on ``METRICS_PORT``. Outside gunicorn (unit
tests) the same metrics live in the process's default registry.

- ``dealerflow_http_requests_total{route,method,status}`` and
  ``dealerflow_http_request_duration_seconds{route,method}``: every answer,
  by Falcon's route template (``/v1/leads/{lead_id}``), never the path, so
  that no id becomes a label; a path no route matches (a 404, or a page of
  the web app, which its sink serves) is ``unmatched``. A stream's duration
  is the time to its first byte.
- ``dealerflow_intake_total{outcome,reason}``: every ``POST /v1/leads``,
  accepted (``new``, ``duplicate``: its lead was here already, ``replay``:
  a repeated Idempotency-Key) or refused, the reason read off the status
  (``REFUSED``), since a refusal can come from the authentication middleware
  before the resource runs.
- ``dealerflow_intake_publish_seconds``: how long a lead waited for the
  broker to confirm it safe, its wait for a free channel included: what
  a ``202`` is made of beside the gateway's own work.
- ``dealerflow_http_requests_in_flight``: requests being answered now (a
  stream until its first byte), and ``dealerflow_stream_connections``: open
  live streams; both summed over the live workers (``livesum``: a dead
  worker's are gone with it).
"""
import time

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("dealerflow_http_requests", "HTTP requests answered",
                        ["route", "method", "status"])
HTTP_DURATION = Histogram("dealerflow_http_request_duration_seconds",
                          "Time from a request's arrival to its answer's first byte", ["route", "method"])
INTAKE = Counter("dealerflow_intake", "Lead submissions (POST /v1/leads), accepted or refused, and why",
                 ["outcome", "reason"])
INTAKE_PUBLISH = Histogram("dealerflow_intake_publish_seconds",
                           "Time a lead waited for the broker's confirm, the batch before it included")
HTTP_IN_FLIGHT = Gauge("dealerflow_http_requests_in_flight", "Requests being answered now",
                       multiprocess_mode="livesum")
STREAM_CONNECTIONS = Gauge("dealerflow_stream_connections", "Open live streams (/v1/stream)",
                           multiprocess_mode="livesum")

UNMATCHED = "unmatched"
INTAKE_ROUTE = ("POST", "/v1/leads")
ACCEPTED, REFUSED = "accepted", "refused"
# an intake refusal's reason by its status; any other failure is an "error"
REFUSALS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 413: "too_large",
            415: "unsupported_type", 422: "invalid", 429: "rate_limited", 503: "unavailable"}


class HttpMetrics:
    """Falcon middleware, first in the chain so that its ``process_response``
    runs for every request, refused ones included. A request refused by a
    middleware (a bad key: 401) has no ``uri_template`` yet, since Falcon
    routes after ``process_request``; its template is then looked up in
    ``router``, which costs a lookup on such refusals only.

    Intake: the resource says why it accepted (``req.context.intake``)."""

    def __init__(self, router):
        self.router = router

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()
        HTTP_IN_FLIGHT.inc()

    def process_response(self, req, resp, resource, req_succeeded):
        HTTP_IN_FLIGHT.dec()
        route = req.uri_template or self.template(req.path)
        status = resp.status_code
        HTTP_REQUESTS.labels(route, req.method, status).inc()
        HTTP_DURATION.labels(route, req.method).observe(time.perf_counter() - req.context.started)
        if (req.method, route) == INTAKE_ROUTE:
            if status < 300:
                INTAKE.labels(ACCEPTED, req.context.get("intake", "unknown")).inc()
            else:
                INTAKE.labels(REFUSED, REFUSALS.get(status, "error")).inc()

    def template(self, path: str) -> str:
        found = self.router.find(path)
        return found[3] if found else UNMATCHED
