"""Waiting for the system to get somewhere, with a bound (not a timing assertion)."""
import time


def eventually(check, timeout: float = 30.0, interval: float = 0.2, message: str = ""):
    """Call ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout:g} s: {message or check.__name__} (last: {last!r})")
