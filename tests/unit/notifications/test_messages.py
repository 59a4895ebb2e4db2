"""services.notifications.messages: what the inbox messages say."""
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.messages import CHANGES, change_message, new_lead_message
from services.notifications.models import TITLE_LENGTH


def make_assigned(**overrides) -> dict:
    assigned = {"source": "autohome", "customer_name": "王磊", "phone": "+8613800138000",
                "interest": {"brand": "BYD", "model": "Han EV"}, "reason": "routing",
                "first_contact_due_at": "2026-11-30T10:15:00+08:00"}
    assigned.update(overrides)
    return assigned


def test_full_message():
    title, body = new_lead_message(make_assigned())
    assert title == "New lead: 王磊"
    assert body.splitlines() == [
        "Source: autohome",
        "Phone: +8613800138000",
        "Interested in: BYD Han EV",
        "Call now: the first-contact clock is running.",
    ]


def test_title_falls_back_to_the_phone_then_to_a_customer():
    title, _ = new_lead_message(make_assigned(customer_name=None))
    assert title == "New lead: +8613800138000"
    title, _ = new_lead_message(make_assigned(customer_name="", phone=None))
    assert title == "New lead: A customer"


def test_no_phone_line_without_a_phone():
    _, body = new_lead_message(make_assigned(phone=None))
    assert not any(line.startswith("Phone:") for line in body.splitlines())


def test_interest_with_only_a_brand():
    _, body = new_lead_message(make_assigned(interest={"brand": "BYD", "model": ""}))
    assert "Interested in: BYD" in body.splitlines()


def test_no_interest_line_without_a_car():
    for interest in (None, {}, {"trim": "Pro"}):
        _, body = new_lead_message(make_assigned(interest=interest))
        assert "Interested in" not in body
        assert body.splitlines()[-1] == "Call now: the first-contact clock is running."


def test_a_title_from_the_longest_name_still_fits_its_column():
    title, _ = new_lead_message(make_assigned(customer_name="王" * 200))
    assert len(title) == TITLE_LENGTH
    assert title.startswith("New lead: 王") and title.endswith("…")


def test_a_rerouted_lead_says_why_and_an_escalated_one_has_no_clock():
    _, body = new_lead_message(make_assigned(reason="reroute"))
    assert "Re-routed to you" in body and "clock is running" in body
    _, body = new_lead_message(make_assigned(reason="escalation", first_contact_due_at=None))
    assert "Escalated to you" in body and "clock" not in body


def test_a_loss_to_approve_names_the_customer_the_reason_and_the_note():
    title, body = change_message({"change": "loss_requested", "customer_name": "王磊", "reason": "买了特斯拉",
                                  "details": {"lost_reason": "bought_competitor"}})
    assert title == "Loss to approve: 王磊"
    assert body.splitlines() == ["买了特斯拉", "Lost reason: bought_competitor"]


@given(change=st.sampled_from(sorted(CHANGES)) | st.text(max_size=40),
       name=st.none() | st.text(max_size=500), reason=st.none() | st.text(max_size=500))
def test_every_change_message_has_a_title_that_fits(change, name, reason):
    title, body = change_message({"change": change, "customer_name": name, "reason": reason, "details": {}})
    assert 0 < len(title) <= TITLE_LENGTH and (reason or "") in body
