"""Per-key rate limits: a token bucket per API key in each gateway process.

Each process holds ``1 / processes`` of a key's rate, so the limit holds
across gunicorn's workers without a shared store (load is spread evenly).
"""
import threading
import time


class RateLimiter:
    def __init__(self, processes: int = 1, clock=time.monotonic):
        self.share = 1.0 / max(1, processes)
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self.lock = threading.Lock()

    def wait_time(self, key: str, per_second: int) -> float:
        """0 when the request may go now (and takes a token), else how many
        seconds until it may. ``per_second`` 0 means no limit."""
        if per_second <= 0:
            return 0.0
        rate = per_second * self.share
        capacity = max(1.0, rate)
        with self.lock:
            now = self.clock()
            tokens, at = self.buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1 - tokens) / rate
