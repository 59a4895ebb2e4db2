"""``/v1/leads``: intake for lead platforms and the platform's view of a lead."""
import falcon

from services.gateway import intake
from services.gateway.authn import platform as platform_of
from services.gateway.errors import NotFound, TooLarge


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

    def __init__(self, sessions, publisher, max_body: int, offload=None):
        self.sessions = sessions
        self.publisher, self.max_body = publisher, max_body
        self.offload = offload or inline

    def on_post(self, req, resp):
        platform = platform_of(req)  # the key and its rate limit: see authn
        intake.body_format(req.content_type)  # 415 before the body is read
        idempotency_key = intake.check_idempotency_key(req.get_header("Idempotency-Key"))
        body = read_body(req, self.max_body)
        store_code = req.get_param("store_code")
        body_hash = intake.request_hash(body, store_code)
        replayed = None
        if idempotency_key:
            with self.sessions() as session:
                replayed = intake.replayed(session, platform, idempotency_key, body_hash)
        if replayed is not None:
            fmt, ids, new = intake.body_format(req.content_type), replayed, False
        else:
            fmt, ids, new = self.accept(platform, req.content_type, body, store_code, idempotency_key)
            if idempotency_key:
                with self.sessions() as session:
                    intake.remember_key(session, platform, idempotency_key, body_hash, ids)
        answers = [{"id": lead_id, "status": "accepted", "status_url": f"/v1/leads/{lead_id}"}
                   for lead_id in ids]
        resp.status = falcon.HTTP_202 if new else falcon.HTTP_200
        resp.media = answers[0] if fmt == "json" else {"leads": answers}

    def accept(self, platform, content_type, body, store_code, idempotency_key):
        """Parse, validate and publish; the format, the lead ids, and
        whether any lead was new."""
        parse = self.offload if len(body) > self.OFFLOAD_OVER else inline
        fmt, documents, leads = parse(intake.read_and_validate, content_type, body)
        with self.sessions() as session:
            prepared = intake.prepare(session, platform, documents, leads, fmt, idempotency_key,
                                      store_code)
        for item in prepared:
            if item["new"]:
                self.publisher.publish(item["message"])
                with self.sessions() as session:
                    item["new"] = intake.remember(session, platform, item)
        return fmt, [item["id"] for item in prepared], any(item["new"] for item in prepared)


class LeadItem:
    def __init__(self, sessions, clients):
        self.sessions, self.clients = sessions, clients

    def on_get(self, req, resp, lead_id):
        platform = platform_of(req)
        try:
            resp.media = self.clients.leads.get_lead(lead_id, platform.actor())
            return
        except NotFound:
            pass
        with self.sessions() as session:  # accepted, but not stored by the leads service yet?
            record = intake.find_accepted(session, platform, lead_id)
        if record is None:
            raise NotFound(f"No lead {lead_id}.")
        resp.media = {"id": lead_id, "status": "accepted", "store_code": record.store_code,
                      "assigned_at": None, "first_contact_at": None}


def add_routes(app, gateway) -> None:
    app.add_route("/v1/leads", LeadCollection(gateway.sessions, gateway.publisher,
                                              gateway.max_body, gateway.offload))
    app.add_route("/v1/leads/{lead_id}", LeadItem(gateway.sessions, gateway.clients))
