"""Sending one message through one channel, and reading its answer.

Each channel module (``wecom``, ``dingtalk``, ``feishu``, ``webhook``,
``email``, ``webpush``) has ``send(target, message, timeout) -> Outcome``:
one attempt, no retry (the delivery engine retries, rate-limits and breaks
circuits), and an ``Outcome`` that says what the receiver really meant (a
robot's HTTP 200 may be an error: its ``errcode`` / ``code`` decides).
"""
from dataclasses import dataclass, field

SENT, RETRY, RATE_LIMITED, REFUSED = "sent", "retry", "rate_limited", "refused"


@dataclass(frozen=True)
class Target:
    """Where to: a store channel's address, its secret (decrypted) and
    settings; for a user's own channels, their address (``to``: an email
    address, or a push subscription as JSON)."""
    url: str | None = None
    secret: str | None = None
    settings: dict = field(default_factory=dict)
    to: str | None = None


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str
    language: str = "zh"
    link: str | None = None       # an absolute URL to open (the app's lead page)
    mention: str | None = None    # who a robot @s: a mobile number, or a Feishu open_id
    event_id: str | None = None   # the delivery's dedupe key, sent to webhooks as their id
    calendar: str | None = None   # email: an iCalendar invitation (METHOD:REQUEST) to attach


@dataclass(frozen=True)
class Outcome:
    status: str                   # SENT, RETRY (transient), RATE_LIMITED, REFUSED (permanent)
    answer: str                   # what the receiver said (HTTP status and body, an SMTP reply)
    retry_after: float | None = None  # seconds, when the receiver said

    @property
    def ok(self) -> bool:
        return self.status == SENT


# The senders import the types above, so they come after them.
from services.notifications.channels import dingtalk, email, feishu, webhook, webpush, wecom  # noqa: E402

SENDERS = {"wecom": wecom.send, "dingtalk": dingtalk.send, "feishu": feishu.send,
           "webhook": webhook.send, "email": email.send, "webpush": webpush.send}


def send(channel_type: str, target: Target, message: Message, timeout: float = 5.0) -> Outcome:
    """One attempt through the channel of that type (a store channel's type,
    or a user's ``email`` / ``webpush``)."""
    return SENDERS[channel_type](target, message, timeout)
