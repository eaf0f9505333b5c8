"""Paces outgoing WhatsApp messages so Meta's rate limits are rare, and backs off as Meta asks when they come.

Two token buckets decide when a message may go. One for the business number: Cloud API throughput is
80 messages/s by default (`WHATSAPP_MESSAGES_PER_SECOND`). One per customer: the pair rate limit is
about one message every 6 s on average, with bursts tolerated (Meta lets up to 45 go in 6 s, then
blocks the pair until the borrowed time is paid back); we allow `WHATSAPP_PAIR_BURST` at once (a
turn's replies go out together) and then one every 6 s, so 131056 should not happen at all.

The sender never holds a message in memory to wait: a message that may not go yet goes back in line
in the outbox until its time, and the customer's later messages stay behind it (order is kept).
When Meta still answers 130429, the whole number pauses (the Graph backoff policy, longer while it
repeats), then resumes at its pace; 131056 pauses that customer for 4^n seconds (n = 0, 1, ... as
Meta recommends; at least the 6 s pair interval), then allows one message every 6 s. Neither counts
as a failed attempt. The buckets live in this process: with several sending replicas, give each its
share of the number's throughput; a pause is also stored on the outbox row (its next attempt), so
every replica honours it for that message.
"""

from __future__ import annotations

import dataclasses
import random
import time
from typing import Callable, Dict

from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.settings import Settings

PAIR_INTERVAL_SECONDS = 6.0  # Meta: one message every 6 s to the same customer, on average
PAIR_BACKOFF_BASE = 4.0  # Meta on 131056: wait 4^n seconds, n = 0, 1, 2 ... until a send succeeds
PAIR_BACKOFF_CAP_SECONDS = 256.0  # 4^4: beyond it the customer is better served by the window's end
DEFAULT_NUMBER_BACKOFF = RetryPolicy()  # the Graph defaults: 1 s doubling up to 60 s, jittered
_FORGET_AFTER = 1024  # customers remembered before idle ones (full bucket, no pause) are forgotten
_EPSILON = 1e-9  # refills are float sums: a wait of exactly the computed length must be enough


@dataclasses.dataclass
class TokenBucket:
    """`rate` tokens a second, at most `capacity` kept; a message takes one."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, capacity: float, now: float) -> TokenBucket:
        """A bucket with every token available at `now`."""
        return cls(rate, capacity, capacity, now)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self, now: float) -> float:
        """Seconds from `now` until a token is there (0: one is there now)."""
        if now < self.updated:  # restarted in the future (after a pause)
            return self.updated - now + max(0.0, 1.0 - self.tokens) / self.rate
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 - _EPSILON else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Use one token (the caller checked `wait` first)."""
        self._refill(now)
        self.tokens -= 1.0

    def restart(self, at: float, tokens: float) -> None:
        """Empty the bucket until `at`, when `tokens` are there and refilling resumes."""
        self.tokens, self.updated = tokens, at

    def is_full(self, now: float) -> bool:
        """True when the bucket is as good as new (nothing to remember)."""
        if now < self.updated:
            return False
        self._refill(now)
        return self.tokens >= self.capacity - _EPSILON


@dataclasses.dataclass
class _Limit:
    """One bucket with Meta's pause on top of it, and how many rate-limit errors came in a row."""

    bucket: TokenBucket
    tokens_after_pause: float  # the number resumes at full pace; a customer at one message, then the interval
    paused_until: float = 0.0
    strikes: int = 0

    def wait(self, now: float) -> float:
        return max(self.paused_until - now, self.bucket.wait(now))

    def pause(self, now: float, seconds: Callable[[int], float]) -> float:
        """Pause for `seconds(strikes)` unless already paused (errors of sends already in flight); the wait left."""
        if now >= self.paused_until:
            self.strikes += 1
            self.paused_until = now + seconds(self.strikes)
            self.bucket.restart(self.paused_until, self.tokens_after_pause)
        return self.paused_until - now


class SendPacer:
    """Decides when a message to a customer may go; told about successes and Meta's rate-limit errors."""

    def __init__(
        self,
        messages_per_second: float = 80.0,
        pair_burst: int = 10,
        backoff: RetryPolicy = DEFAULT_NUMBER_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if messages_per_second <= 0 or pair_burst < 1:
            raise ValueError("SendPacer needs messages_per_second > 0 and pair_burst >= 1")
        self._clock = clock
        self._rng = rng
        self._backoff = backoff
        self._pair_burst = pair_burst
        # A second's worth of burst for the number: a batch of replies to many customers goes at once.
        number_burst = max(1.0, messages_per_second)
        self._number = _Limit(TokenBucket.full(messages_per_second, number_burst, clock()), number_burst)
        self._customers: Dict[str, _Limit] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, backoff: RetryPolicy, rng: Callable[[], float] = random.random
    ) -> SendPacer:
        """The pacer for `WHATSAPP_MESSAGES_PER_SECOND` and `WHATSAPP_PAIR_BURST`, pausing the number by `backoff`."""
        return cls(settings.whatsapp_messages_per_second, settings.whatsapp_pair_burst, backoff, rng=rng)

    def _customer(self, recipient: str, now: float) -> _Limit:
        limit = self._customers.get(recipient)
        if limit is None:
            if len(self._customers) >= _FORGET_AFTER:
                self._forget_idle(now)
            limit = _Limit(TokenBucket.full(1.0 / PAIR_INTERVAL_SECONDS, float(self._pair_burst), now), 1.0)
            self._customers[recipient] = limit
        return limit

    def _forget_idle(self, now: float) -> None:
        """Drop customers whose state is as good as new: a fresh bucket would decide the same."""
        idle = [key for key, limit in self._customers.items() if now >= limit.paused_until and limit.bucket.is_full(now)]
        for key in idle:
            del self._customers[key]

    def reserve(self, recipient: str) -> float:
        """0 and a message's place taken now, or the seconds to wait before asking again."""
        now = self._clock()
        customer = self._customer(recipient, now)
        wait = max(self._number.wait(now), customer.wait(now))
        if wait > 0:
            return wait
        self._number.bucket.take(now)
        customer.bucket.take(now)
        return 0.0

    def sent(self, recipient: str) -> None:
        """A send succeeded: Meta's backoff starts over, for the number and for this customer."""
        self._number.strikes = 0
        if recipient in self._customers:
            self._customers[recipient].strikes = 0

    def number_throttled(self) -> float:
        """130429: pause the whole number (longer while it repeats); the seconds to wait."""
        return self._number.pause(self._clock(), lambda strikes: self._backoff.delay(strikes, self._rng))

    def customer_throttled(self, recipient: str) -> float:
        """131056: pause this customer 4^n seconds (at least the pair interval); the seconds to wait."""
        now = self._clock()
        return self._customer(recipient, now).pause(now, _pair_backoff)


def _pair_backoff(strikes: int) -> float:
    """Meta's 4^n seconds for the n-th 131056 in a row (n from 0), never below the pair interval."""
    return max(PAIR_INTERVAL_SECONDS, min(PAIR_BACKOFF_CAP_SECONDS, PAIR_BACKOFF_BASE ** (strikes - 1)))
