"""Pushes to attendants: the real pyfcm and google-auth talk to a fake FCM over loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Iterator, List
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from supportdesk.attendant.push import (
    FcmPushSender,
    LoggingPushSender,
    PushMessage,
    PushResult,
    build_push_sender,
)
from supportdesk.platform.retry_policy import RetryPolicy
from supportdesk.platform.settings import Settings, SettingsError
from tests.fakes.fake_fcm import (
    JWT_BEARER_GRANT,
    FakeFcm,
    access_token_expired,
    internal,
    invalid_argument,
    invalid_registration_token,
    quota_exceeded,
    unavailable,
    unregistered,
)
from tests.fakes.server import ScriptedAnswer

PROJECT = "supportdesk-test"
DEVICE_TOKEN = "fcm-device-token-0123456789-abcdefghij-klmnop"
CUSTOMER = "5511987654321"
MASKED_CUSTOMER = "•••••••••4321"


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers the delays, returns at once."""

    def __init__(self) -> None:
        self.delays: List[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class RecordsHandler(logging.Handler):
    """Keeps the records of one logger (independent of propagation settings)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def fake_fcm() -> Iterator[FakeFcm]:
    with FakeFcm(project_id=PROJECT) as fake:
        yield fake


@pytest.fixture
def service_account(fake_fcm: FakeFcm, tmp_path: Path) -> Path:
    return fake_fcm.write_service_account(tmp_path)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def push_records() -> Iterator[List[logging.LogRecord]]:
    logger = logging.getLogger("supportdesk.attendant.push")
    handler, level = RecordsHandler(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(level)


def fcm_sender(
    fake: FakeFcm, service_account: Path, sleep: RecordedSleep, max_attempts: int = 3, cap_seconds: float = 30.0,
    **overrides: object,
) -> FcmPushSender:
    policy = RetryPolicy(max_attempts=max_attempts, base_seconds=1.0, cap_seconds=cap_seconds)
    arguments = dict(timeout_seconds=5.0, retry_policy=policy, sleep=sleep, rng=lambda: 0.5)
    arguments.update(overrides)
    return FcmPushSender(str(service_account), PROJECT, fake.url, **arguments)


def handoff_message(title: str = "Customer waiting", body: str = "Maria asked for a person") -> PushMessage:
    return PushMessage("handoff", CUSTOMER, title, body, {"reason": "asked_for_human"})


def sent_result(number: int) -> PushResult:
    return PushResult(DEVICE_TOKEN, "sent", message_id=f"projects/{PROJECT}/messages/0:{number}%fakefcm")


async def test_push_arrives_at_fcm_as_one_v1_message(fake_fcm, service_account, sleep):
    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == sent_result(1)
    [send] = fake_fcm.send_requests()
    assert send.path == f"/v1/projects/{PROJECT}/messages:send"
    assert send.json() == {
        "message": {
            "token": DEVICE_TOKEN,
            "notification": {"title": "Customer waiting", "body": "Maria asked for a person"},
            "data": {"type": "handoff", "conversation_id": CUSTOMER, "reason": "asked_for_human"},
        },
        "validate_only": False,
    }
    [token_request] = fake_fcm.token_requests()
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == [JWT_BEARER_GRANT]
    assert send.headers["Authorization"].startswith("Bearer ya29.fake-")
    assert sleep.delays == []


async def test_phone_numbers_never_reach_the_notification_text(fake_fcm, service_account, sleep):
    message = handoff_message(title="+55 11 98765-4321 wants a person", body=f"Call back {CUSTOMER} today")

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, message)

    assert result.outcome == "sent"
    assert fake_fcm.messages[0]["notification"] == {
        "title": f"{MASKED_CUSTOMER} wants a person",
        "body": f"Call back {MASKED_CUSTOMER} today",
    }


async def test_unregistered_token_is_reported_for_deletion(fake_fcm, service_account, sleep):
    fake_fcm.script("send", unregistered())

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == PushResult(DEVICE_TOKEN, "unregistered", error="HTTP 404 UNREGISTERED")
    assert len(fake_fcm.send_requests()) == 1
    assert sleep.delays == []


async def test_invalid_registration_token_is_reported_for_deletion(fake_fcm, service_account, sleep):
    fake_fcm.script("send", invalid_registration_token())

    result = await fcm_sender(fake_fcm, service_account, sleep).send("not-a-token", handoff_message())

    assert result == PushResult("not-a-token", "unregistered", error="HTTP 400 INVALID_ARGUMENT")
    assert len(fake_fcm.send_requests()) == 1


async def test_invalid_message_fails_without_retry(fake_fcm, service_account, sleep):
    fake_fcm.script("send", invalid_argument("Invalid value at 'message.android.ttl'"))

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == PushResult(DEVICE_TOKEN, "failed", error="HTTP 400 INVALID_ARGUMENT")
    assert len(fake_fcm.send_requests()) == 1
    assert sleep.delays == []


async def test_quota_exceeded_is_retried_once_then_sent(fake_fcm, service_account, sleep):
    fake_fcm.script("send", quota_exceeded())

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == sent_result(1)
    assert len(fake_fcm.send_requests()) == 2
    assert sleep.delays == [0.5]  # full jitter: rng 0.5 × the first ceiling of 1 s


async def test_retry_after_from_fcm_sets_the_delay(fake_fcm, service_account, sleep):
    fake_fcm.script("send", quota_exceeded(retry_after=7))

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == sent_result(1)
    assert len(fake_fcm.send_requests()) == 2
    assert sleep.delays == [7.0]


async def test_server_errors_fail_after_max_attempts_without_hidden_retries(fake_fcm, service_account, sleep):
    fake_fcm.script("send", internal(), unavailable(), internal(), unavailable())

    result = await fcm_sender(fake_fcm, service_account, sleep, max_attempts=3).send(DEVICE_TOKEN, handoff_message())

    assert result == PushResult(DEVICE_TOKEN, "failed", error="HTTP 500 INTERNAL")
    assert len(fake_fcm.send_requests()) == 3
    assert sleep.delays == [0.5, 1.0]


async def test_backoff_never_exceeds_its_cap(fake_fcm, service_account, sleep):
    fake_fcm.script("send", quota_exceeded(retry_after=120), internal(), internal(), internal())
    sender = fcm_sender(fake_fcm, service_account, sleep, max_attempts=5, cap_seconds=3.0, rng=lambda: 1.0)

    result = await sender.send(DEVICE_TOKEN, handoff_message())

    assert result == sent_result(1)
    assert sleep.delays == [3.0, 2.0, 3.0, 3.0]  # Retry-After 120 cut to the cap; then 2, 4 → 3, 8 → 3
    assert len(fake_fcm.send_requests()) == 5


async def test_expired_access_token_is_refreshed_once(fake_fcm, service_account, sleep):
    fake_fcm.script("send", access_token_expired())

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == sent_result(1)
    assert len(fake_fcm.send_requests()) == 2
    assert len(fake_fcm.token_requests()) == 2
    assert sleep.delays == []


async def test_first_pushes_to_several_devices_at_once_share_one_token(fake_fcm, service_account, sleep):
    # Issue 12 item 1: every worker thread fetched pyfcm's OAuth token itself; one replaced the shared
    # credentials while another was still refreshing them and sent "Bearer " + None (a TypeError).
    fake_fcm.token_delay = 0.3  # all sends start before the first token exists
    devices = [f"{DEVICE_TOKEN}-{number}" for number in range(4)]
    sender = fcm_sender(fake_fcm, service_account, sleep)

    results = await asyncio.gather(*(sender.send(device, handoff_message()) for device in devices))

    assert [result.outcome for result in results] == ["sent"] * 4
    assert sorted(message["token"] for message in fake_fcm.messages) == devices
    assert len(fake_fcm.token_requests()) == 1
    assert len({send.headers["Authorization"] for send in fake_fcm.send_requests()}) == 1


async def test_an_expired_token_is_fetched_again_once_for_every_device(fake_fcm, service_account, sleep):
    sender = fcm_sender(fake_fcm, service_account, sleep)
    await sender.send(DEVICE_TOKEN, handoff_message())
    fake_fcm.expire_access_tokens()

    results = await asyncio.gather(*(sender.send(f"{DEVICE_TOKEN}-{n}", handoff_message()) for n in range(2)))

    assert [result.outcome for result in results] == ["sent", "sent"]
    assert len(fake_fcm.token_requests()) == 2


async def test_unanswered_request_times_out_and_fails(fake_fcm, service_account, sleep):
    slow = ScriptedAnswer(status=200, body={"name": "too late"}, delay=0.6)
    fake_fcm.script("send", slow, slow)
    sender = fcm_sender(fake_fcm, service_account, sleep, timeout_seconds=0.2, max_attempts=2)

    result = await sender.send(DEVICE_TOKEN, handoff_message())

    assert result == PushResult(DEVICE_TOKEN, "failed", error="network: ReadTimeout")
    assert len(fake_fcm.send_requests()) == 2
    assert len(sleep.delays) == 1


async def test_assertion_signed_by_an_unknown_key_is_refused(fake_fcm, service_account, sleep):
    info = json.loads(service_account.read_text())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    service_account.write_text(json.dumps(info))

    result = await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    assert result == PushResult(DEVICE_TOKEN, "failed", error="auth: RefreshError")
    assert len(fake_fcm.token_requests()) == 1
    assert fake_fcm.send_requests() == []


async def test_missing_service_account_file_fails_at_send_not_at_construction(fake_fcm, tmp_path, sleep):
    sender = fcm_sender(fake_fcm, tmp_path / "absent.json", sleep)
    assert fake_fcm.requests == []

    result = await sender.send(DEVICE_TOKEN, handoff_message())

    assert result == PushResult(DEVICE_TOKEN, "failed", error="credentials: InvalidDataError")
    assert fake_fcm.requests == []


async def test_logging_sender_logs_without_token_or_phone(push_records):
    message = handoff_message(title=f"{CUSTOMER} is waiting")

    result = await LoggingPushSender().send(DEVICE_TOKEN, message)

    assert result == PushResult(DEVICE_TOKEN, "logged")
    [record] = push_records
    assert record.getMessage() == "push.logged"
    assert (record.push_type, record.conversation, record.device) == ("handoff", MASKED_CUSTOMER, "klmnop")
    assert record.push_title == f"{MASKED_CUSTOMER} is waiting"
    logged = json.dumps({key: str(value) for key, value in vars(record).items()})
    assert DEVICE_TOKEN not in logged and "98765" not in logged


async def test_fcm_sender_logs_without_token_or_phone(fake_fcm, service_account, sleep, push_records):
    await fcm_sender(fake_fcm, service_account, sleep).send(DEVICE_TOKEN, handoff_message())

    [record] = push_records
    assert (record.getMessage(), record.conversation, record.device) == ("push.sent", MASKED_CUSTOMER, "klmnop")
    logged = json.dumps({key: str(value) for key, value in vars(record).items()})
    assert DEVICE_TOKEN not in logged and "98765" not in logged


def test_build_push_sender_without_service_account_logs():
    assert isinstance(build_push_sender(Settings()), LoggingPushSender)


async def test_build_push_sender_reads_project_id_from_the_file(fake_fcm, service_account):
    sender = build_push_sender(Settings(fcm_service_account_file=str(service_account), fcm_api_url=fake_fcm.url))

    assert isinstance(sender, FcmPushSender)
    assert await sender.send(DEVICE_TOKEN, handoff_message()) == sent_result(1)
    assert fake_fcm.send_requests()[0].path == f"/v1/projects/{PROJECT}/messages:send"


async def test_build_push_sender_takes_fcm_project_id_when_the_file_names_none(fake_fcm, tmp_path):
    service_account = fake_fcm.write_service_account(tmp_path, include_project_id=False)
    settings = Settings(fcm_service_account_file=str(service_account), fcm_project_id=PROJECT, fcm_api_url=fake_fcm.url)

    sender = build_push_sender(settings)

    assert await sender.send(DEVICE_TOKEN, handoff_message()) == sent_result(1)


def test_build_push_sender_refuses_a_file_naming_no_project(fake_fcm, tmp_path):
    service_account = fake_fcm.write_service_account(tmp_path, include_project_id=False)

    with pytest.raises(SettingsError, match="FCM_PROJECT_ID"):
        build_push_sender(Settings(fcm_service_account_file=str(service_account)))


def test_push_data_is_strings_with_type_and_conversation_id():
    message = PushMessage("scheduling", CUSTOMER, "New request", "Haircut, Friday 10:00", {"appointment_id": "42"})

    assert message.data == {"appointment_id": "42", "type": "scheduling", "conversation_id": CUSTOMER}


@pytest.mark.parametrize(
    "arguments, error",
    [
        (("escalation", CUSTOMER, "t", "b", {}), ValueError),
        (("handoff", CUSTOMER, "t", "b", {"appointment_id": 42}), TypeError),
        (("handoff", CUSTOMER, "t", "b", {"type": "message"}), ValueError),
        (("handoff", CUSTOMER, "t", "b", {"google.c.a.e": "1"}), ValueError),
    ],
)
def test_push_message_refuses_what_fcm_would_reject(arguments, error):
    with pytest.raises(error):
        PushMessage(*arguments)
