"""The web app: the static files of ``services/gateway/web/``, served as
they are (no build step, no Node.js at run time).

- ``/`` and every other app path (vue-router's history mode) -> ``index.html``;
  ``/v1/...`` and ``/static/...`` never fall back to it;
- ``/static/...`` -> ``web/static/``, revalidated on every load (ETag);
- ``/sw.js`` -> the service worker, preceded by this build's version and
  the app shell it precaches, both derived from the files themselves, so
  that any changed file installs a new worker and drops the old cache;
- ``/manifest.webmanifest`` and ``/docs`` (Redoc on ``/v1/openapi.json``).
"""
import base64
import hashlib
import json
import re
from pathlib import Path

import falcon
from falcon.routing import StaticRoute

WEB = Path(__file__).resolve().parents[1] / "web"

# Any path of the app's own screens: no dot (not a file), not the API, not a static file.
APP_PATHS = re.compile(r"^/(?!v1(?:/|$)|static/)[\w/-]*$")

# Precached by the service worker. The API docs' Redoc (1 MB) and the managers' charts (ECharts,
# 1 MB, of no use offline: the dashboard is live figures) are left to the network.
NOT_IN_SHELL = {"static/vendor/redoc.standalone.js", "static/vendor/echarts.esm.min.js"}


def content_security_policy(html: str) -> str:
    """Our own origin only; the import map (inline) by its hash. Vue compiles
    its templates with ``Function()`` (``'unsafe-eval'``); Redoc injects styles
    and runs a worker from a blob."""
    import_map = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    hashes = ""
    if import_map:
        digest = base64.b64encode(hashlib.sha256(import_map.group(1).encode()).digest()).decode()
        hashes = f" 'sha256-{digest}'"
    return ("default-src 'self'; "
            f"script-src 'self' 'unsafe-eval'{hashes}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


class Page:
    """One HTML page, read once, with its Content-Security-Policy."""

    def __init__(self, path: Path):
        self.body = path.read_bytes()
        self.policy = content_security_policy(self.body.decode())

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-cache"]
        resp.set_header("Content-Security-Policy", self.policy)
        resp.data = self.body

    def sink(self, req, resp):
        """The page for any of the app's paths (``/leads/42``): the app routes it."""
        if req.method != "GET":
            raise falcon.HTTPMethodNotAllowed(["GET"])
        self.on_get(req, resp)


class File:
    def __init__(self, path: Path, content_type: str, prefix: bytes = b""):
        self.body, self.content_type = prefix + path.read_bytes(), content_type

    def on_get(self, req, resp):
        resp.content_type = self.content_type
        resp.cache_control = ["no-cache"]
        resp.data = self.body


class StaticFiles:
    """falcon's static route (ETag, 304, ranges, no escaping the directory),
    revalidated on every load: a browser never runs yesterday's page with
    today's modules."""

    def __init__(self, prefix: str, directory: Path):
        self.route = StaticRoute(prefix, str(directory))

    def on_get(self, req, resp, path):
        self.route(req, resp)
        resp.cache_control = ["no-cache"]


def shell(web: Path = WEB) -> list[str]:
    """The URLs the service worker precaches: the app's page and its static files."""
    files = sorted(path.relative_to(web).as_posix() for path in (web / "static").rglob("*")
                   if path.is_file())
    return ["/"] + [f"/{name}" for name in files if name not in NOT_IN_SHELL]


def version(web: Path = WEB) -> str:
    """A digest of every file of the app: it changes whenever one does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in web.rglob("*") if p.is_file()):
        digest.update(path.relative_to(web).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def service_worker_prelude(web: Path = WEB) -> bytes:
    return (f"const VERSION = {json.dumps(version(web))};\n"
            f"const SHELL = {json.dumps(shell(web))};\n").encode()


def add_routes(app, gateway) -> None:
    index = Page(WEB / "index.html")
    app.add_route("/", index)
    app.add_sink(index.sink, APP_PATHS)
    app.add_route("/docs", Page(WEB / "docs.html"))
    app.add_route("/sw.js", File(WEB / "sw.js", "text/javascript; charset=utf-8",
                                 prefix=service_worker_prelude()))
    app.add_route("/manifest.webmanifest", File(WEB / "manifest.webmanifest", "application/manifest+json"))
    app.add_route("/static/{path:path}", StaticFiles("/static", WEB / "static"))
