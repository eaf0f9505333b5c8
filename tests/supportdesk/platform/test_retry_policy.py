"""The one backoff: capped exponential, full jitter, a server's Retry-After honoured up to the cap."""

import random

import pytest

from supportdesk.platform.retry_policy import RetryPolicy

POLICY = RetryPolicy(max_attempts=4, base_seconds=1.0, cap_seconds=5.0)


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


@pytest.mark.parametrize(
    "attempt, draw, retry_after, delay",
    [
        (1, 0.5, 0.0, 0.5),  # no Retry-After: the jittered backoff
        (1, 0.5, 3.0, 3.0),  # a longer Retry-After wins
        (3, 1.0, 2.0, 4.0),  # a shorter one does not shorten the backoff
        (1, 0.0, 120.0, 5.0),  # never above the cap
    ],
)
def test_retry_after_is_a_floor_under_the_cap(attempt, draw, retry_after, delay):
    assert POLICY.delay(attempt, rng=lambda: draw, retry_after=retry_after) == delay


def test_attempts_are_bounded():
    assert [POLICY.may_retry(attempts) for attempts in (1, 3, 4, 5)] == [True, True, False, False]
