"""The OpenAPI document: every route documented, nothing documented that
is not a route, and every operation complete enough to call."""
import pytest
import schemathesis

from services.gateway import openapi
from tests.unit.gateway.test_app import make_client

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def client(sessions):
    return make_client(sessions)


@pytest.fixture
def document(client):
    result = client.simulate_get("/v1/openapi.json")
    assert result.status_code == 200
    return result.json


def app_operations(app) -> set[tuple[str, str]]:
    return {(path, method) for path, resource in openapi.routes(app) if openapi.documented(path)
            for method in HTTP_METHODS if hasattr(resource, f"on_{method}")}


def test_every_route_is_documented_and_every_documented_route_exists(client, document):
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in HTTP_METHODS}
    assert documented == app_operations(client.app)


def test_every_operation_says_what_it_does_and_answers(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("responses"), f"{method.upper()} {path} has no responses"


def test_the_document_is_valid_openapi(document):
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]  # raises on an invalid one
    assert len(operations) == sum(len(item) for item in document["paths"].values())


def test_every_schema_a_document_refers_to_is_in_it(document):
    text = __import__("json").dumps(document)
    referenced = {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}
    assert referenced <= set(document["components"]["schemas"])
    assert {"LeadDetailOut", "PlatformLeadOut", "LeadPageOut", "LeadIn"} <= referenced
