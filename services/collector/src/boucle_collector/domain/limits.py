"""In-process guards: the recently accepted event ids, and a token bucket per caller. Pure Python.

Both live in one replica's memory, by design (the collector keeps no database):

* ``RecentIds`` lets a replica answer "duplicate" without publishing again when a platform
  redelivers a response it has just accepted. It is bounded and forgets on restart; a
  redelivery it does not remember is published again *with the same deterministic event id*,
  and every consumer deduplicates on that id. So the cache decides the answer and saves a
  publish, while correctness (nothing counted twice) rests on the event id downstream.
* ``RateLimiter`` is per replica: with N replicas behind a load balancer a key may reach N
  times its rate. It protects each replica from one noisy caller; a global quota belongs at
  the ingress. The webhooks use a second one that is charged only by failed signatures
  (per client address and per webhook URL), checked before the body is read.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


class RecentIds:
    """The last ``capacity`` accepted ids, least recently seen evicted first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets: ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = 100_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate, self._burst, self._clock = rate, burst, clock
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, caller: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = _Bucket(tokens=float(self._burst), updated=now)
            if len(self._buckets) > self._max_callers:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(caller)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        return bucket

    def acquire(self, caller: str, cost: float = 1.0) -> float:
        """0 when allowed (and charged), else the seconds to wait before retrying."""
        bucket = self._bucket(caller)
        cost = min(cost, float(self._burst))  # a request bigger than the burst still passes
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self._rate

    def wait(self, caller: str) -> float:
        """Seconds before ``caller`` has a token again (0: it has one), charging nothing.

        With :meth:`acquire` called only on failures, this limits failed attempts, not
        attempts: what the webhooks do with bad signatures.
        """
        bucket = self._bucket(caller)
        return 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / self._rate


def retry_after(seconds: float) -> str:
    """``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
