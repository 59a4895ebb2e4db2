"""Local stand-ins for everything notifications talk to, on 127.0.0.1.

``Receivers`` is one small threaded HTTP server that plays WeCom, DingTalk
and Feishu group robots, a dealer's webhook receiver and a Web Push service,
each at the paths the real ones use. Like the real ones it checks what
arrives (DingTalk's and Feishu's signatures and clocks, our webhook
signature with ``webhook.verify``, a push request's VAPID token, WeCom's
byte limits), answers a robot's errors with HTTP 200 and an error code, and
rate-limits each robot as its vendor does (WeCom and DingTalk 20 a rolling
minute, Feishu 100 a minute and 5 a second). A test can script the next
answers of any endpoint (``answer_next``) or change its limits. The push
service decrypts each payload with the key of the "browser" a test
subscribed, proving the browser could read it.

``SmtpSink`` is a real SMTP server (aiosmtpd) that collects messages, checks
a login, can speak STARTTLS or SMTPS with a certificate of its own, and can
refuse the next messages with a given reply.

In a test module or a conftest::

    from tests.support.fake_receivers import receivers, smtp_sink  # noqa: F401 (fixtures)

    def test_it(receivers):
        robot = receivers.wecom()
        ... Target(url=robot.url) ...
        assert robot.received[0].json["msgtype"] == "markdown"
"""
import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import ssl
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import http_ece
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from py_vapid import Vapid02
from requests.structures import CaseInsensitiveDict

from services.notifications.channels import webhook
from tests.support.stack import free_port

SIGN_WINDOW = 3600  # DingTalk and Feishu refuse a timestamp over an hour from their clock
LIMITS = {  # (messages, seconds) windows each robot enforces
    "wecom": ((20, 60),),
    "dingtalk": ((20, 60),),
    "feishu": ((100, 60), (5, 1)),
    "webhook": (),
    "push": (),
}
WECOM_BYTES = {"text": 2048, "markdown": 4096}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    """One request an endpoint accepted."""
    path: str
    headers: CaseInsensitiveDict
    body: bytes
    json: object = None      # the body as JSON (a push request: the decrypted payload)


@dataclass
class Answer:
    """What an endpoint says back: the HTTP status, the body (a dict is sent
    as JSON) and extra headers."""
    status: int
    body: object = ""
    headers: dict = field(default_factory=dict)


class Endpoint:
    """One robot, webhook receiver or push subscription the fake plays."""

    def __init__(self, kind: str, key: str, url: str, secret: str | None):
        self.kind, self.key, self.url, self.secret = kind, key, url, secret
        self.limits = LIMITS[kind]
        self.received: list[Received] = []
        self.refused: list[Answer] = []   # what it answered to requests it did not accept
        self._scripted: deque[Answer] = deque()
        self._accepted_at: deque[float] = deque()

    def answer_next(self, n: int = 1, *, status: int = 200, code: int | None = None,
                    message: str = "scripted answer", retry_after: int | None = None) -> None:
        """Answer the next ``n`` requests so, before any check: ``code`` is
        a robot's error code (sent in its JSON shape under ``status``);
        without one the body is ``message`` as text."""
        body = message if code is None else error_body(self.kind, code, message)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._scripted.extend(Answer(status, body, headers) for _ in range(n))

    def limit(self, *windows: tuple[int, float]) -> None:
        """Enforce these (messages, seconds) windows instead of the vendor's."""
        self.limits = windows

    def scripted(self) -> Answer | None:
        return self._scripted.popleft() if self._scripted else None

    def over_limit(self, now: float) -> bool:
        """Whether one more message now would exceed a window (rolling)."""
        longest = max((seconds for _, seconds in self.limits), default=0)
        while self._accepted_at and self._accepted_at[0] <= now - longest:
            self._accepted_at.popleft()
        return any(sum(1 for t in self._accepted_at if t > now - seconds) >= count
                   for count, seconds in self.limits)

    def accept(self, received: Received, now: float) -> None:
        self.received.append(received)
        self._accepted_at.append(now)


@dataclass
class Browser:
    """The key pair and auth secret a browser makes when it subscribes."""
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> "Browser":
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    def keys(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth,
                                version="aes128gcm")


