"""services.gateway.intake: reading, validating and recognising platform leads."""
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from dealerflow.db import utcnow
from services.gateway import intake
from services.gateway.auth import Platform
from services.gateway.errors import BadRequest, Forbidden, Invalid, UnsupportedType
from services.gateway.models import IdempotencyKey, IntakeRecord, OutboxMessage, Store
from services.gateway.org import OrgError, create_store, update_store
from tests.unit.gateway.conftest import LEAD, make_lead
from tests.unit.gateway.test_app import FakePublisher, make_client, post_json, post_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "adf"
# ADF documents as real platforms sent them (../shared, beside the checkout; SOURCES.md says whence)
REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "adf" / "real"


MINIMAL_ADF = (b'<?xml version="1.0"?><adf><prospect><customer><contact>'
               b'<name part="full">Li Na</name><phone>13800138000</phone>'
               b'</contact></customer></prospect></adf>')


def make_platform(**overrides) -> Platform:
    fields = {"key_id": "key-1", "platform": "p1", "stores": ("SH-PUDONG",), "rate_limit": 0}
    fields.update(overrides)
    return Platform(**fields)


def as_json(document) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def errors_of(documents, fmt="json") -> dict:
    with pytest.raises(Invalid) as caught:
        intake.validate(documents, fmt)
    return caught.value.errors


def loaded(documents, fmt="json") -> list[dict]:
    """The leads ``validate`` accepts (it refuses none of these)."""
    accepted, refused = intake.validate(documents, fmt)
    assert refused == []
    return [lead for _, lead in accepted]


# --- read_leads ----------------------------------------------------------------

def test_json_object_is_one_lead():
    fmt, documents = intake.read_leads("application/json", as_json(make_lead()))
    assert fmt == "json"
    assert documents == [make_lead()]


def test_json_content_type_parameters_and_case_are_ignored():
    fmt, documents = intake.read_leads("Application/JSON; charset=UTF-8", as_json(make_lead()))
    assert fmt == "json" and documents[0]["source"] == "autohome"


def test_json_array_parses_but_is_invalid():
    with pytest.raises(Invalid) as caught:
        intake.read_leads("application/json", as_json([make_lead()]))
    assert caught.value.errors == {"_schema": ["Expected an object."]}


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"source": "a",}', b"null garbage"])
def test_bad_json_is_a_bad_request(body):
    with pytest.raises(BadRequest):
        intake.read_leads("application/json", body)


def test_json_that_is_not_utf8_is_a_bad_request():
    body = '{"source": "autohome", "customer": {"name": "José"}}'.encode("latin-1")
    with pytest.raises(BadRequest):
        intake.read_leads("application/json", body)


@pytest.mark.parametrize("content_type", [
    "application/xml", "text/xml", "application/x-adf+xml",
    "application/xml; charset=utf-8", "TEXT/XML; charset=ISO-8859-1",
])
def test_every_xml_type_is_read_as_adf(content_type):
    fmt, documents = intake.read_leads(content_type, MINIMAL_ADF)
    assert fmt == "adf"
    assert len(documents) == 1
    assert documents[0]["customer"]["phone"] == "13800138000"
    assert documents[0]["raw"].startswith("<prospect>")


def test_xml_that_is_not_adf_is_a_bad_request():
    with pytest.raises(BadRequest):
        intake.read_leads("application/xml", b"<lead><phone>1</phone></lead>")


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
    "", None,
])
def test_other_content_types_are_unsupported(content_type):
    with pytest.raises(UnsupportedType):
        intake.read_leads(content_type, b"source=autohome&phone=13800138000")


# --- validate -------------------------------------------------------------------

def test_a_valid_lead_loads():
    [lead] = loaded([make_lead()])
    assert lead["source"] == "autohome"
    assert lead["customer"]["phone"] == "13800138000"
    assert lead["interest"]["year"] == 2026
    assert lead["received_at"].utcoffset().total_seconds() == 8 * 3600


