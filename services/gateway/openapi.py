"""The OpenAPI 3 document of the gateway, made from the app itself.

Every responder (``on_get``, ``on_post`` ...) of a route under ``/v1`` (and
the health routes) carries its operation in its docstring, as YAML after a
line ``---`` (summary, parameters, requestBody, responses, security);
bodies and query parameters name marshmallow schemas (by class name), which
apispec turns into components. So the document
cannot list a route that does not exist, and a test checks that no route
is left undocumented.
"""
from importlib import metadata

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_yaml_from_docstring

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC = ("/healthz", "/readyz")


def routes(app) -> list[tuple[str, object]]:
    """``(uri template, resource)`` of every route of a Falcon app."""
    found, nodes = [], list(app._router._roots)
    while nodes:
        node = nodes.pop()
        if node.resource is not None:
            found.append((node.uri_template, node.resource))
        nodes.extend(node.children)
    return sorted(found, key=lambda route: route[0])


def documented(path: str) -> bool:
    """Whether a route belongs in the API document (the web app's pages do not)."""
    return path.startswith("/v1/") or path in PUBLIC


def operations(resource) -> dict:
    """The OpenAPI operations of a resource: each responder's docstring
    holds its operation as YAML after a line ``---``."""
    return {method: load_yaml_from_docstring(getattr(resource, f"on_{method}").__doc__ or "") or {}
            for method in METHODS if hasattr(resource, f"on_{method}")}


def build(app) -> dict:
    spec = APISpec(
        title="Dealerflow API", version=metadata.version("dealerflow"), openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Lead intake for platforms and the staff API. Conventions "
                             "(pagination, errors, times): docs/api.md."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.security_scheme("apiKey", {"type": "apiKey", "in": "header",
                                               "name": "X-Api-Key"})
    for path, resource in routes(app):
        if documented(path):
            spec.path(path=path, operations=operations(resource))
    return spec.to_dict()


class OpenApiDocument:
    """``GET /v1/openapi.json``: made once, on the first request."""

    def __init__(self, app):
        self.app, self.document = app, None

    def on_get(self, req, resp):
        """The OpenAPI document.
        ---
        summary: This document (OpenAPI 3)
        tags: [meta]
        responses:
          200: {description: The OpenAPI document}
        """
        if self.document is None:
            self.document = build(self.app)
        resp.media = self.document


def add_routes(app, gateway) -> None:
    app.add_route("/v1/openapi.json", OpenApiDocument(app))
