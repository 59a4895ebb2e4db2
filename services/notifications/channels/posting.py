"""What the HTTP channels share: one POST, and reading what came back.

The robots, our webhook and Web Push all answer over HTTP, and all mean the
same by most statuses: 2xx is taken, 429 is "slow down", 408 and 5xx are
"try again", any other 4xx is "never like this". The robots then say more in
their JSON (``errcode`` / ``code``), even under HTTP 200, which
``robot_outcome`` reads with each robot's own table of codes.
"""
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests

from services.notifications.channels import RATE_LIMITED, REFUSED, RETRY, SENT, Outcome

ANSWER_CHARS = 500  # enough for any robot's error message; an HTML error page is cut
ELLIPSIS = "…"


def trim(text: str, limit: int = ANSWER_CHARS) -> str:
    """``text`` on one short line: an answer is stored with the delivery and
    shown to an admin, who needs the receiver's words, not its HTML page."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + ELLIPSIS


def cut_utf8(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` UTF-8 bytes, ending in an ellipsis when
    cut. Robots count bytes, not characters (a Chinese character is 3), and
    a character cut in half would make the JSON undecodable to them."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    mark = ELLIPSIS.encode()
    if limit < len(mark):
        return encoded[:limit].decode(errors="ignore")
    return encoded[:limit - len(mark)].decode(errors="ignore") + ELLIPSIS


def fit(head: str, body: str, tail: str, limit: int) -> str:
    """``head + body + tail`` in ``limit`` bytes, cutting the body first: the
    title and the link are what a reader needs most."""
    room = limit - len(head.encode()) - len(tail.encode())
    if room < 0:
        return cut_utf8(head + tail, limit)
    return head + cut_utf8(body, room) + tail


def answer_of(response: requests.Response) -> str:
    """The receiver's answer as an admin should read it: status and body."""
    return trim(f"HTTP {response.status_code} {response.text}")


def retry_after(response: requests.Response) -> float | None:
    """Seconds the receiver asked us to wait (``Retry-After``: seconds or an
    HTTP date), or None when it did not say or said nonsense."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": no zone said; HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def by_status(response: requests.Response) -> Outcome | None:
    """The outcome an HTTP status alone decides, or None for a 2xx (which a
    robot's body may still turn into an error). Redirects are not followed:
    a receiver that moved is a URL an admin must change."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if status == 429:
        return Outcome(RATE_LIMITED, answer_of(response), retry_after(response))
    if status == 408 or status >= 500:
        return Outcome(RETRY, answer_of(response), retry_after(response))
    return Outcome(REFUSED, answer_of(response))


def unreachable(error: Exception) -> Outcome:
    """No answer at all (refused, reset, timed out, DNS): worth another try."""
    return Outcome(RETRY, trim(f"no answer: {type(error).__name__}: {error}"))


def failed(error: requests.RequestException) -> Outcome:
    """What a request that got no answer means: an address that cannot be
    one (requests raises those as ``ValueError`` too) is for an admin to
    fix; anything else is the network, worth another try."""
    if isinstance(error, ValueError):
        return Outcome(REFUSED, trim(f"unusable address: {type(error).__name__}: {error}"))
    return unreachable(error)


def keep_alive() -> requests.Session:
    """A session that keeps connections open per receiver: a new TLS
    connection per message cost more CPU than the message (the delivery
    timer sends up to its pool's size at once, hence the pool)."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=64)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


SESSION = keep_alive()


def post(url: str, body: bytes, timeout: float, headers: dict | None = None) -> requests.Response | Outcome:
    """One POST; an ``Outcome`` (RETRY) when nothing answered, else the
    response for the channel to read."""
    try:
        return SESSION.post(url, data=body, timeout=timeout, allow_redirects=False,
                             headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except requests.RequestException as error:
        return failed(error)


def to_json(payload: dict) -> bytes:
    """JSON as UTF-8, not ``\\u4e2d``-style escapes: robots cap requests by bytes,
    and escaping triples what a Chinese text costs."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class RobotCodes:
    """How a robot says what it meant under HTTP 200: the JSON fields that
    hold its code (0 is success), and the codes that mean "slow down" or
    "try again"; any other code is a refusal (a bad key, a signature that
    does not match, a keyword missing) that no retry will cure."""
    fields: tuple[str, ...]
    rate_limited: frozenset = field(default_factory=frozenset)
    transient: frozenset = field(default_factory=frozenset)

    def code(self, response: requests.Response) -> int | None:
        """The robot's code, or None when the body is not a robot's answer."""
        try:
            data = response.json()
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        for name in self.fields:
            if isinstance(data.get(name), int):
                return data[name]
        return None

    def outcome(self, response: requests.Response) -> Outcome:
        """The HTTP status first (a proxy's 502 has no code to read), then the code."""
        decided = by_status(response)
        if decided:
            return decided
        code, answer = self.code(response), answer_of(response)
        if code == 0:
            return Outcome(SENT, answer)
        if code in self.rate_limited:
            return Outcome(RATE_LIMITED, answer, retry_after(response))
        if code in self.transient:
            return Outcome(RETRY, answer)
        return Outcome(REFUSED, answer)

    def send(self, url: str, payload: dict, timeout: float) -> Outcome:
        """POST the robot its JSON once and say what it meant."""
        response = post(url, to_json(payload), timeout)
        return response if isinstance(response, Outcome) else self.outcome(response)


OPEN_LABELS = {"zh": "查看详情", "en": "Open in Dealerflow"}
MOBILE = re.compile(r"^\+?\d{5,15}$")


def open_label(language: str) -> str:
    """The words on a message's link, in the reader's language."""
    return OPEN_LABELS.get(language, OPEN_LABELS["en"])


def mobile(mention: str | None) -> str | None:
    """``mention`` when it is a mobile number (WeCom and DingTalk @ by
    mobile; a Feishu open_id is not one)."""
    return mention if mention and MOBILE.match(mention) else None