def test_channel_defaults_to_other_and_unknown_fields_are_dropped():
    document = make_lead(extra_field="x")
    del document["channel"]
    [lead] = loaded([document])
    assert lead["channel"] == "other"
    assert "extra_field" not in lead


def test_email_alone_is_enough():
    [lead] = loaded([make_lead(customer={"email": "wl@example.com"})])
    assert lead["customer"] == {"email": "wl@example.com"}


def test_missing_source_is_named():
    document = make_lead()
    del document["source"]
    assert set(errors_of([document])) == {"source"}


def test_neither_phone_nor_email_is_named():
    errors = errors_of([make_lead(customer={"name": "王磊", "phone": " ", "email": ""})])
    assert set(errors) == {"customer"}
    assert "phone" in errors["customer"]


def test_bad_channel_is_named():
    assert set(errors_of([make_lead(channel="fax")])) == {"channel"}


@pytest.mark.parametrize("year", [1800, 3000, "next year"])
def test_bad_year_is_named(year):
    interest = dict(LEAD["interest"], year=year)
    errors = errors_of([make_lead(interest=interest)])
    assert set(errors) == {"interest"}
    assert set(errors["interest"]) == {"year"}


def test_every_bad_field_is_named_at_once():
    document = make_lead(channel="fax", customer={"name": "x"})
    del document["source"]
    assert {"source", "channel"} <= set(errors_of([document]))


def test_raw_is_not_validated_as_a_lead_field():
    [lead] = loaded([make_lead(raw="<prospect/>")])
    assert "raw" not in lead


def test_an_invalid_prospect_is_refused_beside_the_valid_ones():
    good, bad = make_lead(), make_lead(channel="fax")
    accepted, refused = intake.validate([bad, good, bad], "adf")
    assert [index for index, _ in accepted] == [1]
    assert [item["index"] for item in refused] == [0, 2]
    assert all(set(item["errors"]) == {"channel"} for item in refused)


def test_a_document_with_no_valid_prospect_reports_errors_by_index():
    errors = errors_of([make_lead(channel="fax"), make_lead(customer={"name": "x"})], "adf")
    assert set(errors) == {"leads"}
    assert set(errors["leads"]) == {0, 1}
    assert set(errors["leads"][0]) == {"channel"} and set(errors["leads"][1]) == {"customer"}


def test_a_single_invalid_prospect_reports_its_errors_as_a_json_lead_does():
    assert set(errors_of([make_lead(channel="fax")], "adf")) == {"channel"}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_every_adf_fixture_validates(name):
    fmt, documents = intake.read_leads("application/xml", (FIXTURES / name).read_bytes(), "p1")
    leads = loaded(documents, fmt)
    assert fmt == "adf"
    assert len(leads) == len(documents) >= 1


# --- dedupe_keys and lead_id_for ----------------------------------------------

def test_identity_is_the_external_id_in_the_platforms_store():
    platform = make_platform()
    assert (intake.identity(platform, "SH-PUDONG", make_lead(), None, "req-1")
            == "ext:p1:SH-PUDONG:autohome:AH-2026-000123")


def test_the_same_external_id_for_another_store_or_platform_is_another_lead():
    lead = make_lead()
    first = intake.identity(make_platform(), "SH-PUDONG", lead, None, None)
    assert intake.identity(make_platform(), "BJ-CHAOYANG", lead, None, None) != first
    assert intake.identity(make_platform(platform="p2"), "SH-PUDONG", lead, None, None) != first


def test_an_adf_prospect_without_an_id_is_its_own_text_wherever_it_stands():
    lead = make_lead(external_id=None)
    raw = "<prospect><customer/></prospect>"
    one = intake.identity(make_platform(), "SH-PUDONG", lead, raw, "req-1")
    assert one.startswith("adf:p1:SH-PUDONG:")
    assert intake.identity(make_platform(), "SH-PUDONG", lead, raw, "req-2") == one


