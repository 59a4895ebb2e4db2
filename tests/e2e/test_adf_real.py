"""ADF documents as real platforms sent them, through the running system, on
both backends: what each must give, written next to its file name.

The documents are in ../shared/fixtures/adf/real/ (beside the checkout; where
each came from is in its SOURCES.md); they are read from there, never copied.
They are posted with the key of the test platform ``autohome`` for the
Chinese store SH-PUDONG, so a number without a country code that is read as
North American or Argentine was read so from the document, not from the store.
"""
import json
from pathlib import Path
from typing import NamedTuple

import phonenumbers
import pytest

from tests.support.waiting import eventually

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "adf" / "real"

pytestmark = pytest.mark.e2e


class Lead(NamedTuple):
    name: str
    phone: str | None      # as sent
    e164: str | None       # as the leads service keeps it beside the number as sent
    source: str            # the platform: <id source>, else <provider>, else the key's (autohome)
    provider: str | None = None
    status: str = "assigned"


EXPECTED = {
    "01_activix.xml": [Lead("Test Activix 2", "+14382881008", "+14382881008", "Activix", "Activix")],
    # no id, no provider, the vendor is the dealer: the key's platform; 3-3-4 is North American
    "02_sendadf_minified.xml": [Lead("John Doe", "393-999-3922", "+13939993922", "autohome")],
    # mobile first; a US address
    "03_seorylie_autotrader.xml": [Lead("Michael Johnson", "555-987-6543", "+15559876543", "autotrader",
                                        "AutoTrader.com")],
    # <first>/<last>/<middle> nested in <name part="full">; preferredcontact="false" on the mobile
    "04_seorylie_nsprefix.xml": [Lead("John A Smith", "555-123-4567", "+15551234567", "AutoLeads Connect",
                                      "AutoLeads Connect")],
    # the vendor "Test Dealership" is never the source
    "05_seorylie_minimal.xml": [Lead("Jane Smith", None, None, "autohome")],
    "06_rustadf_fulllead.xml": [Lead("John Doe", "393-999-3922", "+13939993922", "Cobalt", "CarPoint")],
    # the second prospect (status="resend", no <customer>) is refused; the first is not sunk with it
    "07_rustadf_multiprospect.xml": [Lead("A", None, None, "autohome")],
    "08_rustadf_nbsp.xml": [Lead("A", None, None, "autohome")],
    "09_rustadf_cdata.xml": [Lead("A", None, None, "autohome")],
    # <name type="full"> without a part; a Canadian address
    "10_fetchauto_ca.xml": [Lead("Test user", "778-555-4474", "+17785554474", "fetch-auto", "Fetch Auto")],
    # empty middle name; 1234567890 (marked preferred) and 9999999999 are placeholders: no phone,
    # the email reaches the customer; the empty <id> still says whose it is
    "11_approvalgenie_ca.xml": [Lead("John Test01292019", None, None, "ABC", "PROSPECT")],
    "12_carsales_au.xml": [Lead("Alex Example", "+61400123456", "+61400123456", "Carsales", "Carsales")],
    # a bare 10-digit number and an Argentine address
    "13_ford_tecnom_es.xml": [Lead("Juan Pérez", "1122334455", "+541122334455", "WEB AUTOSPECIAL",
                                   "WEB AUTOSPECIAL")],
    "14_adfbuilder_pi_order.xml": [Lead("New Guy", "(555)-444-3333", "+15554443333", "autohome")],
}
REFUSED = {"07_rustadf_multiprospect.xml": [{"index": 1, "errors": {"customer": ["Missing data for required field."]}}]}
NOTES = {"07_rustadf_multiprospect.xml": "The requestdate 'one' could not be read; the lead counts from its submission."}
COMMENTS = {
    "08_rustadf_nbsp.xml": "Jane & \xa0 Co",  # &amp; and &nbsp; decoded once each
    "09_rustadf_cdata.xml": "<b>hi</b>",      # CDATA is text, not markup
    "13_ford_tecnom_es.xml": "Necesito información sobre este vehículo",  # on the customer and the vehicle: once
}


def test_every_real_document_has_its_expectations():
    assert sorted(EXPECTED) == sorted(path.name for path in REAL.glob("*.xml"))


def column(stack, lead_id: str, name: str):
    return stack.scalar("leads", f"SELECT {name} FROM leads WHERE id = :id", id=lead_id)


def platform_view(stack, lead_id: str, status: str) -> dict:
    """The lead as its platform sees it, once it has ``status``."""
    def check():
        answer = stack.get_lead(lead_id)
        return answer.json() if answer.status_code == 200 and answer.json()["status"] == status else None
    return eventually(check, timeout=30, message=f"lead {lead_id} is {status}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_document_gives_its_leads(stack, name):
    answer = stack.post_lead(data=(REAL / name).read_bytes(), headers={"Content-Type": "application/xml"})
    assert answer.status_code == 202, answer.text
    assert answer.json()["refused"] == REFUSED.get(name, [])
    accepted = answer.json()["leads"]
    assert len(accepted) == len(EXPECTED[name])
    for answered, expected in zip(accepted, EXPECTED[name]):
        lead_id = answered["id"]
        assert platform_view(stack, lead_id, expected.status)["store_code"] == "SH-PUDONG"
        stored = {field: column(stack, lead_id, field) for field in (
            "customer_name", "customer_phone", "customer_phone_e164", "source", "received_at_note",
            "comments", "format")}
        assert stored["customer_name"] == expected.name
        assert stored["customer_phone"] == expected.phone
        assert stored["customer_phone_e164"] == expected.e164
        assert stored["source"] == expected.source
        assert stored["format"] == "adf"
        assert stored["received_at_note"] == NOTES.get(name)
        if name in COMMENTS:
            assert stored["comments"] == COMMENTS[name]
        provider = column(stack, lead_id, "provider")
        provider = json.loads(provider) if isinstance(provider, str) else provider
        assert (provider or {}).get("name") == expected.provider
        if expected.e164:  # the customer keeps the number read in the lead's country, if it can be real
            customer_id = eventually(lambda: stack.scalar(
                "customers", "SELECT customer_id FROM customer_leads WHERE lead_id = :id", id=lead_id))
            kept = stack.scalar("customers", "SELECT e164 FROM customer_phones WHERE customer_id = :id",
                                id=customer_id)
            real = phonenumbers.is_valid_number(phonenumbers.parse(expected.e164))
            assert kept == (expected.e164 if real else None)


def test_a_real_document_sent_again_is_the_same_leads(stack):
    body = (REAL / "07_rustadf_multiprospect.xml").read_bytes()
    first = stack.post_lead(data=body, headers={"Content-Type": "application/xml"})
    again = stack.post_lead(data=body, headers={"Content-Type": "application/xml"})
    assert again.status_code == 200
    assert again.json() == first.json()
    [lead] = again.json()["leads"]
    assert stack.scalar("leads", "SELECT count(*) FROM leads WHERE id = :id", id=lead["id"]) == 1
