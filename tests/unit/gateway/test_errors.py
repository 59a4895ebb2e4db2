"""services.gateway.errors: the one table from errors to HTTP."""
import falcon
import falcon.testing
import pytest
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

from services.gateway import errors

EXPECTED = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.TooLarge: 413,
    errors.UnsupportedType: 415,
    errors.Invalid: 422,
    errors.InvalidInput: 422,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}


class Raises:
    """A resource whose GET raises what the test gives it."""

    def __init__(self):
        self.exc = None

    def on_get(self, req, resp):
        raise self.exc


@pytest.fixture
def raising():
    resource = Raises()
    app = falcon.App()
    errors.install(app)
    app.add_route("/boom", resource)
    client = falcon.testing.TestClient(app)

    def get(exc):
        resource.exc = exc
        return client.simulate_get("/boom")
    return get


def test_every_gateway_error_is_in_the_table():
    assert set(errors.GatewayError.__subclasses__()) == set(EXPECTED)
    assert set(errors.HTTP_ERRORS) == set(EXPECTED)


@pytest.mark.parametrize("exc_type, status", sorted(EXPECTED.items(), key=lambda kv: kv[1]))
def test_table_status(exc_type, status):
    http_status, title = errors.HTTP_ERRORS[exc_type]
    assert falcon.http_status_to_code(http_status) == status
    assert title


@pytest.mark.parametrize("exc_type, status", sorted(EXPECTED.items(), key=lambda kv: kv[1]))
def test_each_error_answers_with_its_status_and_a_json_body(raising, exc_type, status):
    result = raising(exc_type("what went wrong"))
    assert result.status_code == status
    assert result.json == {"title": errors.HTTP_ERRORS[exc_type][1],
                           "description": "what went wrong"}


def test_errors_and_headers_are_passed_on(raising):
    result = raising(errors.Invalid("bad", errors={"source": ["Missing."]},
                                    headers={"Retry-After": "3"}))
    assert result.status_code == 422
    assert result.json["errors"] == {"source": ["Missing."]}
    assert result.headers["Retry-After"] == "3"


@pytest.mark.parametrize("exc_type, gateway_error", sorted(errors.REMOTE_ERRORS.items()))
def test_a_services_public_error_becomes_the_gateways(exc_type, gateway_error):
    translated = errors.from_remote(RemoteError(exc_type, "no lead x"))
    assert type(translated) is gateway_error and translated.description == "no lead x"


def test_a_service_error_brings_its_description_and_fields():
    from services.customers.exceptions import ContactTaken
    sent = ContactTaken("A phone is another customer's.", errors={"phones": ["+8613800138000 is c-1's."]})
    translated = errors.from_remote(RemoteError("ContactTaken", str(sent)))
    assert type(translated) is errors.Conflict
    assert translated.description == "A phone is another customer's."
    assert translated.errors == {"phones": ["+8613800138000 is c-1's."]}


def test_another_remote_error_stays_as_it_is():
    original = RemoteError("KeyError", "secret internals")
    assert errors.from_remote(original) is original


def test_an_unknown_remote_error_is_a_500_without_details(raising):
    result = raising(RemoteError("KeyError", "secret internals"))
    assert result.status_code == 500
    assert "secret internals" not in result.text


@pytest.mark.parametrize("exc", [RpcTimeout(), UnknownService("leads"),
                                 OperationalError("broker gone"), ConnectionRefusedError()])
def test_bus_down_is_a_503_with_retry_after(raising, exc):
    result = raising(exc)
    assert result.status_code == 503
    assert result.headers["Retry-After"] == "5"
    assert result.json["title"] == "Service unavailable"