def test_without_an_external_id_the_idempotency_key_is_the_identity():
    lead = make_lead(external_id=None)
    assert intake.identity(make_platform(), "SH-PUDONG", lead, None, "req-1") == "key:p1:SH-PUDONG:req-1"
    assert intake.identity(make_platform(), "SH-PUDONG", lead, None, None) is None


def test_the_same_identity_gives_the_same_id():
    first = intake.lead_id_for("ext:p1:SH-PUDONG:autohome:AH-1")
    assert first == intake.lead_id_for("ext:p1:SH-PUDONG:autohome:AH-1")
    assert uuid.UUID(first).version == 5
    assert intake.lead_id_for("ext:p1:SH-PUDONG:autohome:AH-2") != first


def test_no_identity_gives_a_random_id():
    first, second = intake.lead_id_for(None), intake.lead_id_for(None)
    assert first != second
    assert uuid.UUID(first).version == 4


def test_the_request_hash_binds_the_body_and_the_store():
    assert intake.request_hash(b"{}", None) == intake.request_hash(b"{}", None)
    assert intake.request_hash(b"{}", None) != intake.request_hash(b"{} ", None)
    assert intake.request_hash(b"{}", None) != intake.request_hash(b"{}", "SH-PUDONG")


# --- with the gateway database ------------------------------------------------

def test_the_store_defaults_to_the_keys_only_store():
    assert intake.store_code_for(make_platform(), None) == "SH-PUDONG"


def test_the_store_needs_a_code_for_a_key_of_several_stores():
    platform = make_platform(stores=("BJ-CHAOYANG", "SH-PUDONG"))
    with pytest.raises(Invalid) as caught:
        intake.store_code_for(platform, None)
    assert set(caught.value.errors) == {"store_code"}
    assert intake.store_code_for(platform, "BJ-CHAOYANG") == "BJ-CHAOYANG"


def test_a_store_outside_the_key_is_forbidden():
    with pytest.raises(Forbidden):
        intake.store_code_for(make_platform(), "BJ-CHAOYANG")


def test_read_store_gives_its_settings_and_whether_the_lead_is_known(sessions):
    with sessions() as session:
        store = intake.read_store(session, "SH-PUDONG", "lead-1")
        assert (store.timezone, store.country, store.known) == ("Asia/Shanghai", "CN", False)
        intake.remember(session, make_platform(), {"id": "lead-1", "store_code": "SH-PUDONG"})
        assert intake.read_store(session, "SH-PUDONG", "lead-1").known
        assert not intake.read_store(session, "SH-PUDONG", "lead-2").known


@pytest.mark.parametrize("code", ["SH-PUDONG", "NOWHERE"])
def test_read_store_refuses_an_inactive_or_unknown_store(sessions, code):
    with sessions() as session:
        session.get(Store, "SH-PUDONG").active = False
        session.commit()
        with pytest.raises(Invalid) as caught:
            intake.read_store(session, code, "lead-1")
        assert set(caught.value.errors) == {"store_code"}


def test_prepare_then_remember_makes_a_repeat_known(sessions):
    platform = make_platform()
    documents = [make_lead()]

    def prepared():
        with sessions() as session:
            return intake.prepare(session, platform, loaded(documents), "json", "req-1")

    [first] = prepared()
    assert first["new"] is True
    assert first["store_code"] == "SH-PUDONG"
    assert first["message"]["id"] == first["id"]
    assert first["message"]["lead"]["customer"]["phone"] == "13800138000"
    with sessions() as session:
        assert intake.remember(session, platform, first) is True
    [again] = prepared()
    assert again["new"] is False and again["id"] == first["id"]
    with sessions() as session:  # a concurrent twin writing the same rows loses
        assert intake.remember(session, platform, first) is False
        assert session.query(IntakeRecord).count() == 1


def test_naive_received_at_takes_the_stores_time_zone(sessions):
    documents = [make_lead(received_at="2026-11-26T09:30:00")]
    with sessions() as session:
        [item] = intake.prepare(session, make_platform(), loaded(documents), "json", None)
    assert item["message"]["lead"]["received_at"] == "2026-11-26T09:30:00+08:00"


