"""Feishu / Lark (飞书) custom bots.

A bot with signing on wants ``timestamp`` (seconds) and ``sign`` in the JSON
body, where ``sign`` is the base64 HMAC-SHA256 of an EMPTY message keyed by
``"<seconds>\\n<secret>"``: the same string DingTalk signs, used the other way
round (public clients that copy DingTalk's order get 19021). It answers with
``code`` (older bots ``StatusCode``): 0 sent; 19021 signature or clock
refused; 19024 keyword missing; 11232 "frequency limited" (100 a minute,
5 a second); 9499 "Bad Request", which comes with HTTP 429 or 5xx when it
is passing (the status decides) and alone when the request is wrong.

A message is a rich-text ``post`` in the reader's language: the body's lines,
the link, and an ``at`` by open_id (Feishu cannot @ by mobile).
"""
import base64
import hashlib
import hmac
import time

from services.notifications.channels import Message, Outcome, Target
from services.notifications.channels.posting import RobotCodes, cut_utf8, mobile, open_label

BODY_BYTES = 4096
LOCALES = {"zh": "zh_cn", "en": "en_us"}
CODES = RobotCodes(("code", "StatusCode"), rate_limited=frozenset({11232}))


def sign(secret: str, timestamp: int) -> str:
    """Feishu's ``sign``: the key is ``timestamp\\nsecret``, the message empty."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def payload(message: Message) -> dict:
    """The bot's ``post`` JSON for ``message`` (unsigned)."""
    rows = [[{"tag": "text", "text": line}] for line in cut_utf8(message.body, BODY_BYTES).split("\n")]
    if message.link:
        rows.append([{"tag": "a", "text": open_label(message.language), "href": message.link}])
    if message.mention and not mobile(message.mention):
        rows.append([{"tag": "at", "user_id": message.mention}])
    locale = LOCALES.get(message.language, "en_us")
    return {"msg_type": "post",
            "content": {"post": {locale: {"title": message.title, "content": rows}}}}


def send(target: Target, message: Message, timeout: float) -> Outcome:
    """Post ``message`` to the bot once, signed when it has a secret."""
    body = payload(message)
    if target.secret:
        now = int(time.time())
        body = {"timestamp": str(now), "sign": sign(target.secret, now), **body}
    return CODES.send(target.url, body, timeout)
