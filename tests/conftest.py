import os

import pytest
from hypothesis import settings

from tests.support.stack import Stack

# Property-based tests search a bounded number of examples; in CI with a
# fixed seed, so that a run is repeatable (a failure prints its example).
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200,
                          print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def stack(tmp_path_factory, backend):
    """The running system on one backend, shared by a module's tests."""
    running = Stack(tmp_path_factory.mktemp(f"stack-{backend}"), backend)
    running.setup()
    try:
        yield running.start()
    finally:
        running.stop()


def make_lead(**overrides) -> dict:
    """A JSON lead as a platform sends it, of a new customer each time (a
    second lead of the same customer joins the first: duplicate intake);
    ``overrides`` replace top-level fields."""
    import uuid

    from tests.support.people import unique_mobile
    mobile = unique_mobile()
    lead = {
        "source": "autohome",
        "external_id": f"AH-{uuid.uuid4().hex[:12]}",
        "channel": "third_party",
        "store_code": "SH-PUDONG",
        "received_at": "2026-11-26T09:30:00+08:00",
        "customer": {"name": "王磊", "phone": mobile, "email": f"WL.{mobile}@Example.com",
                     "city": "上海", "language": "zh"},
        "interest": {"brand": "BYD", "model": "Han EV", "year": 2026, "condition": "new",
                     "fuel_type": "ev", "budget_min": 20000000, "budget_max": 25000000,
                     "currency": "CNY", "timeframe": "within_7_days", "finance": True,
                     "trade_in": False, "test_drive": True},
        "comments": "想周末试驾，关心续航和置换补贴",
    }
    lead.update(overrides)
    return lead


@pytest.fixture
def lead_factory():
    return make_lead
