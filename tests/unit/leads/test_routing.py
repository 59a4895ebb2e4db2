"""services.leads.routing: round robin over a store's consultants."""
from services.leads.routing import next_in_rotation


def test_next_after_last_in_sorted_order():
    assert next_in_rotation(["c", "a", "b"], "a") == "b"
    assert next_in_rotation(["c", "a", "b"], "b") == "c"


def test_wraps_around_after_the_last_one():
    assert next_in_rotation(["a", "b", "c"], "c") == "a"


def test_first_one_when_nobody_had_a_lead_yet():
    assert next_in_rotation(["b", "a"], None) == "a"


def test_unknown_last_that_sorts_after_everyone_starts_over():
    assert next_in_rotation(["a", "b"], "zz-left-the-store") == "a"


def test_removed_last_member_hands_on_to_the_next_in_order():
    # "b" had the last lead and has since left the roster: "c" is next, not "a" again
    assert next_in_rotation(["a", "c", "d"], "b") == "c"


def test_empty_roster_gives_nobody():
    assert next_in_rotation([], "a") is None
    assert next_in_rotation([], None) is None


def test_single_member_always_gets_it():
    assert next_in_rotation(["a"], "a") == "a"


def test_a_full_cycle_visits_everyone_once():
    roster, last, seen = ["u3", "u1", "u2"], None, []
    for _ in range(3):
        last = next_in_rotation(roster, last)
        seen.append(last)
    assert seen == ["u1", "u2", "u3"]
    assert next_in_rotation(roster, last) == "u1"