class PushEndpoint(Endpoint):
    """A push service's endpoint for one browser subscription."""

    def __init__(self, key: str, url: str):
        super().__init__("push", key, url, None)
        self.browser = Browser.new()

    @property
    def subscription(self) -> str:
        """What the browser hands the app: ``PushSubscription.toJSON()``."""
        return json.dumps({"endpoint": self.url, "keys": self.browser.keys()})


def error_body(kind: str, code: int, message: str) -> object:
    """A robot's error in its own JSON shape."""
    if kind == "feishu":
        return {"code": code, "msg": message, "data": {}}
    if kind in ("wecom", "dingtalk"):
        return {"errcode": code, "errmsg": message}
    return message


OK = {
    "wecom": Answer(200, {"errcode": 0, "errmsg": "ok"}),
    "dingtalk": Answer(200, {"errcode": 0, "errmsg": "ok"}),
    "feishu": Answer(200, {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
                           "msg": "success"}),
    "webhook": Answer(200, "ok"),
}
THROTTLED = {  # what each says over its limit
    "wecom": Answer(200, error_body("wecom", 45009, "api freq out of limit")),
    "dingtalk": Answer(200, error_body("dingtalk", 130101, "send too fast, exceed 20 times per minute")),
    "feishu": Answer(200, error_body("feishu", 11232, "frequency limited psm[lark.oapi.app]")),
    "webhook": Answer(429, "too many requests", {"Retry-After": "30"}),
    "push": Answer(429, "too many requests", {"Retry-After": "30"}),
}
UNKNOWN = {  # what each says to an address that is not one of its robots
    "wecom": Answer(200, error_body("wecom", 93000, "invalid webhook url")),
    "dingtalk": Answer(200, error_body("dingtalk", 300001, "token is not exist")),
    "feishu": Answer(200, error_body("feishu", 19001, "param invalid: incoming webhook token invalid")),
    "webhook": Answer(404, "no such hook"),
    "push": Answer(404, "no such subscription"),
}


def json_or_none(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


def vendor_signature(key: bytes, message: bytes) -> str:
    """Base64 HMAC-SHA256, as DingTalk and Feishu compute it on their side.
    Written here from their documentation rather than taken from the senders,
    so that a sender's mistake is not repeated by its judge."""
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def check_wecom(endpoint: Endpoint, request: "Request") -> Answer | None:
    """WeCom: a known message type whose content fits its byte limit."""
    data = request.json or {}
    kind = data.get("msgtype")
    if kind not in WECOM_BYTES:
        return Answer(200, error_body("wecom", 40008, f"invalid message type {kind!r}"))
    content = (data.get(kind) or {}).get("content", "")
    if len(content.encode()) > WECOM_BYTES[kind]:
        too_long = f"{kind}.content exceed max length {WECOM_BYTES[kind]}"
        return Answer(200, error_body("wecom", 40058, too_long))
    return None


def check_dingtalk(endpoint: Endpoint, request: "Request") -> Answer | None:
    """DingTalk: with a secret, ``timestamp`` (ms, within an hour) and ``sign`` in the query."""
    if endpoint.secret is None:
        return None
    query = parse_qs(urlsplit(request.path).query)
    timestamp, signed = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    if not timestamp.isdigit() or abs(request.now * 1000 - int(timestamp)) > SIGN_WINDOW * 1000:
        return Answer(200, error_body("dingtalk", 310000, "invalid timestamp"))
    if signed != vendor_signature(endpoint.secret.encode(), f"{timestamp}\n{endpoint.secret}".encode()):
        return Answer(200, error_body("dingtalk", 310000, "sign not match"))
    return None


def check_feishu(endpoint: Endpoint, request: "Request") -> Answer | None:
    """Feishu: with a secret, ``timestamp`` (s, within an hour) and ``sign`` in the body."""
    if endpoint.secret is None:
        return None
    data = request.json if isinstance(request.json, dict) else {}
    timestamp = str(data.get("timestamp", ""))
    fresh = timestamp.isdigit() and abs(request.now - int(timestamp)) <= SIGN_WINDOW
    if not fresh or data.get("sign") != vendor_signature(f"{timestamp}\n{endpoint.secret}".encode(), b""):
        return Answer(200, error_body(
            "feishu", 19021, "sign match fail or timestamp is not within one hour from current time"))
    return None


def check_webhook(endpoint: Endpoint, request: "Request") -> Answer | None:
    """A dealer's receiver as docs/webhooks.md tells it to be."""
    if endpoint.secret is None:
        return None
    if not webhook.verify(endpoint.secret, request.headers.get("X-Dealerflow-Timestamp", ""), request.body,
                          request.headers.get("X-Dealerflow-Signature", ""), request.now):
        return Answer(401, "bad or stale signature")
    return None


def check_push(endpoint: PushEndpoint, request: "Request") -> Answer | None:
    """A push service: a TTL, a valid VAPID token for this origin, a payload
    the browser can decrypt (then the decrypted JSON is what is recorded)."""
    if "TTL" not in request.headers:
        return Answer(400, "missing TTL header")
    authorization = request.headers.get("Authorization", "")
    try:
        valid = Vapid02.verify(authorization)
        claims = json.loads(b64url_decode(authorization.split("t=", 1)[1].split(",")[0].split(".")[1]))
    except Exception as error:  # a malformed header, however malformed: that is the answer
        return Answer(401, f"bad VAPID authorization: {error!r}")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint.url))
    fresh = claims.get("exp", 0) >= request.now
    if not (valid and fresh and claims.get("aud") == origin and claims.get("sub")):
        return Answer(403, f"VAPID token refused: {claims}")
    if request.headers.get("Content-Encoding") != "aes128gcm":
        return Answer(415, "aes128gcm only")
    try:
        request.json = json.loads(endpoint.browser.decrypt(request.body))
    except Exception as error:  # what a browser does with what it cannot read: nothing
        return Answer(400, f"payload not decryptable: {error!r}")
    return None