def test_find_accepted_only_for_the_submitting_platform(sessions):
    platform = make_platform()
    item = {"id": "lead-1", "store_code": "SH-PUDONG"}
    with sessions() as session:
        intake.remember(session, platform, item)
    with sessions() as session:
        assert intake.find_accepted(session, platform, "lead-1").store_code == "SH-PUDONG"
        assert intake.find_accepted(session, make_platform(platform="p2"), "lead-1") is None
        assert intake.find_accepted(session, make_platform(stores=("BJ-CHAOYANG",)),
                                    "lead-1") is None
        assert intake.find_accepted(session, platform, "lead-2") is None


def test_prune_forgets_accepted_leads_and_keys_past_the_retention(sessions):
    platform, now = make_platform(), utcnow()
    with sessions() as session:
        for lead_id, age in (("old", 31), ("recent", 1)):
            session.add(IntakeRecord(lead_id=lead_id, platform="p1", store_code="SH-PUDONG",
                                     created_at=now - timedelta(days=age)))
            session.add(IdempotencyKey(platform="p1", key=lead_id, request_hash="h",
                                       lead_ids=[lead_id], created_at=now - timedelta(days=age)))
        session.commit()
        assert intake.prune(session, timedelta(days=30)) == 2
        assert intake.find_accepted(session, platform, "recent") is not None
        assert intake.find_accepted(session, platform, "old") is None
        assert intake.replayed(session, platform, "recent", "h") == ["recent"]
        assert intake.replayed(session, platform, "old", "h") is None


# --- the store's country --------------------------------------------------------

def test_a_store_is_in_china_unless_told_otherwise_and_says_so_in_its_event(sessions):
    with sessions() as session:
        assert session.get(Store, "SH-PUDONG").country == "CN"  # the demo stores
        store = create_store(session, "TO-NORTH", "Toronto North", "America/Toronto")
        session.commit()
        assert store.country == "CN"
        [event] = [row.payload for row in session.query(OutboxMessage)
                   if row.event_type == "store_saved" and row.payload["code"] == "TO-NORTH"]
        assert event["country"] == "CN"


@pytest.mark.parametrize("given, stored", [("US", "US"), ("ca", "CA"), (" au ", "AU")])
def test_a_stores_country_is_an_iso_region_with_a_numbering_plan(sessions, given, stored):
    with sessions() as session:
        assert update_store(session, "SH-PUDONG", {"country": given}, by="test").country == stored


@pytest.mark.parametrize("given", ["USA", "Canada", "XX", "", None, 86])
def test_an_unknown_country_is_refused_naming_the_field(sessions, given):
    with sessions() as session:
        with pytest.raises(OrgError) as caught:
            update_store(session, "SH-PUDONG", {"country": given}, by="test")
        assert caught.value.field == "country"


# --- phones in E.164, in the right country ------------------------------------------

def normalised(customer: dict, store_country: str = "CN", fmt: str = "json") -> dict:
    lead = {"customer": customer}
    intake.normalise_phones(lead, store_country, fmt)
    return lead


@pytest.mark.parametrize("customer, store_country, e164", [
    ({"phone": "138 0013 8000"}, "CN", "+8613800138000"),
    ({"phone": "13800138000"}, "US", "+8613800138000"),  # a Chinese mobile is Chinese anywhere
    ({"phone": "(312) 555-0142"}, "US", "+13125550142"),
    ({"phone": "(312) 555-0142", "address": {"country": "US"}}, "CN", "+13125550142"),
    ({"phone": "4165550199", "address": {"country": "Canada"}}, "CN", "+14165550199"),
    ({"phone": "1122334455", "address": {"country": "AR"}}, "CN", "+541122334455"),
    ({"phone": "021-6888 8888", "address": {"country": "Narnia"}}, "CN", "+862168888888"),
    ({"phone": "+61400123456"}, "CN", "+61400123456"),
    ({"phone": "9999999999"}, "CN", None),
    ({"phone": "not a number"}, "CN", None),
    ({"email": "a@example.com"}, "CN", None),
], ids=["cn", "cn-mobile-in-us-store", "us-store", "us-address", "country-name", "ar-address",
        "unknown-country", "international", "placeholder", "text", "no-phone"])
