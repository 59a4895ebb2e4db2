"""Each channel sender against its local fake, for real over loopback: what
arrives, that the fake's signature checks pass (and a wrong secret fails
them), and that every kind of answer becomes the outcome the delivery
engine acts on."""
import json
import re
import socket
import threading
import time
from http.server import HTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from services.notifications.channels import RATE_LIMITED, REFUSED, RETRY, SENT, Message, Target, send, webhook
from tests.support import fake_receivers
from tests.support.fake_receivers import SmtpSink, b64url, vapid_private_key
from tests.support.stack import free_port

pytestmark = pytest.mark.integration

LINK = "https://dealerflow.example.com/leads/42"
MESSAGE = Message(kind="lead_assigned", title="新线索：王磊", body="来源：汽车之家\n电话：13800001111",
                  language="zh", link=LINK, event_id="evt-42")
TIMEOUT = 2.0
receivers, smtp_sink = fake_receivers.receivers, fake_receivers.smtp_sink  # the fixtures


# -- WeCom -----------------------------------------------------------------------

def test_wecom_markdown_with_title_body_and_link(receivers):
    robot = receivers.wecom()
    outcome = send("wecom", Target(url=robot.url), MESSAGE, TIMEOUT)
    assert outcome.status == SENT and '"errcode":0' in outcome.answer.replace(" ", "")
    sent = robot.received[0].json
    assert sent["msgtype"] == "markdown"
    assert sent["markdown"]["content"] == (
        f"**新线索：王磊**\n来源：汽车之家\n电话：13800001111\n[查看详情]({LINK})")


def test_wecom_mentions_a_mobile_in_a_text_message(receivers):
    robot = receivers.wecom()
    message = Message(kind="reminder", title="Call back", body="Due at 10:00", language="en",
                      mention="13800001111")
    assert send("wecom", Target(url=robot.url), message, TIMEOUT).status == SENT
    assert robot.received[0].json == {"msgtype": "text", "text": {
        "content": "Call back\nDue at 10:00", "mentioned_mobile_list": ["13800001111"]}}


def test_wecom_long_bodies_are_cut_to_its_byte_limits(receivers):
    """The fake refuses content over 4096 / 2048 bytes (errcode 40058), as WeCom does."""
    robot = receivers.wecom()
    long = Message(kind="lead_update", title="长评论", body="评" * 5000, link=LINK)
    assert send("wecom", Target(url=robot.url), long, TIMEOUT).status == SENT
    mentioned = Message(kind="lead_update", title="长评论", body="评" * 5000, mention="13800001111")
    assert send("wecom", Target(url=robot.url), mentioned, TIMEOUT).status == SENT
    markdown, text = (r.json for r in robot.received)
    assert markdown["markdown"]["content"].endswith(f"…\n[查看详情]({LINK})")
    assert len(text["text"]["content"].encode()) <= 2048


def test_wecom_rate_limit_is_45009_under_http_200(receivers):
    robot = receivers.wecom()
    robot.limit((2, 60))
    outcomes = [send("wecom", Target(url=robot.url), MESSAGE, TIMEOUT) for _ in range(3)]
    assert [o.status for o in outcomes] == [SENT, SENT, RATE_LIMITED]
    assert "45009" in outcomes[2].answer and outcomes[2].answer.startswith("HTTP 200")


def test_wecom_enforces_twenty_a_minute_by_default(receivers):
    robot = receivers.wecom()
    statuses = [send("wecom", Target(url=robot.url), MESSAGE, TIMEOUT).status for _ in range(21)]
    assert statuses == [SENT] * 20 + [RATE_LIMITED]


@pytest.mark.parametrize("code, status", [(93000, REFUSED), (40008, REFUSED), (-1, RETRY)])
def test_wecom_errcodes_decide_over_http_200(receivers, code, status):
    robot = receivers.wecom()
    robot.answer_next(code=code, message="as WeCom says it")
    outcome = send("wecom", Target(url=robot.url), MESSAGE, TIMEOUT)
    assert outcome.status == status and str(code) in outcome.answer
    assert robot.received == []


def test_wecom_unknown_key_is_refused_with_93000(receivers):
    robot = receivers.wecom()
    outcome = send("wecom", Target(url=robot.url.replace(robot.key, "not-a-key")), MESSAGE, TIMEOUT)
    assert outcome.status == REFUSED and "93000" in outcome.answer


# -- DingTalk --------------------------------------------------------------------