CHECKS = {"wecom": check_wecom, "dingtalk": check_dingtalk, "feishu": check_feishu,
          "webhook": check_webhook, "push": check_push}


@dataclass
class Request:
    path: str
    headers: CaseInsensitiveDict
    body: bytes
    now: float
    json: object = None


class Receivers:
    """The fake robots, webhook receivers and push service on one port."""

    def __init__(self):
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="fake-receivers", daemon=True)

    def __enter__(self) -> "Receivers":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _add(self, endpoint: Endpoint) -> Endpoint:
        with self.lock:
            self.endpoints[(endpoint.kind, endpoint.key)] = endpoint
        return endpoint

    def wecom(self) -> Endpoint:
        key = str(uuid.uuid4())
        return self._add(Endpoint("wecom", key, f"{self.base}/cgi-bin/webhook/send?key={key}", None))

    def dingtalk(self, secret: str | None = None) -> Endpoint:
        token = uuid.uuid4().hex
        return self._add(Endpoint("dingtalk", token, f"{self.base}/robot/send?access_token={token}", secret))

    def feishu(self, secret: str | None = None) -> Endpoint:
        hook = str(uuid.uuid4())
        return self._add(Endpoint("feishu", hook, f"{self.base}/open-apis/bot/v2/hook/{hook}", secret))

    def webhook(self, secret: str | None = None) -> Endpoint:
        hook = uuid.uuid4().hex
        return self._add(Endpoint("webhook", hook, f"{self.base}/hooks/{hook}", secret))

    def push_subscription(self) -> PushEndpoint:
        """A browser subscribed to the push service: ``.subscription`` is its JSON."""
        key = uuid.uuid4().hex
        return self._add(PushEndpoint(key, f"{self.base}/push/{key}"))

    def route(self, path: str) -> tuple[str, str]:
        """The (kind, key) a request path addresses, as each vendor lays them out."""
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if parts.path == "/cgi-bin/webhook/send":
            return "wecom", query.get("key", [""])[0]
        if parts.path == "/robot/send":
            return "dingtalk", query.get("access_token", [""])[0]
        prefixes = (("/open-apis/bot/v2/hook/", "feishu"), ("/hooks/", "webhook"), ("/push/", "push"))
        for prefix, kind in prefixes:
            if parts.path.startswith(prefix):
                return kind, parts.path[len(prefix):]
        return "webhook", ""

    def handle(self, request: Request) -> Answer:
        """Script, unknown address, checks, rate limit, then accept: in the
        order a vendor's front door would meet them."""
        kind, key = self.route(request.path)
        with self.lock:
            endpoint = self.endpoints.get((kind, key))
            if endpoint is None:
                return UNKNOWN[kind]
            answer = endpoint.scripted() or CHECKS[kind](endpoint, request)
            if answer is None and endpoint.over_limit(request.now):
                answer = THROTTLED[kind]
            if answer is not None:
                endpoint.refused.append(answer)
                return answer
            endpoint.accept(Received(request.path, request.headers, request.body, request.json), request.now)
            return OK.get(kind) or Answer(201, "", {"Location": f"{endpoint.url}/m/{uuid.uuid4().hex}"})


