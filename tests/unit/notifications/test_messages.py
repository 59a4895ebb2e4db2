"""services.notifications.messages: what the new-lead inbox message says."""
from services.notifications.messages import new_lead_message
from services.notifications.models import TITLE_LENGTH


def make_assigned(**overrides) -> dict:
    assigned = {"source": "autohome", "customer_name": "王磊", "phone": "+8613800138000",
                "interest": {"brand": "BYD", "model": "Han EV"}}
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
