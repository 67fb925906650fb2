"""A token bucket per API key, in the process: `requests` tokens at most, refilled evenly
over `per`. (One process serves the API; several would each allow the rate.)"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vault.config import ApiRate


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    rate: ApiRate
    monotonic: Callable[[], float] = time.monotonic  # elapsed time, not the wall clock
    _buckets: dict[int, _Bucket] = field(default_factory=dict)

    def take(self, key_id: int) -> int:
        """0 if the key may go on (a token is spent), else the seconds to wait."""
        capacity = float(self.rate.requests)
        per_second = capacity / self.rate.per.total_seconds()
        now = self.monotonic()
        bucket = self._buckets.setdefault(key_id, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * per_second)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / per_second))