def handler_for(receivers: Receivers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = CaseInsensitiveDict(self.headers.items())
            request = Request(self.path, headers, body, time.time(), json_or_none(body))
            self.reply(receivers.handle(request))

        def reply(self, answer: Answer) -> None:
            if isinstance(answer.body, (dict, list)):
                payload, content_type = json.dumps(answer.body).encode(), "application/json"
            else:
                payload, content_type = str(answer.body).encode(), "text/plain; charset=utf-8"
            self.send_response(answer.status)
            for name, value in {"Content-Type": content_type, **answer.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # quiet: pytest shows what a failing test needs
            pass

    return Handler


def vapid_private_key() -> str:
    """A new VAPID private key as PEM, as an operator would generate one."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


# -- SMTP ---------------------------------------------------------------------

@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as files: the sink's TLS
    identity, which a test makes the client trust (``SSL_CERT_FILE``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "sink.crt", directory / "sink.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what it accepts.

    ``login``: (username, password) it requires; ``tls``: None, "starttls"
    (required before mail) or "ssl" (SMTPS), with a certificate in
    ``directory`` whose file is ``cafile``."""

    def __init__(self, login: tuple[str, str] | None = None, tls: str | None = None,
                 directory: Path | None = None):
        self.messages: list[Mail] = []
        self.login = login
        self._refusals: deque[str] = deque()
        self.port = free_port()  # aiosmtpd's controller cannot start on port 0
        options = {}
        if login:
            # checked at DATA (auth_required without TLS makes aiosmtpd warn on every connection)
            options.update(authenticator=self.authenticate, auth_require_tls=False)
        self.cafile = None
        if tls:
            self.cafile, key_file = self_signed(directory)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cafile, key_file)
            options.update({"tls_context": context, "require_starttls": True} if tls == "starttls"
                           else {"ssl_context": context})
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def refuse_next(self, reply: str, n: int = 1) -> None:
        """Answer the next ``n`` messages' DATA with ``reply``, e.g. ``"451 4.3.0 Try again later"``."""
        self._refusals.extend([reply] * n)

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (auth_data.login.decode(), auth_data.password.decode()) == self.login
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self._refusals:
            return self._refusals.popleft()
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return f"250 2.0.0 Ok: queued as SINK{len(self.messages)}"

    def settings(self, **overrides) -> dict:
        """A store channel's settings that reach this sink."""
        settings = {"host": "127.0.0.1", "port": self.port, "sender": "Dealerflow <noreply@example.com>",
                    "starttls": self.controller.SMTP_kwargs.get("require_starttls", False),
                    "ssl": self.controller.ssl_context is not None}
        if self.login:
            settings["username"] = self.login[0]
        return {**settings, **overrides}


# -- pytest fixtures ------------------------------------------------------------

@pytest.fixture
def receivers():
    """The fake robots, webhook receivers and push service, for one test."""
    with Receivers() as running:
        yield running


@pytest.fixture
def smtp_sink():
    """An SMTP sink that wants the login ``dealer`` / ``s3cret``, for one test."""
    with SmtpSink(login=("dealer", "s3cret")) as sink:
        yield sink