def test_the_leads_phone_in_e164_beside_the_number_as_sent(customer, store_country, e164):
    lead = normalised(dict(customer), store_country)
    assert lead["phone_e164"] == e164
    assert lead["customer"] == customer  # as sent


def test_a_json_lead_is_not_read_the_north_american_way_in_a_chinese_store():
    assert normalised({"phone": "393-999-3922"})["phone_e164"] == "+863939993922"
    assert normalised({"phone": "393-999-3922"}, fmt="adf")["phone_e164"] == "+13939993922"


def test_an_extension_is_kept_beside_the_e164_number():
    lead = normalised({"phone": "(010) 6552-9988 转 8012"})
    assert (lead["phone_e164"], lead["phone_extension"]) == ("+861065529988", "8012")


def test_each_adf_phone_gets_its_e164_and_keeps_its_flags():
    phones = [{"number": "(312) 555-0142", "type": "cellphone"},
              {"number": "867-586-7584 x204", "type": "work"},
              {"number": "9999999999", "type": "voice", "placeholder": True}]
    lead = normalised({"phone": "(312) 555-0142", "phones": phones}, "CN", "adf")
    assert lead["customer"]["phones"] == [
        {"number": "(312) 555-0142", "type": "cellphone", "e164": "+13125550142"},
        {"number": "867-586-7584 x204", "type": "work", "e164": "+18675867584", "extension": "204"},
        {"number": "9999999999", "type": "voice", "placeholder": True}]


# --- ADF through POST /v1/leads: partial acceptance, sources, phones -----------------------

@pytest.fixture
def publisher():
    return FakePublisher()


@pytest.fixture
def client(sessions, publisher):
    return make_client(sessions, publisher)


@pytest.fixture
def key(make_key):
    return make_key(["SH-PUDONG"], platform="p1")


def real(name: str) -> bytes:
    return (REAL / name).read_bytes()


def test_the_valid_prospects_are_accepted_and_the_invalid_refused_in_one_answer(client, publisher, key):
    answer = post_xml(client, key, real("07_rustadf_multiprospect.xml"))
    assert answer.status_code == 202
    [lead] = answer.json["leads"]
    [message] = publisher.messages
    assert lead == {"id": message["id"], "status": "accepted", "status_url": f"/v1/leads/{message['id']}"}
    assert answer.json["refused"] == [
        {"index": 1, "errors": {"customer": ["Missing data for required field."]}}]
    assert message["lead"]["customer"] == {"name": "A", "email": "a@example.com"}
    assert message["lead"]["source"] == "p1"  # no id, no provider: the key's platform, not "Dealer One"
    assert message["lead"].get("received_at") is None
    assert message["lead"]["received_at_note"] == (
        "The requestdate 'one' could not be read; the lead counts from its submission.")


def test_a_document_without_a_valid_prospect_is_422_and_binds_no_key(client, publisher, key):
    bad = b"<adf><prospect><customer><contact><name>A</name></contact></customer></prospect>" \
          b'<prospect status="resend"><vehicle/></prospect></adf>'
    headers = {"X-Api-Key": key, "Content-Type": "application/xml", "Idempotency-Key": "k-1"}
    refused = client.simulate_post("/v1/leads", body=bad, headers=headers)
    assert refused.status_code == 422
    assert set(refused.json["errors"]["leads"]) == {"0", "1"}
    assert publisher.messages == []
    fixed = client.simulate_post("/v1/leads", body=real("05_seorylie_minimal.xml"), headers=headers)
    assert fixed.status_code == 202


