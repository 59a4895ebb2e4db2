"""Open-loop HTTP load on gevent: request ``i`` is due at ``t0 + i / rate``
whatever the earlier ones are doing, and its latency counts from that due
time, so a request that waits for a free connection is charged for the wait
(no coordinated omission).

The client is deliberately small: keep-alive HTTP/1.1 over gevent sockets,
request bytes built before the clock starts, and a response parser that reads
only the status line, Content-Length and Connection. It uses gevent's own
socket and sleep, so nothing else in the process is monkey-patched.
"""
import resource
import time
from dataclasses import dataclass

import gevent
from gevent import socket
from gevent.queue import Queue


class Connection:
    """One keep-alive HTTP/1.1 connection: request bytes in, (status, body) out."""

    def __init__(self, host: str, port: int):
        self.address, self.sock, self.buffer = (host, port), None, b""

    def connect(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(self, data: bytes) -> tuple[int, bytes]:
        """Send and read the answer; a kept-alive connection the server had
        closed before answering is reopened once and the request resent."""
        reused = self.sock is not None
        if not reused:
            self.connect()
        try:
            self.sock.sendall(data)
            return self.read_response()
        except (EOFError, ConnectionError):
            self.close()
            if not reused:
                raise
            return self.request(data)

    def fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buffer += chunk

    def read_response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self.fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status, length, close = int(lines[0].split(b" ", 2)[1]), 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        while len(self.buffer) < length:
            self.fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if close:
            self.close()
        return status, body


def post_request(host: str, port: int, path: str, body: bytes, headers: dict) -> bytes:
    """The bytes of one HTTP/1.1 POST."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}",
             *(f"{name}: {value}" for name, value in headers.items()),
             f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


@dataclass
class Answer:
    status: int | str   # the HTTP status, or the name of the exception
    body: bytes
    latency_ms: float   # from the due time to the end of the answer
    sent: float         # seconds after t0 the request was written
    done: float         # seconds after t0 the answer was read
    wall: float         # time.time() of the answer (UTC epoch, this machine's clock)


@dataclass
class Run:
    rate: float
    answers: list[Answer]
    client_cpu: float   # CPU seconds of this process per wall second while running
    unanswered: int     # requests still without an answer at the timeout


def open_loop(host: str, port: int, requests: list[bytes], rate: float,
              connections: int = 64, timeout: float = 120) -> Run:
    """Send ``requests`` at ``rate`` per second over ``connections``
    keep-alive connections (opened before the clock starts)."""
    due, answers = Queue(), [None] * len(requests)
    pool = [Connection(host, port) for _ in range(connections)]
    for connection in pool:
        connection.connect()

    def work(connection: Connection) -> None:
        for i in due:
            sent = time.perf_counter()
            try:
                status, body = connection.request(requests[i])
            except Exception as exc:  # counted, never fatal
                connection.close()
                status, body = type(exc).__name__, b""
            done = time.perf_counter()
            answers[i] = Answer(status, body, (done - (t0 + i / rate)) * 1000, sent - t0,
                                done - t0, done + wall_offset)

    workers = [gevent.spawn(work, connection) for connection in pool]
    cpu0 = cpu_seconds()
    wall_offset = time.time() - time.perf_counter()
    t0 = time.perf_counter() + 0.01
    for i in range(len(requests)):
        wait = t0 + i / rate - time.perf_counter()
        if wait > 0:
            gevent.sleep(wait)
        due.put(i)
    for _ in workers:
        due.put(StopIteration)
    gevent.joinall(workers, timeout=timeout)
    elapsed = time.perf_counter() - t0
    gevent.killall(workers)
    for connection in pool:
        connection.close()
    cpu = (cpu_seconds() - cpu0) / elapsed
    answered = [a for a in answers if a is not None]
    return Run(rate, answered, round(cpu, 2), len(answers) - len(answered))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
