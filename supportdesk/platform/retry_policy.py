"""The one backoff: capped exponential with full jitter, honouring a server's Retry-After.

Used by the outbox sender (Graph sends), the push sender (FCM) and the inbox (failed turns);
each keeps its own attempt budget and waits in its own way (a stored retry time or a sleep).
"""

from __future__ import annotations

import dataclasses
import random
from typing import Callable

MIN_JITTER_FRACTION = 0.1  # never retry instantly: a full-jitter draw near 0 would hammer a throttled API


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` attempts in all; waits `base * 2**(n-1)` seconds capped at `cap`, jittered."""

    max_attempts: int = 5
    base_seconds: float = 1.0
    cap_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds < 0 or self.cap_seconds < 0:
            raise ValueError("RetryPolicy needs max_attempts >= 1 and non-negative seconds")

    def ceiling(self, attempt: int) -> float:
        """The un-jittered wait after `attempt` attempts (1-based), never above the cap."""
        exponent = min(max(attempt - 1, 0), 63)  # 2**63 seconds is far past any cap; avoids float overflow
        return min(self.cap_seconds, self.base_seconds * 2**exponent)

    def delay(self, attempt: int, rng: Callable[[], float] = random.random, retry_after: float = 0.0) -> float:
        """Seconds to wait after `attempt` attempts: `rng()` × ceiling (≥ 10 % of it), ≥ `retry_after`, ≤ the cap."""
        ceiling = self.ceiling(attempt)
        jittered = max(ceiling * MIN_JITTER_FRACTION, min(rng(), 1.0) * ceiling)
        return min(self.cap_seconds, max(jittered, retry_after))

    def may_retry(self, attempts: int) -> bool:
        """True while fewer than `max_attempts` attempts were made."""
        return attempts < self.max_attempts