def test_dingtalk_signed_markdown_mentions_by_mobile_twice(receivers):
    robot = receivers.dingtalk(secret="SECexample0123456789")
    message = Message(kind="sla_warning", title="Call soon", body="Deadline 10:30", language="en",
                      link=LINK, mention="13800001111")
    outcome = send("dingtalk", Target(url=robot.url, secret=robot.secret), message, TIMEOUT)
    assert outcome.status == SENT
    sent = robot.received[0].json
    assert sent["msgtype"] == "markdown" and sent["markdown"]["title"] == "Call soon"
    assert sent["at"] == {"atMobiles": ["13800001111"], "isAtAll": False}
    assert sent["markdown"]["text"].endswith(f"[Open in Dealerflow]({LINK})\n\n@13800001111")
    assert "timestamp=" in robot.received[0].path and "sign=" in robot.received[0].path


def test_dingtalk_wrong_secret_is_refused_with_310000(receivers):
    robot = receivers.dingtalk(secret="SECright")
    outcome = send("dingtalk", Target(url=robot.url, secret="SECwrong"), MESSAGE, TIMEOUT)
    assert outcome.status == REFUSED and "310000" in outcome.answer
    assert robot.received == []


def test_dingtalk_without_signing_sends_no_signature(receivers):
    robot = receivers.dingtalk()
    assert send("dingtalk", Target(url=robot.url), MESSAGE, TIMEOUT).status == SENT
    assert "sign=" not in robot.received[0].path


def test_dingtalk_throttle_is_rate_limited(receivers):
    robot = receivers.dingtalk(secret="SECx")
    robot.limit((1, 60))
    target = Target(url=robot.url, secret="SECx")
    first, second = (send("dingtalk", target, MESSAGE, TIMEOUT) for _ in range(2))
    assert (first.status, second.status) == (SENT, RATE_LIMITED) and "130101" in second.answer


# -- Feishu ----------------------------------------------------------------------

def test_feishu_signed_post_in_the_readers_language_with_a_mention(receivers):
    robot = receivers.feishu(secret="example-feishu-secret")
    message = Message(kind="reminder", title="Follow up", body="Line one\nLine two", language="en",
                      link=LINK, mention="ou_7d8a6e6df7621556ce0d21922b676706ccs")
    assert send("feishu", Target(url=robot.url, secret=robot.secret), message, TIMEOUT).status == SENT
    sent = robot.received[0].json
    assert sent["msg_type"] == "post" and sent["timestamp"].isdigit() and sent["sign"]
    assert sent["content"]["post"]["en_us"] == {"title": "Follow up", "content": [
        [{"tag": "text", "text": "Line one"}], [{"tag": "text", "text": "Line two"}],
        [{"tag": "a", "text": "Open in Dealerflow", "href": LINK}],
        [{"tag": "at", "user_id": "ou_7d8a6e6df7621556ce0d21922b676706ccs"}]]}


def test_feishu_wrong_secret_is_refused_with_19021(receivers):
    robot = receivers.feishu(secret="right")
    outcome = send("feishu", Target(url=robot.url, secret="wrong"), MESSAGE, TIMEOUT)
    assert outcome.status == REFUSED and "19021" in outcome.answer


def test_feishu_frequency_limit_is_rate_limited(receivers):
    robot = receivers.feishu()
    robot.limit((1, 60))
    first, second = (send("feishu", Target(url=robot.url), MESSAGE, TIMEOUT) for _ in range(2))
    assert (first.status, second.status) == (SENT, RATE_LIMITED) and "11232" in second.answer


@pytest.mark.parametrize("http_status, status", [(429, RATE_LIMITED), (502, RETRY), (200, REFUSED)])
def test_feishu_9499_means_what_its_http_status_says(receivers, http_status, status):
    robot = receivers.feishu()
    robot.answer_next(status=http_status, code=9499, message="Bad Request", retry_after=3)
    outcome = send("feishu", Target(url=robot.url), MESSAGE, TIMEOUT)
    assert outcome.status == status and "9499" in outcome.answer
    assert outcome.retry_after == (3 if http_status != 200 else None)


# -- our webhook -------------------------------------------------------------------

def test_webhook_signed_payload_the_receiver_verifies(receivers):
    hook = receivers.webhook(secret="whsec-dealer")
    outcome = send("webhook", Target(url=hook.url, secret=hook.secret), MESSAGE, TIMEOUT)
    assert outcome.status == SENT and outcome.answer == "HTTP 200 ok"
    request = hook.received[0]
    assert set(request.json) == {"id", "kind", "title", "body", "link", "language", "sent_at"}
    assert request.json["id"] == request.headers["X-Dealerflow-Id"] == "evt-42"
    assert request.json["title"] == "新线索：王磊" and request.json["link"] == LINK
    assert request.headers["X-Dealerflow-Signature"] == webhook.signature(
        "whsec-dealer", request.headers["X-Dealerflow-Timestamp"], request.body)


