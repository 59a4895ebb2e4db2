""""Accepted means stored", through HTTP against the running system: what a
202 promises, what is refused at the door, and what intake needs to run."""
import signal
import threading

import pytest
import requests

from tests.conftest import make_lead
from tests.e2e.test_lead_intake import assigned
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def test_a_free_form_object_shaped_like_a_kombu_type_is_stored_as_it_is(stack):
    address = {"__type__": "datetime", "__value__": "not a date"}
    trade_in = [{"__type__": "bogus", "__value__": 1}]
    answer = stack.post_lead(make_lead(customer={"phone": "13800138000", "address": address},
                                       trade_in=trade_in))
    assert answer.status_code == 202
    assigned(stack, answer.json()["id"])
    stored = stack.scalar("leads", "SELECT CAST(trade_in AS TEXT) FROM leads WHERE id = :id",
                          id=answer.json()["id"])
    assert '"__type__": "bogus"' in stored


def test_one_lead_posted_at_once_under_two_idempotency_keys_gets_one_live_id(stack):
    lead, answers = make_lead(), {}

    def post(key):
        answers[key] = stack.post_lead(lead, headers={"Idempotency-Key": key})

    threads = [threading.Thread(target=post, args=(key,)) for key in ("twin-a", "twin-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert {answer.status_code for answer in answers.values()} <= {200, 202}
    [lead_id] = {answer.json()["id"] for answer in answers.values()}
    assigned(stack, lead_id)
    assert stack.scalar("leads", "SELECT count(*) FROM leads WHERE external_id = :e",
                        e=lead["external_id"]) == 1


def test_the_same_idempotency_key_with_another_body_is_refused(stack):
    first = stack.post_lead(make_lead(), headers={"Idempotency-Key": "k-reuse"})
    other = stack.post_lead(make_lead(), headers={"Idempotency-Key": "k-reuse"})
    assert (first.status_code, other.status_code) == (202, 422)
    assert "Idempotency-Key" in other.json()["errors"]


def test_adf_prospects_sharing_an_id_all_answer_get(stack):
    prospect = ('<prospect><id source="autohome">SHARED-{tag}</id><customer><contact>'
                '<name part="full">{name}</name><phone>1380013800{n}</phone></contact>'
                '</customer></prospect>')
    tag = make_lead()["external_id"]
    body = ('<?xml version="1.0"?><adf>'
            + "".join(prospect.format(tag=tag, name=name, n=n) for n, name in enumerate(("Li", "Wang")))
            + "</adf>").encode()
    answer = stack.post_lead(data=body, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 202
    for lead in answer.json()["leads"]:
        assigned(stack, lead["id"])


def test_a_store_repeating_an_external_id_of_another_store_gets_its_own_lead(stack):
    sh_lead = make_lead()
    sh = stack.post_lead(sh_lead)
    bj = stack.post_lead(dict(sh_lead, store_code="BJ-CHAOYANG"), key=stack.bj_key)
    assert (sh.status_code, bj.status_code) == (202, 202)
    assert sh.json()["id"] != bj.json()["id"]
    assert assigned(stack, bj.json()["id"], stack.bj_key)["store_code"] == "BJ-CHAOYANG"
    assert stack.get_lead(sh.json()["id"], stack.bj_key).status_code == 404


MIB = 1024 * 1024
WORST_CASE_ADF = {
    "unterminated declarations": b"<?xml " * (MIB // 6),
    "bare less-thans": b"<" * MIB,
    "bare ampersands": b"&" * MIB,
    "unterminated comments": b"<!--" * (MIB // 4),
    "unterminated CDATA": b"<![CDATA[" * (MIB // 9),
    "unclosed prospects": b"<adf>" + b"<prospect>" * (MIB // 10 - 1),
}


@pytest.mark.parametrize("name", sorted(WORST_CASE_ADF))
def test_a_worst_case_adf_body_of_the_full_size_gets_an_answer(stack, name):
    """A repair pass that were not linear would hold the worker for minutes
    here (and gunicorn would kill it); the request's timeout bounds the test."""
    body = WORST_CASE_ADF[name][:MIB]
    answer = requests.post(f"{stack.url}/v1/leads", data=body, timeout=20,
                           headers={"X-Api-Key": stack.sh_key, "Content-Type": "application/xml"})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"title", "description"}


@pytest.mark.parametrize("encoding", ["rot13", "no-such-encoding", "utf-16", "base64"])
def test_xml_declaring_a_bogus_encoding_is_400(stack, encoding):
    body = (f'<?xml version="1.0" encoding="{encoding}"?><adf><prospect><customer><contact>'
            '<phone>13800138000</phone></contact></customer></prospect></adf>').encode()
    answer = stack.post_lead(data=body, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("service", ["leads", "notifications"])
def test_intake_needs_only_the_broker_while_a_service_is_down(stack, service):
    stack.kill(service, signal.SIGKILL)
    try:
        answers = [stack.post_lead(make_lead()) for _ in range(3)]
        assert {answer.status_code for answer in answers} == {202}
        assert requests.get(f"{stack.url}/readyz", timeout=10).status_code == 200
        full = requests.get(f"{stack.url}/readyz?full=1", timeout=30)
        assert full.status_code == 503
        assert full.json()["checks"][service].startswith("no answer")
    finally:
        stack.start_process(service)
    stack.wait_ready()
    for answer in answers:
        lead_id = answer.json()["id"]
        assigned(stack, lead_id)
        eventually(lambda: stack.scalar("notifications", "SELECT count(*) FROM inbox_messages "
                                        "WHERE lead_id = :id", id=lead_id) == 1,
                   message=f"lead {lead_id} reached the consultant's inbox once")