def test_a_partial_answer_is_replayed_whole_under_its_idempotency_key(client, publisher, key):
    headers = {"X-Api-Key": key, "Content-Type": "application/xml", "Idempotency-Key": "k-7"}
    first = client.simulate_post("/v1/leads", body=real("07_rustadf_multiprospect.xml"), headers=headers)
    again = client.simulate_post("/v1/leads", body=real("07_rustadf_multiprospect.xml"), headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json == first.json and first.json["refused"]
    assert len(publisher.messages) == 1


def test_accepted_and_refused_keep_the_documents_order(client, publisher, key):
    good = ('<prospect><customer><contact><name>{}</name><phone>13800138000</phone></contact></customer>'
            "</prospect>")
    bad = "<prospect><customer><contact><name>No contact</name></contact></customer></prospect>"
    body = f"<adf>{bad}{good.format('One')}{bad}{good.format('Two')}</adf>".encode()
    answer = post_xml(client, key, body)
    assert answer.status_code == 202
    assert [item["index"] for item in answer.json["refused"]] == [0, 2]
    assert [answer["id"] for answer in answer.json["leads"]] == [m["id"] for m in publisher.messages]
    assert [m["lead"]["customer"]["name"] for m in publisher.messages] == ["One", "Two"]


def test_a_json_lead_answers_as_it_did(client, key):
    answer = post_json(client, key, make_lead())
    assert answer.status_code == 202 and set(answer.json) == {"id", "status", "status_url"}


@pytest.mark.parametrize("name, source, provider", [
    ("01_activix.xml", "Activix", "Activix"),
    ("02_sendadf_minified.xml", "p1", None),
    ("03_seorylie_autotrader.xml", "autotrader", "AutoTrader.com"),
    ("04_seorylie_nsprefix.xml", "AutoLeads Connect", "AutoLeads Connect"),
    ("05_seorylie_minimal.xml", "p1", None),
    ("13_ford_tecnom_es.xml", "WEB AUTOSPECIAL", "WEB AUTOSPECIAL"),
    ("14_adfbuilder_pi_order.xml", "p1", None),
])
def test_the_source_is_the_platform_and_the_provider_a_field_of_its_own(client, publisher, key, name, source,
                                                                        provider):
    assert post_xml(client, key, real(name)).status_code == 202
    [message] = publisher.messages
    assert message["lead"]["source"] == source
    assert (message["lead"].get("provider") or {}).get("name") == provider


@pytest.mark.parametrize("name, phone, e164", [
    ("02_sendadf_minified.xml", "393-999-3922", "+13939993922"),      # plainly North American
    ("03_seorylie_autotrader.xml", "555-987-6543", "+15559876543"),   # a US address
    ("10_fetchauto_ca.xml", "778-555-4474", "+17785554474"),          # a Canadian address
    ("11_approvalgenie_ca.xml", None, None),                          # only placeholders
    ("12_carsales_au.xml", "+61400123456", "+61400123456"),
    ("13_ford_tecnom_es.xml", "1122334455", "+541122334455"),         # an Argentine address
    ("14_adfbuilder_pi_order.xml", "(555)-444-3333", "+15554443333"),
])
def test_real_phones_in_a_chinese_store(client, publisher, key, name, phone, e164):
    assert post_xml(client, key, real(name)).status_code == 202
    [message] = publisher.messages
    assert (message["lead"]["customer"].get("phone"), message["lead"]["phone_e164"]) == (phone, e164)


def test_a_bare_number_is_read_in_the_stores_country(client, publisher, key, sessions):
    with sessions() as session:
        update_store(session, "SH-PUDONG", {"country": "US"}, by="test")
        session.commit()
    body = (b"<adf><prospect><customer><contact><name>A</name><phone>3125550142</phone>"
            b"</contact></customer></prospect></adf>")
    assert post_xml(client, key, body).status_code == 202
    assert publisher.messages[0]["lead"]["phone_e164"] == "+13125550142"
