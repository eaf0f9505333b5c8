"""The pacer on a clock the test moves: bursts, the pair interval, the number's throughput, Meta's backoffs."""

from pathlib import Path

import pytest

from supportdesk.messaging.send_pacing import PAIR_INTERVAL_SECONDS, SendPacer, TokenBucket
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.settings import SettingsError, load_settings

CUSTOMER = "16315551181"
OTHER = "16315550000"
BACKOFF = RetryPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=60.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pacer(clock: FakeClock, messages_per_second: float = 80.0, pair_burst: int = 3) -> SendPacer:
    return SendPacer(messages_per_second, pair_burst, BACKOFF, clock=clock, rng=lambda: 1.0)


def test_a_customer_gets_a_burst_then_one_message_every_six_seconds(clock):
    pacing = pacer(clock, pair_burst=3)
    assert [pacing.reserve(CUSTOMER) for _ in range(4)] == [0.0, 0.0, 0.0, PAIR_INTERVAL_SECONDS]
    clock.now += 3.0
    assert pacing.reserve(CUSTOMER) == pytest.approx(3.0)
    clock.now += 3.0
    assert [pacing.reserve(CUSTOMER), pacing.reserve(CUSTOMER)] == [0.0, pytest.approx(6.0)]
    assert pacing.reserve(OTHER) == 0.0  # another customer has a burst of their own


def test_the_number_allows_its_throughput_a_second(clock):
    pacing = pacer(clock, messages_per_second=4.0)
    assert [pacing.reserve(f"1631555{n:04d}") for n in range(5)] == [0.0, 0.0, 0.0, 0.0, 0.25]
    clock.now += 0.25
    assert pacing.reserve("16315559999") == 0.0


def test_a_pause_never_takes_a_place_it_did_not_give(clock):
    pacing = pacer(clock, messages_per_second=1.0, pair_burst=1)
    assert (pacing.reserve(CUSTOMER), pacing.reserve(OTHER)) == (0.0, 1.0)
    clock.now += 1.0
    assert pacing.reserve(OTHER) == 0.0  # the refused ask above took nothing


def test_pair_rate_limits_pause_the_customer_four_to_the_n_seconds_at_least_the_interval(clock):
    pacing = pacer(clock)
    pauses = []
    for _ in range(6):
        pauses.append(pacing.customer_throttled(CUSTOMER))
        clock.now += pauses[-1]
    assert pauses == [6.0, 6.0, 16.0, 64.0, 256.0, 256.0]  # 4^0, 4^1 under the interval; capped at 4^4
    assert [pacing.reserve(CUSTOMER), pacing.reserve(CUSTOMER)] == [0.0, 6.0]  # then one every 6 s
    assert pacing.reserve(OTHER) == 0.0
    pacing.sent(CUSTOMER)
    clock.now += 6.0
    assert pacing.customer_throttled(CUSTOMER) == 6.0  # a success starts Meta's sequence over


def test_errors_of_sends_already_in_flight_do_not_lengthen_a_pause(clock):
    pacing = pacer(clock)
    assert pacing.number_throttled() == 1.0
    clock.now += 0.4
    assert pacing.number_throttled() == pytest.approx(0.6)
    assert pacing.customer_throttled(CUSTOMER) == 6.0
    assert pacing.customer_throttled(CUSTOMER) == 6.0


def test_a_throughput_limit_pauses_every_customer_longer_while_it_repeats(clock):
    pacing = pacer(clock)
    assert pacing.number_throttled() == 1.0
    assert (pacing.reserve(CUSTOMER), pacing.reserve(OTHER)) == (1.0, 1.0)
    clock.now += 1.0
    assert pacing.number_throttled() == 2.0
    clock.now += 2.0
    assert pacing.number_throttled() == 4.0
    clock.now += 4.0
    assert [pacing.reserve(f"1631555{n:04d}") for n in range(80)] == [0.0] * 80  # back at full pace
    pacing.sent(CUSTOMER)
    assert pacing.number_throttled() == 1.0


def test_customers_with_nothing_to_remember_are_forgotten(clock):
    pacing = pacer(clock, messages_per_second=10_000.0)
    customers = [f"55{n:010d}" for n in range(1024)]
    for customer in customers:
        pacing.reserve(customer)
    clock.now += 60.0  # every bucket is full again
    pacing.customer_throttled(customers[7])
    pacing.reserve(CUSTOMER)
    assert sorted(pacing._customers) == [CUSTOMER, customers[7]]  # the paused one is remembered


def test_a_bucket_restarted_in_the_future_waits_until_then():
    bucket = TokenBucket.full(rate=0.5, capacity=2, now=0.0)
    bucket.restart(at=10.0, tokens=0.0)
    assert (bucket.wait(4.0), bucket.wait(10.0), bucket.wait(12.0)) == (8.0, 2.0, 0.0)


def test_settings_give_the_pace_and_refuse_none(tmp_path: Path):
    defaults = load_settings(environ={}, dotenv=tmp_path / "none.env")
    assert (defaults.whatsapp_messages_per_second, defaults.whatsapp_pair_burst) == (80.0, 10)
    chosen = load_settings(
        environ={"WHATSAPP_MESSAGES_PER_SECOND": "20", "WHATSAPP_PAIR_BURST": "4"}, dotenv=tmp_path / "none.env"
    )
    assert (chosen.whatsapp_messages_per_second, chosen.whatsapp_pair_burst) == (20.0, 4)
    for name in ("WHATSAPP_MESSAGES_PER_SECOND", "WHATSAPP_PAIR_BURST"):
        with pytest.raises(SettingsError, match=f"{name} must be above 0"):
            load_settings(environ={name: "0"}, dotenv=tmp_path / "none.env")