def test_webhook_wrong_secret_is_refused_by_the_receiver(receivers):
    hook = receivers.webhook(secret="right")
    outcome = send("webhook", Target(url=hook.url, secret="wrong"), MESSAGE, TIMEOUT)
    assert outcome.status == REFUSED and outcome.answer == "HTTP 401 bad or stale signature"


def test_webhook_test_message_gets_an_id_of_its_own(receivers):
    hook = receivers.webhook()
    send("webhook", Target(url=hook.url), Message(kind="lead_update", title="Test", body="Hello"), TIMEOUT)
    request = hook.received[0]
    assert request.json["id"] == request.headers["X-Dealerflow-Id"] and len(request.json["id"]) == 36
    assert "X-Dealerflow-Signature" not in request.headers


@pytest.mark.parametrize("http_status, status", [
    (202, SENT), (301, REFUSED), (400, REFUSED), (408, RETRY), (410, REFUSED), (429, RATE_LIMITED),
    (500, RETRY), (503, RETRY)])
def test_webhook_statuses(receivers, http_status, status):
    hook = receivers.webhook()
    hook.answer_next(status=http_status, message="as the receiver says it", retry_after=5)
    outcome = send("webhook", Target(url=hook.url), MESSAGE, TIMEOUT)
    assert outcome.status == status and outcome.answer == f"HTTP {http_status} as the receiver says it"
    assert outcome.retry_after == (5 if status in (RETRY, RATE_LIMITED) else None)


