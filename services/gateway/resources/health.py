"""``/healthz`` (the process answers) and ``/readyz`` (it can take leads).

Readiness is what intake needs and nothing more: the broker and the
gateway's own database. A service that is down or slow never makes the
gateway unready (the leads wait in their durable queue for it);
``/readyz?full=1`` also asks every service for a ping, for people and for
tests that want the whole system up.
"""
import falcon
from sqlalchemy import text


class Health:
    def on_get(self, req, resp):
        """Liveness.
        ---
        summary: The gateway process answers (liveness)
        tags: [operations]
        responses:
          200: {description: 'Alive: status "ok"'}
        """
        resp.media = {"status": "ok"}


def failure(exc: Exception, what: str) -> str:
    return f"{what}: {exc.__class__.__name__}"


class Ready:
    def __init__(self, sessions, publisher, clients):
        self.sessions, self.publisher, self.clients = sessions, publisher, clients

    def on_get(self, req, resp):
        """Readiness.
        ---
        summary: What intake needs answers (the readiness probe); with full=1, every service too
        tags: [operations]
        parameters:
          - {in: query, name: full, schema: {type: boolean}, description: also ping every service}
        responses:
          200: {description: Ready; the checks by name}
          503: {description: Not ready; the failed checks say why}
        """
        checks = {"broker": self.check(self.publisher.ping, "unreachable"),
                  "database": self.check(self.ping_database, "unreachable")}
        if req.get_param_as_bool("full"):
            for service, client in self.clients.each().items():
                checks[service] = (self.check(client.ping, "no answer") if checks["broker"] == "ok"
                                   else "not asked: the broker is unreachable")
        ready = all(value == "ok" for value in checks.values())
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "not ready", "checks": checks}

    @staticmethod
    def check(probe, what: str) -> str:
        try:
            probe()
            return "ok"
        except Exception as exc:
            return failure(exc, what)

    def ping_database(self) -> None:
        with self.sessions() as session:
            session.execute(text("SELECT 1"))


def add_routes(app, gateway) -> None:
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(gateway.sessions, gateway.publisher, gateway.clients))
