"""Fan-out of pushes: every device told, each push recorded, dead tokens forgotten, no full number shown."""

from supportdesk.attendant.alerts import (
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
