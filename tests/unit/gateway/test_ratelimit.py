"""services.gateway.ratelimit: a token bucket per key, with a fake clock."""
import pytest

from services.gateway.ratelimit import RateLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_limiter(processes: int = 1) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(processes=processes, clock=clock), clock


def allowed(limiter: RateLimiter, key: str, per_second: int, attempts: int) -> int:
    return sum(limiter.wait_time(key, per_second) == 0 for _ in range(attempts))


def test_a_full_bucket_allows_the_rate_then_refuses():
    limiter, _ = make_limiter()
    assert allowed(limiter, "k", 5, 20) == 5


def test_each_process_holds_its_share_of_the_rate():
    limiter, _ = make_limiter(processes=4)
    assert limiter.share == 0.25
    assert allowed(limiter, "k", 20, 100) == 5


def test_zero_or_fewer_processes_count_as_one():
    limiter, _ = make_limiter(processes=0)
    assert limiter.share == 1.0


def test_a_share_below_one_request_still_lets_one_through():
    limiter, clock = make_limiter(processes=4)
    assert allowed(limiter, "k", 2, 10) == 1           # 0.5/s, but the bucket holds at least 1
    assert limiter.wait_time("k", 2) == pytest.approx(2.0)
    clock.advance(2.0)
    assert limiter.wait_time("k", 2) == 0


def test_tokens_refill_with_time():
    limiter, clock = make_limiter()
    assert allowed(limiter, "k", 4, 10) == 4
    assert limiter.wait_time("k", 4) > 0
    clock.advance(0.5)                                  # 2 tokens back
    assert allowed(limiter, "k", 4, 10) == 2


def test_refill_stops_at_capacity():
    limiter, clock = make_limiter()
    assert allowed(limiter, "k", 3, 3) == 3
    clock.advance(3600)
    assert allowed(limiter, "k", 3, 10) == 3


def test_wait_time_says_when_the_next_token_comes():
    limiter, clock = make_limiter()
    assert limiter.wait_time("k", 1) == 0
    assert limiter.wait_time("k", 1) == pytest.approx(1.0)
    clock.advance(0.25)
    assert limiter.wait_time("k", 1) == pytest.approx(0.75)
    clock.advance(0.75)
    assert limiter.wait_time("k", 1) == 0


def test_a_refused_request_takes_no_token():
    limiter, clock = make_limiter()
    assert allowed(limiter, "k", 2, 2) == 2
    for _ in range(5):
        assert limiter.wait_time("k", 2) > 0
    clock.advance(0.5)                                  # exactly one token back
    assert limiter.wait_time("k", 2) == 0


@pytest.mark.parametrize("per_second", [0, -1])
def test_zero_means_unlimited(per_second):
    limiter, _ = make_limiter()
    assert allowed(limiter, "k", per_second, 1000) == 1000
    assert "k" not in limiter.buckets


def test_keys_have_their_own_buckets():
    limiter, _ = make_limiter()
    assert allowed(limiter, "a", 1, 3) == 1
    assert allowed(limiter, "b", 1, 3) == 1
