"""Backoff bounds and the retry helper."""

import pytest

from supportdesk.graph_errors import RequestError, ServerError
from supportdesk.retry_policy import RetryPolicy, call_with_retries

POLICY = RetryPolicy(max_attempts=4, base_seconds=1.0, cap_seconds=5.0)


@pytest.mark.parametrize("attempt, ceiling", [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)])
def test_ceiling_doubles_up_to_the_cap(attempt, ceiling):
    assert POLICY.ceiling(attempt) == ceiling
    assert POLICY.delay(attempt, rng=lambda: 1.0) == ceiling
    assert POLICY.delay(attempt, rng=lambda: 0.0) == pytest.approx(ceiling * 0.1)
    assert ceiling * 0.1 <= POLICY.delay(attempt, rng=lambda: 0.5) <= ceiling


async def test_transient_errors_are_retried_until_the_attempts_run_out():
    calls, sleeps = [], []

    async def failing():
        calls.append(1)
        raise ServerError("boom", code=131000)

    async def sleep(seconds):
        sleeps.append(seconds)

    with pytest.raises(ServerError):
        await call_with_retries(failing, POLICY, sleep=sleep, rng=lambda: 1.0)
    assert len(calls) == 4 and sleeps == [1.0, 2.0, 4.0]


async def test_permanent_errors_are_not_retried_and_success_returns():
    calls = []

    async def bad_request():
        calls.append(1)
        raise RequestError("bad", code=100)

    with pytest.raises(RequestError):
        await call_with_retries(bad_request, POLICY, sleep=lambda s: None)
    assert len(calls) == 1
    outcomes = iter([ServerError("x", code=131016), "wamid.OK"])

    async def flaky():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def no_sleep(_):
        return None

    assert await call_with_retries(flaky, POLICY, sleep=no_sleep) == "wamid.OK"
