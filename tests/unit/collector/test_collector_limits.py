"""The bounded memory of accepted ids and the per-caller token buckets."""

from __future__ import annotations

import pytest

from boucle_collector.domain.limits import RateLimiter, RecentIds, retry_after

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_recent_ids_forget_the_least_recently_seen_first() -> None:
    ids = RecentIds(2)
    ids.add("a")
    ids.add("b")
    ids.add("a")  # seen again: now the most recent
    ids.add("c")

    assert ("a" in ids, "b" in ids, "c" in ids) == (True, False, True)
    assert len(ids) == 2


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)

    assert [limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(0.5)


def test_buckets_are_per_caller_and_refill_up_to_the_burst_only() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    limiter.acquire("a")
    limiter.acquire("a")

    assert limiter.acquire("b") == 0.0
    clock.now += 3600
    assert [limiter.acquire("a") for _ in range(3)][2] > 0


def test_a_refused_request_is_not_charged() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    limiter.acquire("k")
    for _ in range(5):
        assert limiter.acquire("k") > 0
    clock.now += 1.0

    assert limiter.acquire("k") == 0.0


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert (retry_after(0.01), retry_after(1.0), retry_after(2.2)) == ("1", "1", "3")
