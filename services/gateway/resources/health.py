"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work)."""
import falcon

SERVICES = ("customers", "leads", "followups", "notifications")


class Health:
    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    def __init__(self, publisher, rpc):
        self.publisher, self.rpc = publisher, rpc

    def on_get(self, req, resp):
        checks = {}
        try:
            self.publisher.ping()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"unreachable: {exc.__class__.__name__}"
        for service in SERVICES:
            if checks["broker"] != "ok":
                checks[service] = "not asked: the broker is unreachable"
                continue
            try:
                self.rpc.call(service, "ping")
                checks[service] = "ok"
            except Exception as exc:
                checks[service] = f"no answer: {exc.__class__.__name__}"
        ready = all(value == "ok" for value in checks.values())
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "not ready", "checks": checks}
