"""Waiting for the system to get somewhere, with a bound (not a timing assertion)."""
import time


def eventually(check, timeout: float = 30.0, interval: float = 0.2, message=""):
    """Call ``check`` until it returns something truthy; fail after ``timeout``.
    ``message`` may be a callable, so that a failure tells the state at the
    end of the wait rather than at its start."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    told = message() if callable(message) else message
    raise AssertionError(f"gave up after {timeout:g} s: {told or check.__name__} (last: {last!r})")