def receiver_in_the_docs(monkeypatch) -> dict:
    """The Python receiver docs/webhooks.md tells a dealer to copy, loaded as written."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.setenv("DEALERFLOW_WEBHOOK_SECRET", "whsec-docs")
    namespace = {"__name__": "receiver_in_the_docs"}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    return namespace


def test_the_receiver_in_the_docs_acts_once_and_refuses_forgeries(monkeypatch):
    docs = receiver_in_the_docs(monkeypatch)
    handled = []
    docs["handle"] = handled.append
    server = HTTPServer(("127.0.0.1", 0), docs["Receiver"])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/dealerflow"
        ours = Target(url=url, secret="whsec-docs")
        first, again = (send("webhook", ours, MESSAGE, TIMEOUT) for _ in range(2))
        forged = send("webhook", Target(url=url, secret="not-the-secret"), MESSAGE, TIMEOUT)
    finally:
        server.shutdown()
        server.server_close()
    assert (first.status, again.status, forged.status) == (SENT, SENT, REFUSED)
    assert forged.answer.startswith("HTTP 401")
    assert [message["id"] for message in handled] == ["evt-42"]


def test_the_docs_verify_agrees_with_ours(monkeypatch):
    docs_verify = receiver_in_the_docs(monkeypatch)["verify"]
    now, body = int(time.time()), b'{"id":"evt-42"}'
    def signed(at):
        return webhook.signature("whsec-docs", at, body)
    cases = [(str(now), body, signed(now), now), (str(now - 301), body, signed(now - 301), now),
             (str(now + 301), body, signed(now + 301), now), (str(now), body + b" ", signed(now), now),
             ("soon", body, signed(now), now), (str(now), body, None, now)]
    verdicts = [(docs_verify("whsec-docs", *case), webhook.verify("whsec-docs", *case)) for case in cases]
    assert verdicts == [(True, True)] + [(False, False)] * 5


# -- nobody answering ----------------------------------------------------------------

@pytest.mark.parametrize("channel", ["wecom", "dingtalk", "feishu", "webhook"])
def test_connection_refused_is_retry(channel):
    outcome = send(channel, Target(url=f"http://127.0.0.1:{free_port()}/x", secret="s"), MESSAGE, TIMEOUT)
    assert outcome.status == RETRY and "refused" in outcome.answer.lower()


def test_a_receiver_that_never_answers_is_retry_after_the_timeout():
    with socket.socket() as silent:  # listens (the kernel completes the handshake) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        outcome = send("webhook", Target(url=url), MESSAGE, timeout=0.3)
    assert outcome.status == RETRY and "timeout" in outcome.answer.lower()


# -- email -----------------------------------------------------------------------------

def test_email_plain_and_html_with_the_servers_reply(smtp_sink):
    target = Target(settings=smtp_sink.settings(), secret="s3cret", to="manager@dealer.example.com")
    outcome = send("email", target, MESSAGE, TIMEOUT)
    assert outcome.status == SENT and outcome.answer == "250 2.0.0 Ok: queued as SINK1"
    mail = smtp_sink.messages[0]
    assert mail.rcpt_tos == ["manager@dealer.example.com"]
    assert mail.message["Subject"] == "新线索：王磊" and mail.message["Message-ID"] == "<evt-42@dealerflow>"
    assert mail.message.get_body(("plain",)).get_content().strip().endswith(f"查看详情: {LINK}")
    assert f'<a href="{LINK}">查看详情</a>' in mail.message.get_body(("html",)).get_content()


def test_email_wrong_password_is_refused(smtp_sink):
    target = Target(settings=smtp_sink.settings(), secret="wrong", to="m@dealer.example.com")
    outcome = send("email", target, MESSAGE, TIMEOUT)
    assert outcome.status == REFUSED and outcome.answer.startswith("535")


@pytest.mark.parametrize("reply, status", [("451 4.3.0 Try again later", RETRY),
                                           ("550 5.7.1 Message rejected as spam", REFUSED)])
def test_email_4xx_retries_5xx_refuses(smtp_sink, reply, status):
    smtp_sink.refuse_next(reply)
    target = Target(settings=smtp_sink.settings(), secret="s3cret", to="m@dealer.example.com")
    outcome = send("email", target, MESSAGE, TIMEOUT)
    assert (outcome.status, outcome.answer) == (status, reply)


def test_email_server_down_is_retry():
    target = Target(settings={"host": "127.0.0.1", "port": free_port()}, to="m@dealer.example.com")
    assert send("email", target, MESSAGE, TIMEOUT).status == RETRY


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_email_over_tls_verifies_the_servers_certificate(tmp_path, monkeypatch, tls):
    with SmtpSink(tls=tls, directory=tmp_path) as sink:
        target = Target(settings=sink.settings(), to="m@dealer.example.com")
        untrusted = send("email", target, MESSAGE, TIMEOUT)
        monkeypatch.setenv("SSL_CERT_FILE", str(sink.cafile))
        trusted = send("email", target, MESSAGE, TIMEOUT)
    assert untrusted.status == REFUSED and "certificate" in untrusted.answer.lower()
    assert trusted.status == SENT and len(sink.messages) == 1


# -- Web Push ----------------------------------------------------------------------------

def push_target(browser, key=None) -> Target:
    return Target(to=browser.subscription, secret=key or vapid_private_key(),
                  settings={"subject": "mailto:ops@example.com"})


def test_push_payload_is_readable_by_the_browser_alone(receivers):
    browser = receivers.push_subscription()
    urgent = Message(kind="escalation", title="Escalated", body="Not called in time", link=LINK)
    outcome = send("webpush", push_target(browser), urgent, TIMEOUT)
    assert outcome.status == SENT and outcome.answer.startswith("HTTP 201")
    request = browser.received[0]
    assert request.json == {"title": "Escalated", "body": "Not called in time", "link": LINK,
                            "kind": "escalation"}
    assert request.headers["Urgency"] == "high" and int(request.headers["TTL"]) > 0
    assert b"Escalated" not in request.body


def test_push_accepts_the_raw_vapid_key_too(receivers):
    browser = receivers.push_subscription()
    pem = vapid_private_key()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    assert send("webpush", push_target(browser, raw), MESSAGE, TIMEOUT).status == SENT
    assert browser.received[0].json["title"] == MESSAGE.title


@pytest.mark.parametrize("http_status", [404, 410])
def test_push_subscription_gone_is_refused_and_says_so(receivers, http_status):
    browser = receivers.push_subscription()
    browser.answer_next(status=http_status, message="push subscription has unsubscribed or expired")
    outcome = send("webpush", push_target(browser), MESSAGE, TIMEOUT)
    assert outcome.status == REFUSED and outcome.answer.startswith(f"subscription gone: HTTP {http_status}")


@pytest.mark.parametrize("http_status, status", [(429, RATE_LIMITED), (503, RETRY), (413, REFUSED)])
def test_push_service_statuses(receivers, http_status, status):
    browser = receivers.push_subscription()
    browser.answer_next(status=http_status)
    assert send("webpush", push_target(browser), MESSAGE, TIMEOUT).status == status


def test_push_service_down_is_retry(receivers):
    browser = receivers.push_subscription()
    subscription = json.loads(browser.subscription)
    subscription["endpoint"] = f"http://127.0.0.1:{free_port()}/push/x"
    target = Target(to=json.dumps(subscription), secret=vapid_private_key(),
                    settings={"subject": "mailto:a@b.c"})
    assert send("webpush", target, MESSAGE, TIMEOUT).status == RETRY


def test_push_broken_subscription_is_refused():
    subscription = {"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": "nope", "auth": "x"}}
    target = Target(to=json.dumps(subscription), secret=vapid_private_key())
    assert send("webpush", target, MESSAGE, TIMEOUT).status == REFUSED
