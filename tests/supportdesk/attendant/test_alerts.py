"""Fan-out of pushes: every device told, each push recorded, dead tokens forgotten, no full number shown."""

import logging

from supportdesk.attendant.alerts import (
    courtesy_push,
    device_tokens,
    handoff_push,
    idle_push,
    message_push,
    notify,
    register_device,
    scheduling_push,
)
from supportdesk.attendant.push import PushResult
from supportdesk.messaging.conversations import Conversation
from supportdesk.platform.responses import ResponseRenderer
from supportdesk.runtime import get_runtime

CUSTOMER = "447700900123"


def conversation(name=None) -> Conversation:
    return Conversation(CUSTOMER, "waiting", name, None, "asked for a person", 1, None, None, None, False)


class ScriptedSender:
    def __init__(self, outcomes):
        self.outcomes = outcomes
        self.sent = []

    async def send(self, token, message):
        self.sent.append(token)
        return PushResult(token=token, outcome=self.outcomes.get(token, "sent"), error=None)


async def test_every_device_is_told_and_dead_tokens_are_removed():
    database = get_runtime().database
    register_device(database, "token-alive-000001", "android", "ana")
    register_device(database, "token-dead-0000002", "ios", "bruno")
    sender = ScriptedSender({"token-dead-0000002": "unregistered"})
    results = await notify(database, sender, handoff_push(conversation()))
    assert sorted(result.outcome for result in results) == ["sent", "unregistered"]
    assert device_tokens(database) == ["token-alive-000001"]
    log = database.execute("SELECT state, token_suffix FROM push_log ORDER BY id")
    assert sorted((row["state"], row["token_suffix"]) for row in log) == [("sent", "000001"), ("unregistered", "000002")]


async def test_only_the_holders_devices_for_their_customer():
    database = get_runtime().database
    register_device(database, "token-ana-0000001", "android", "ana")
    register_device(database, "token-bruno-00002", "ios", "bruno")
    sender = ScriptedSender({})
    await notify(database, sender, handoff_push(conversation()), attendant_id="ana")
    assert sender.sent == ["token-ana-0000001"]


class CrashingSender:
    """A sender with a bug for some devices (pyfcm's first-token race raised a TypeError)."""

    def __init__(self, crashing_tokens):
        self.crashing_tokens = crashing_tokens

    async def send(self, token, message):
        if token in self.crashing_tokens:
            raise TypeError(f"can only concatenate str (not 'NoneType') to str {token} {CUSTOMER}")
        return PushResult(token=token, outcome="sent")


def push_log(database):
    rows = database.execute("SELECT kind, state, token_suffix, error FROM push_log ORDER BY token_suffix")
    return [(row["kind"], row["state"], row["token_suffix"], row["error"]) for row in rows]


async def test_a_sender_that_raises_is_a_logged_and_recorded_failure(caplog):
    database = get_runtime().database
    register_device(database, "token-crash-000001", "android", "ana")
    register_device(database, "token-alive-000002", "ios", "bruno")
    caplog.set_level(logging.INFO, logger="supportdesk.attendant.alerts")
    results = await notify(database, CrashingSender({"token-crash-000001"}), handoff_push(conversation()))
    assert [(result.token, result.outcome) for result in results] == [
        ("token-alive-000002", "sent"),
        ("token-crash-000001", "failed"),
    ]
    assert push_log(database) == [
        ("handoff", "failed", "000001", "crash: TypeError"),
        ("handoff", "sent", "000002", None),
    ]
    [crash] = [record for record in caplog.records if record.getMessage() == "push.crashed"]
    assert (crash.levelname, crash.conversation, crash.device, crash.error) == (
        "ERROR", "••••••••0123", "000001", "TypeError"
    )
    assert crash.where.startswith("test_alerts.py:")
    assert not any(CUSTOMER in str(vars(record)) or "token-crash" in str(vars(record)) for record in caplog.records)


async def test_a_courtesy_push_never_raises_even_without_a_sender(caplog):
    database = get_runtime().database

    def no_sender():
        raise ValueError(f"FCM_SERVICE_ACCOUNT_FILE cannot be read for {CUSTOMER}")

    results = await courtesy_push(database, no_sender, lambda: handoff_push(conversation()))
    assert results == []
    assert push_log(database) == [("handoff", "failed", None, "not_sent: ValueError")]
    [record] = [record for record in caplog.records if record.getMessage() == "push.not_sent"]
    assert (record.levelname, record.conversation, record.error) == ("ERROR", "••••••••0123", "ValueError")
    assert CUSTOMER not in str(vars(record))


async def test_a_courtesy_push_whose_text_cannot_be_built_is_logged(caplog):
    def unworded():
        raise KeyError("utter_push_handoff_title")

    assert await courtesy_push(get_runtime().database, lambda: CrashingSender(set()), unworded) == []
    assert push_log(get_runtime().database) == []
    assert [r.error for r in caplog.records if r.getMessage() == "push.not_sent"] == ["KeyError"]


def test_push_text_shows_a_name_or_a_masked_number_never_the_full_number():
    anonymous = handoff_push(conversation())
    named = handoff_push(conversation("Kerry Fisher"))
    assert CUSTOMER not in anonymous.title + anonymous.body and "0123" in anonymous.body
    assert named.body.startswith("Kerry Fisher")
    assert anonymous.data == {"type": "handoff", "conversation_id": CUSTOMER}


def test_every_push_is_worded_by_the_domain():
    waiting = conversation("Kerry Fisher")
    pushes = [
        handoff_push(waiting),
        handoff_push(Conversation(CUSTOMER, "waiting", None, None, None, 1, None, None, None, False), reminder=True),
        message_push(waiting, "is the shop open on sunday?"),
        idle_push(waiting),
        scheduling_push(CUSTOMER, "Kerry Fisher", "Tuesday 14 May at 15:00", "haircut"),
        scheduling_push(CUSTOMER, "Kerry Fisher", "Tuesday 14 May at 15:00", None),
    ]
    assert [(push.type, push.title, push.body) for push in pushes] == [
        ("handoff", "Customer waiting for a person", "Kerry Fisher: asked for a person"),
        ("handoff", "Customer still waiting", "••••••••0123: asked for a person"),
        ("message", "New message from Kerry Fisher", "is the shop open on sunday?"),
        ("reminder", "Your customer is waiting", "Kerry Fisher has no answer yet"),
        ("scheduling", "New appointment request", "Kerry Fisher: Tuesday 14 May at 15:00 (haircut)"),
        ("scheduling", "New appointment request", "Kerry Fisher: Tuesday 14 May at 15:00"),
    ]


def test_push_texts_are_the_teams_wording_not_the_customers_language(monkeypatch):
    renderer = ResponseRenderer({
        "utter_push_idle_title": [
            {"text": "Your customer is waiting"},
            {"condition": [{"type": "slot", "name": "language", "value": "pt-BR"}], "text": "Seu cliente está esperando"},
        ],
        "utter_push_idle_body": [{"text": "{customer} has no answer yet"}],
    })
    monkeypatch.setattr("supportdesk.attendant.alerts.get_responses", lambda: renderer)
    assert idle_push(conversation("Kerry Fisher")).title == "Your customer is waiting"
    monkeypatch.setattr("supportdesk.attendant.alerts.TEAM_SLOTS", {"language": "pt-BR"})
    assert idle_push(conversation("Kerry Fisher")).title == "Seu cliente está esperando"
