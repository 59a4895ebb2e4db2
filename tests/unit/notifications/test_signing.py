"""Signatures and byte limits of the channel senders: known vectors from the
vendors' algorithms (../shared/research/integrations.md §2), our webhook's
sign/verify round trip, and cuts that never break a UTF-8 character."""
import base64
import hashlib
import hmac
from urllib.parse import unquote_plus

import requests
from hypothesis import example, given
from hypothesis import strategies as st

from services.notifications.channels import Message, dingtalk, feishu, webhook, wecom
from services.notifications.channels.posting import ELLIPSIS, cut_utf8, fit, retry_after

secrets = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=2048)
timestamps = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


# -- DingTalk and Feishu --------------------------------------------------------

def test_dingtalk_known_vector():
    expected = "figG6qqCA%2FlRh0hsGCW2zNtNV5znkAFut5BI0zKhqnQ%3D"
    assert dingtalk.sign("SECexample0123456789", 1700000000000) == expected


def test_feishu_known_vector_and_not_the_dingtalk_order():
    assert feishu.sign("example-feishu-secret", 1700000000) == "YeHIwcqNgOCRdRIE9cBfhSWXuleWsBA7Qoq8Y3ZKOWU="
    assert feishu.sign("example-feishu-secret", 1700000000) != "ZYYdhrO+kinNmyMpDOZ7t/3vWF37Z4yM2QF8IAoe4gs="


@given(secret=secrets, timestamp=timestamps)
def test_dingtalk_sign_is_url_safe_and_decodes_to_the_hmac(secret, timestamp):
    signed = dingtalk.sign(secret, timestamp)
    assert all(c.isalnum() or c in "%-_." for c in signed)
    expected = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(unquote_plus(signed)) == expected


@given(url=st.sampled_from(["https://oapi.dingtalk.com/robot/send?access_token=abc", "http://h/robot/send"]),
       secret=secrets, timestamp=timestamps)
def test_dingtalk_signed_url_keeps_the_token_and_adds_both_parameters(url, secret, timestamp):
    signed = dingtalk.signed_url(url, secret, timestamp)
    assert signed.startswith(url) and signed.count("?") == 1
    assert signed.endswith(f"timestamp={timestamp}&sign={dingtalk.sign(secret, timestamp)}")


@given(secret=secrets, timestamp=timestamps)
def test_feishu_sign_keys_the_hmac_with_timestamp_and_secret(secret, timestamp):
    key = f"{timestamp}\n{secret}".encode()
    assert base64.b64decode(feishu.sign(secret, timestamp)) == hmac.new(key, b"", hashlib.sha256).digest()


# -- our webhook ------------------------------------------------------------------

@given(secret=secrets, timestamp=timestamps, body=bodies,
       drift=st.integers(min_value=-webhook.TOLERANCE, max_value=webhook.TOLERANCE))
def test_webhook_signature_verifies_within_the_tolerance(secret, timestamp, body, drift):
    signature = webhook.signature(secret, timestamp, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhook.verify(secret, str(timestamp), body, signature, now=timestamp + drift)


@given(secret=secrets, timestamp=timestamps, body=bodies,
       drift=st.integers(min_value=webhook.TOLERANCE + 1, max_value=10 ** 6), sign=st.sampled_from([1, -1]))
def test_webhook_refuses_a_stale_or_future_timestamp(secret, timestamp, body, drift, sign):
    signature = webhook.signature(secret, timestamp, body)
    assert not webhook.verify(secret, str(timestamp), body, signature, now=timestamp + sign * drift)


@given(secret=secrets, other=secrets, timestamp=timestamps, body=bodies,
       extra=st.binary(min_size=1, max_size=8))
def test_webhook_refuses_another_secret_body_or_timestamp(secret, other, timestamp, body, extra):
    signature = webhook.signature(secret, timestamp, body)
    if other != secret:
        assert not webhook.verify(other, str(timestamp), body, signature, now=timestamp)
    assert not webhook.verify(secret, str(timestamp), body + extra, signature, now=timestamp)
    assert not webhook.verify(secret, str(timestamp + 1), body, signature, now=timestamp)


@given(timestamp=st.text(max_size=12), signature=st.text(max_size=80))
def test_webhook_verify_refuses_garbage_without_raising(timestamp, signature):
    assert webhook.verify("secret", timestamp, b"{}", signature, now=1_700_000_000) is False


# -- byte limits --------------------------------------------------------------------

@given(text=st.text(max_size=300), limit=st.integers(min_value=0, max_value=600))
def test_cut_never_exceeds_the_limit_nor_splits_a_character(text, limit):
    cut = cut_utf8(text, limit)
    assert len(cut.encode()) <= limit
    if len(text.encode()) <= limit:
        assert cut == text
    else:
        kept = cut[:-1] if cut.endswith(ELLIPSIS) and limit >= len(ELLIPSIS.encode()) else cut
        assert text.startswith(kept)   # whole characters of the text, in order
        assert len(text.encode()) - len(kept.encode()) >= 1


@given(text=st.text(alphabet="评a€😀", min_size=1, max_size=300),
       limit=st.integers(min_value=3, max_value=400))
def test_cut_keeps_as_much_as_fits(text, limit):
    cut = cut_utf8(text, limit)
    if cut != text:
        assert cut.endswith(ELLIPSIS)
        assert len(cut.encode()) > limit - 4   # at most one character (4 bytes) short of the limit


@given(head=st.text(max_size=40), body=st.text(max_size=400), tail=st.text(max_size=40),
       limit=st.integers(min_value=0, max_value=500))
def test_fit_cuts_the_body_before_the_title_and_link(head, body, tail, limit):
    fitted = fit(head, body, tail, limit)
    assert len(fitted.encode()) <= limit
    if len((head + tail).encode()) <= limit:
        assert fitted.startswith(head) and fitted.endswith(tail)


@given(title=st.text(min_size=1, max_size=120), body=st.text(max_size=3000),
       mention=st.one_of(st.none(), st.just("13800001111")))
def test_wecom_content_always_fits_its_limit(title, body, mention):
    message = Message(kind="lead_update", title=title, body=body, link="https://x.example/leads/1",
                      mention=mention)
    sent = wecom.payload(message)
    content = sent[sent["msgtype"]]["content"]
    assert len(content.encode()) <= (wecom.TEXT_BYTES if mention else wecom.MARKDOWN_BYTES)


# -- Retry-After ---------------------------------------------------------------------

def answer_with(retry: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    if retry is not None:
        response.headers["Retry-After"] = retry
    return response


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after(answer_with("30")) == 30.0
    assert retry_after(answer_with("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # in the past: now
    assert retry_after(answer_with(None)) is None


@example(value="Wed, 21 Oct 2015 07:28:00 -0000")  # a date without a zone (it raised once)
@given(value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_retry_after_is_a_non_negative_number_or_none_whatever_is_sent(value):
    waited = retry_after(answer_with(value))
    assert waited is None or waited >= 0
