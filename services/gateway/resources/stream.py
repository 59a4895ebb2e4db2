"""``/v1/stream``: live push to a signed-in user's browser (server-sent events).

A browser's ``EventSource`` cannot send an ``Authorization`` header, so the
stream authenticates with a ticket: ``POST /v1/stream/tickets`` (Bearer)
answers a signed ticket good for 60 seconds and for opening the stream only
(its own audience: it is no access token), which the app passes as
``?ticket=``. The user and their sign-in session are checked when the
stream opens; a revoked session's stream is not reopened. A ticket in a URL
can reach logs, which is why it is short-lived and useless for anything
else. On any error the app asks for a new ticket and reopens the stream
with ``last_event_id`` (a new ``EventSource`` sends no ``Last-Event-ID``).
"""
from datetime import timedelta

from services.gateway.authn import BEARER, Authentication, staff
from services.gateway.errors import Unauthorized
from services.gateway.tokens import STREAM_AUDIENCE, BadToken, Tokens

TICKET_LIFETIME = timedelta(seconds=60)


class StreamTickets:
    def __init__(self, tickets: Tokens):
        self.tickets = tickets

    def on_post(self, req, resp):
        """A ticket to open the stream.
        ---
        summary: A short-lived ticket to open /v1/stream (EventSource cannot send a Bearer token)
        tags: [stream]
        security: [{bearer: []}]
        responses:
          200: {description: '{"ticket": "...", "expires_in": 60}'}
          401: {description: Not signed in}
        """
        actor = staff(req)
        resp.set_header("Cache-Control", "no-store")
        resp.media = {"ticket": self.tickets.issue(actor.user_id, req.context.session_id),
                      "expires_in": int(TICKET_LIFETIME.total_seconds())}


class Stream:
    def __init__(self, hub, tickets: Tokens, authentication: Authentication):
        self.hub, self.tickets, self.authentication = hub, tickets, authentication

    def on_get(self, req, resp):
        """The signed-in user's live events.
        ---
        summary: Server-sent events for the signed-in user (lead_assigned, lead_changed, notification; heartbeats every 15 s)
        tags: [stream]
        parameters:
          - {in: query, name: ticket, required: true, schema: {type: string}}
          - {in: query, name: last_event_id, schema: {type: string},
             description: resume after this event (the Last-Event-ID header works too)}
        responses:
          200:
            description: >-
              text/event-stream, each event an "id:", an "event:" and a "data:" line of JSON.
              "lead_assigned": {lead_id, store_code, consultant_id, previous_consultant_id,
              customer_name, assigned_at, first_contact_due_at, reason, grade} of a lead in
              the caller's scope. "lead_changed": {lead_id, store_code, consultant_id, change,
              status, stage, grade, tell}. "notification": a new message in the caller's own
              inbox, {id, user_id, kind, title, body, link, lead_id, created_at, read_at}
              (InboxMessageOut), sent to that user alone.
          401: {description: No ticket, or one that is expired, forged or whose session ended}
        """
        try:
            claims = self.tickets.read(req.get_param("ticket") or "")
        except BadToken as exc:
            raise Unauthorized(f"The stream ticket is not valid: {exc}; ask for a new one.",
                               headers=BEARER)
        actor = self.authentication.actor_of(claims)
        self.hub.start()
        client, missed = self.hub.subscribe(
            actor, req.get_header("Last-Event-ID") or req.get_param("last_event_id"))
        resp.content_type = "text/event-stream"
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")  # proxies must not buffer it
        # one stream a connection: a stopping worker waits for its open
        # connections, and a kept-alive one would hold it until its timeout
        resp.set_header("Connection", "close")
        resp.stream = self.hub.events(client, missed)


def add_routes(app, gateway) -> None:
    tickets = Tokens(lifetime=TICKET_LIFETIME, audience=STREAM_AUDIENCE)
    app.add_route("/v1/stream/tickets", StreamTickets(tickets))
    app.add_route("/v1/stream", Stream(gateway.hub, tickets,
                                       Authentication(gateway.reads, gateway.limiter)))
