"""Fan-out of pushes: every device told, each push recorded, dead tokens forgotten, no full number shown."""

from supportdesk.attendant.alerts import device_tokens, handoff_push, notify, register_device
from supportdesk.messaging.conversations import Conversation
from supportdesk.attendant.push import PushResult
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
