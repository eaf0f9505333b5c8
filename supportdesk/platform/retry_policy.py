"""Capped exponential backoff with full jitter, bounded by attempts; used by the outbox sender."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from typing import Awaitable, Callable, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
MIN_JITTER_FRACTION = 0.1  # never retry instantly: a full-jitter draw near 0 would hammer a throttled API


def _transient(error: BaseException) -> bool:
    return bool(getattr(error, "transient", False))


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

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after `attempt` attempts: `rng()` × ceiling, at least 10 % of the ceiling."""
        ceiling = self.ceiling(attempt)
        return max(ceiling * MIN_JITTER_FRACTION, min(rng(), 1.0) * ceiling)


async def call_with_retries(
    func: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    is_transient: Callable[[BaseException], bool] = _transient,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """Await `func()`, retrying errors `is_transient` accepts, `policy.max_attempts` attempts in all."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await func()
        except Exception as error:
            if attempt >= policy.max_attempts or not is_transient(error):
                raise
            delay = policy.delay(attempt, rng)
            logger.info(
                "retry.scheduled",
                extra={
                    "attempt": attempt,
                    "max_attempts": policy.max_attempts,
                    "delay_seconds": round(delay, 3),
                    "error_class": type(error).__name__,
                    "code": getattr(error, "code", None),
                },
            )
            await sleep(delay)
