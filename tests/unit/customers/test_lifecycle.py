"""services.customers.handlers.lifecycle_of: a customer's lifecycle from
their leads' statuses, searched over every mix."""
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.contracts import LEAD_STATUSES
from services.customers.handlers import lifecycle_of

statuses = st.lists(st.none() | st.sampled_from(LEAD_STATUSES), max_size=8)


def test_each_rule_by_example():
    assert lifecycle_of([]) == "potential"
    assert lifecycle_of([None, "assigned"]) == "potential"
    assert lifecycle_of(["contacted", "lost"]) == "intended"
    assert lifecycle_of(["loss_pending"]) == "intended"
    assert lifecycle_of(["lost", "lost", "joined"]) == "lost"
    assert lifecycle_of(["lost", "won"]) == "won"
    assert lifecycle_of(["joined"]) == "potential"


@given(statuses, statuses)
def test_a_win_is_for_good_and_joined_inquiries_never_count(some, more):
    assert (lifecycle_of(some + ["won"] + more)) == "won"
    assert lifecycle_of(some + ["joined"]) == lifecycle_of(some)


@given(statuses)
def test_lost_only_when_every_lead_is_lost(some):
    counted = [status for status in some if status != "joined"]
    assert (lifecycle_of(some) == "lost") == (bool(counted) and all(s == "lost" for s in counted))
