"""Exponential backoff with full jitter, bounded by attempts; shared by the outbox sender."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")
MIN_JITTER_FRACTION = 0.1  # never retry instantly: a full-jitter draw of ~0 would hammer a throttled API


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` in all; delays `base * 2**(n-1)` capped at `cap`, jittered."""

    max_attempts: int = 5
    base_seconds: float = 1.0
    cap_seconds: float = 60.0

    def ceiling(self, attempt: int) -> float:
        """The un-jittered delay after `attempt` attempts (1-based)."""
        return min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after `attempt` attempts: uniform in [10 %, 100 %] of the ceiling."""
        ceiling = self.ceiling(attempt)
        return max(ceiling * MIN_JITTER_FRACTION, rng() * ceiling)


async def call_with_retries(
    func: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    is_transient: Callable[[BaseException], bool] = lambda error: bool(getattr(error, "transient", False)),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """Run `func`, retrying transient errors up to `policy.max_attempts` attempts in all."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await func()
        except Exception as error:
            if attempt >= policy.max_attempts or not is_transient(error):
                raise
            await sleep(policy.delay(attempt, rng))
