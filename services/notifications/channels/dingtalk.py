"""DingTalk (钉钉) custom robots.

The address carries ``access_token``. A robot with "加签" (signing) on wants
``&timestamp=<ms>&sign=<s>`` added, where ``s`` is the URL-encoded base64
HMAC-SHA256 of ``"<ms>\\n<secret>"`` keyed by the secret, and the timestamp
within an hour of DingTalk's clock. It answers HTTP 200 with ``errcode``: 0
sent; 310000 a signature, keyword or IP refused; 130101 (and 410100) sent
too fast: over 20 a minute the robot is throttled for 10 minutes; -1 busy.

A message is markdown (an actionCard cannot @ anyone): a heading, the body,
the link; a mention needs both ``at.atMobiles`` and ``@mobile`` in the text,
or DingTalk shows no mention. The body is cut to 4096 bytes: DingTalk allows
more, but a group notice should stay a notice.
"""
import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from services.notifications.channels import Message, Outcome, Target
from services.notifications.channels.posting import RobotCodes, cut_utf8, mobile, open_label

BODY_BYTES = 4096
CODES = RobotCodes(("errcode",), rate_limited=frozenset({130101, 410100}), transient=frozenset({-1}))


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` parameter, already URL-encoded (as its docs build it)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` with the timestamp and signature DingTalk checks appended."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def payload(message: Message) -> dict:
    """The robot's markdown JSON for ``message``."""
    at = mobile(message.mention)
    lines = [f"#### {message.title}", cut_utf8(message.body, BODY_BYTES).replace("\n", "  \n")]
    if message.link:
        lines.append(f"[{open_label(message.language)}]({message.link})")
    if at:
        lines.append(f"@{at}")
    return {"msgtype": "markdown",
            "markdown": {"title": message.title, "text": "\n\n".join(lines)},
            "at": {"atMobiles": [at] if at else [], "isAtAll": False}}


def send(target: Target, message: Message, timeout: float) -> Outcome:
    """Post ``message`` to the robot once, signed when it has a secret."""
    url = target.url
    if target.secret:
        url = signed_url(url, target.secret, int(time.time() * 1000))
    return CODES.send(url, payload(message), timeout)
