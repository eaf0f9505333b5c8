"""Backoff bounds and the retry helper."""

import random

import pytest

from supportdesk.whatsapp.graph_errors import RequestError, ServerError, ThrottlingError
from supportdesk.platform.retry_policy import RetryPolicy, call_with_retries

POLICY = RetryPolicy(max_attempts=4, base_seconds=1.0, cap_seconds=5.0)


class Sleeps(list):
    """An injected `sleep` that records what it was asked to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.mark.parametrize("attempt, ceiling", [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0), (5000, 5.0)])
def test_ceiling_doubles_up_to_the_cap(attempt, ceiling):
    assert POLICY.ceiling(attempt) == ceiling
    assert POLICY.delay(attempt, rng=lambda: 1.0) == ceiling
    assert POLICY.delay(attempt, rng=lambda: 0.0) == pytest.approx(ceiling * 0.1)
    assert POLICY.delay(attempt, rng=lambda: 0.5) == pytest.approx(ceiling * 0.5)


def test_delays_stay_between_ten_percent_and_the_ceiling():
    rng = random.Random(7).random
    policy = RetryPolicy(max_attempts=10, base_seconds=0.5, cap_seconds=60.0)
    for attempt in range(1, 30):
        ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
        for _ in range(50):
            assert ceiling * 0.1 <= policy.delay(attempt, rng) <= ceiling <= 60.0


def test_the_ceiling_never_decreases():
    ceilings = [POLICY.ceiling(attempt) for attempt in range(1, 40)]
    assert ceilings == sorted(ceilings) and max(ceilings) == POLICY.cap_seconds


def test_a_policy_needs_at_least_one_attempt():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0, base_seconds=1.0, cap_seconds=5.0)


async def test_transient_errors_are_retried_until_the_attempts_run_out():
    calls, sleeps = [], Sleeps()

    async def failing():
        calls.append(1)
        raise ServerError("boom", code=131000)

    with pytest.raises(ServerError):
        await call_with_retries(failing, POLICY, sleep=sleeps, rng=lambda: 1.0)
    assert len(calls) == 4 and sleeps == [1.0, 2.0, 4.0]


async def test_permanent_errors_are_not_retried():
    calls, sleeps = [], Sleeps()

    async def bad_request():
        calls.append(1)
        raise RequestError("bad", code=100)

    with pytest.raises(RequestError):
        await call_with_retries(bad_request, POLICY, sleep=sleeps)
    assert len(calls) == 1 and sleeps == []


async def test_plain_exceptions_are_not_retried_by_default():
    sleeps = Sleeps()

    async def broken():
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await call_with_retries(broken, POLICY, sleep=sleeps)
    assert sleeps == []


async def test_success_after_transient_failures_returns_the_value():
    outcomes = iter([ThrottlingError("slow down", code=130429), ServerError("x", code=131016), "wamid.OK"])
    sleeps = Sleeps()

    async def flaky():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await call_with_retries(flaky, POLICY, sleep=sleeps, rng=lambda: 0.0) == "wamid.OK"
    assert sleeps == pytest.approx([0.1, 0.2])


async def test_a_custom_classifier_decides_what_is_retried():
    attempts, sleeps = [], Sleeps()

    async def timing_out():
        attempts.append(1)
        raise TimeoutError()

    with pytest.raises(TimeoutError):
        await call_with_retries(
            timing_out, RetryPolicy(2, 1.0, 1.0), is_transient=lambda e: isinstance(e, TimeoutError), sleep=sleeps
        )
    assert len(attempts) == 2 and len(sleeps) == 1
