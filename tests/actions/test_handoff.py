"""`action_request_handoff`: queues once, pushes to every device, one holding message, never pauses."""

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffReminder, ActionRequestHandoff
from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.push import PushResult
from supportdesk.handoff.holding import holding_response, outside_hours_response
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.responses import get_responses
from supportdesk.platform.settings import Settings, reset_settings_cache
from supportdesk.runtime import get_runtime, reset_runtime
from supportdesk.scheduling.business_hours import parse_business_hours
from tests.actions.said import said

CUSTOMER = "447700900123"
MONDAY_10_UTC = dt.datetime(2024, 5, 13, 10, 0, tzinfo=dt.timezone.utc).timestamp()
SUNDAY_10_UTC = dt.datetime(2024, 5, 12, 10, 0, tzinfo=dt.timezone.utc).timestamp()
OFFLINE = (
    "Our team is closed now 🌙 They're back {}; leave your details here and they'll see them first. "
    "Meanwhile I can answer questions or book an appointment."
)
PT_OFFLINE_MONDAY = (
    "Nossa equipe está fora do horário 🌙 Ela volta segunda-feira às 09:00; deixe seus dados aqui que ela vê "
    "primeiro. Enquanto isso, posso tirar dúvidas ou marcar um horário."
)
HOLDING_SOON = (
    "Got it 👍 I've asked a person from our team to join this chat. Expected wait: a few minutes. "
    "You can keep writing here, they'll see the whole conversation."
)


class RecordingPushSender:
    def __init__(self) -> None:
        self.sent = []

    async def send(self, token, message):
        self.sent.append((token, message))
        return PushResult(token=token, outcome="sent", message_id="projects/x/messages/1")


class CrashingPushSender:
    """A push sender with a bug: pyfcm's first-token race raised a TypeError from every thread."""

    async def send(self, token, message):
        raise TypeError('can only concatenate str (not "NoneType") to str')


def push_log():
    rows = get_runtime().database.execute("SELECT kind, state, error FROM push_log ORDER BY id")
    return [(row["kind"], row["state"], row["error"]) for row in rows]


def tracker(intent: str = "request_human", reason: str = None) -> Tracker:
    return Tracker(
        CUSTOMER,
        {"handoff_reason": reason},
        {"intent": {"name": intent, "confidence": 0.99}, "text": "can i talk to a person"},
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def run(now: float, pushes: RecordingPushSender, **kwargs):
    settings = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00")
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHandoff(settings, pushes, clock=lambda: now).run(dispatcher, tracker(**kwargs), {})
    return dispatcher, events


async def test_queues_pushes_every_device_and_says_the_holding_message():
    database = get_runtime().database
    register_device(database, "token-ana-phone-000001", "android", "ana")
    register_device(database, "token-bruno-phone-000002", "ios", "bruno")
    pushes = RecordingPushSender()
    dispatcher, events = await run(MONDAY_10_UTC, pushes)
    assert load_conversation(database, CUSTOMER).status == "waiting"
    assert sorted(token for token, _ in pushes.sent) == ["token-ana-phone-000001", "token-bruno-phone-000002"]
    message = pushes.sent[0][1]
    assert message.data == {"type": "handoff", "conversation_id": CUSTOMER}
    assert (message.title, message.body) == ("Customer waiting for a person", "••••••••0123: asked for a person")
    assert said(dispatcher) == [("utter_handoff_queued_soon", HOLDING_SOON)]
    assert events == [SlotSet("handoff_reason", None), SlotSet("handoff_waiting", True)]  # no pause
    logged = database.execute("SELECT kind, state FROM push_log ORDER BY id")
    assert [(row["kind"], row["state"]) for row in logged] == [("handoff", "sent"), ("handoff", "sent")]


async def test_asking_again_while_waiting_reminds_the_customer_and_pushes_nothing_more():
    pushes = RecordingPushSender()
    await run(MONDAY_10_UTC, pushes)
    dispatcher, events = await run(MONDAY_10_UTC + 60, pushes)
    assert said(dispatcher) == [(
        "utter_handoff_still_queued",
        "You're in the queue 🙏 A person from our team will take over this chat soon. "
        "Meanwhile I can still answer questions or book an appointment here.",
    )]
    assert events == [SlotSet("handoff_reason", None), SlotSet("handoff_waiting", True)]
    database = get_runtime().database
    assert [row["state"] for row in database.execute("SELECT state FROM push_log")] == ["no_devices"]


async def test_asking_again_out_of_hours_says_when_the_team_is_back_never_finding_someone():
    await run(MONDAY_10_UTC, RecordingPushSender())
    dispatcher, _ = await run(SUNDAY_10_UTC + 7 * 86400, RecordingPushSender())  # still waiting the next Sunday
    assert said(dispatcher) == [("utter_handoff_outside_hours_tomorrow", OFFLINE.format("tomorrow at 09:00"))]


async def test_outside_business_hours_says_when_the_team_is_back():
    dispatcher, _ = await run(SUNDAY_10_UTC, RecordingPushSender())
    assert said(dispatcher) == [("utter_handoff_outside_hours_tomorrow", OFFLINE.format("tomorrow at 09:00"))]


async def test_a_request_out_of_hours_starts_its_claim_timers_at_the_opening():
    await run(SUNDAY_10_UTC, RecordingPushSender())
    row = get_runtime().database.execute("SELECT claim_reminder_at, give_up_at FROM conversations")[0]
    monday_9 = SUNDAY_10_UTC + 23 * 3600
    assert (row["claim_reminder_at"], row["give_up_at"]) == (monday_9 + 300, monday_9 + 1800)


async def test_a_request_in_hours_starts_its_claim_timers_at_once():
    await run(MONDAY_10_UTC, RecordingPushSender())
    row = get_runtime().database.execute("SELECT claim_reminder_at, give_up_at FROM conversations")[0]
    assert (row["claim_reminder_at"], row["give_up_at"]) == (MONDAY_10_UTC + 300, MONDAY_10_UTC + 1800)


async def test_the_intent_reason_reaches_the_attendants_once():
    pushes = RecordingPushSender()
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    await run(MONDAY_10_UTC, pushes, intent="place_order")
    assert load_conversation(get_runtime().database, CUSTOMER).handoff_reason == "placed an order"
    assert pushes.sent[0][1].body == "••••••••0123: placed an order"
    await run(MONDAY_10_UTC + 60, RecordingPushSender(), reason="wants to change the delivery address")
    assert load_conversation(get_runtime().database, CUSTOMER).handoff_reason == "placed an order"  # queued once


@pytest.mark.parametrize(
    "intent, reason",
    [
        ("request_human", "asked for a person"),
        ("cancel_appointment", "wants to cancel an appointment"),
        ("nlu_fallback", "the assistant could not help"),
        ("greet", "asked for a person"),
    ],
)
async def test_each_intent_gives_the_attendants_its_reason(intent, reason):
    await run(MONDAY_10_UTC, RecordingPushSender(), intent=intent)
    assert load_conversation(get_runtime().database, CUSTOMER).handoff_reason == reason


async def test_the_ai_reason_is_kept_as_given():
    await run(MONDAY_10_UTC, RecordingPushSender(), reason="wants a refund for order 1234")
    assert load_conversation(get_runtime().database, CUSTOMER).handoff_reason == "wants a refund for order 1234"


@pytest.mark.parametrize(
    "ahead, response, text",
    [
        (0, "utter_handoff_queued_soon", HOLDING_SOON),
        (1, "utter_handoff_queued_soon", HOLDING_SOON),
        (4, "utter_handoff_queued", "Got it 👍 I've asked a person from our team to join this chat. Expected wait: "
                                    "about 12 minutes. You can keep writing here, they'll see the whole conversation."),
    ],
)
def test_expected_wait_grows_with_the_queue(ahead, response, text):
    name, values = holding_response(ahead)
    assert (name, get_responses().text(name, {}, **values)) == (response, text)




@pytest.mark.parametrize(
    "now, response, when",
    [
        (dt.datetime(2024, 5, 13, 7, 0), "utter_handoff_outside_hours_today", "today at 09:00"),
        (dt.datetime(2024, 5, 13, 19, 0), "utter_handoff_outside_hours_tomorrow", "tomorrow at 09:00"),
        (dt.datetime(2024, 5, 11, 12, 0), "utter_handoff_outside_hours", "on Monday at 09:00"),
        (dt.datetime(2024, 5, 10, 18, 30), "utter_handoff_outside_hours", "on Monday at 09:00"),
    ],
)
def test_the_offline_message_says_when_the_team_is_back(now, response, when):
    hours = parse_business_hours("mon-fri 09:00-18:00", "UTC")
    name, values = outside_hours_response(hours, now.replace(tzinfo=dt.timezone.utc))
    assert (name, get_responses().text(name, {}, **values)) == (response, OFFLINE.format(when))


def test_every_holding_message_passes_the_silence_the_handoff_starts():
    """The outbox suppresses bot messages while a person has the customer, except what the handoff turn owes."""
    from supportdesk.messaging.outbox_sender import HANDOFF_NOTICES

    hours = parse_business_hours("mon-fri 09:00-18:00", "UTC")
    monday_night = dt.datetime(2030, 3, 18, 20, 0, tzinfo=dt.timezone.utc)
    sent = {holding_response(ahead)[0] for ahead in (0, 1, 2, 5)}
    sent |= {outside_hours_response(hours, monday_night + dt.timedelta(hours=h), {})[0] for h in (-13, 0, 96)}
    sent |= {"utter_handoff_still_queued", "utter_order_received"}
    assert sent == set(HANDOFF_NOTICES)


def test_the_offline_message_names_the_weekday_in_the_customers_language():
    hours = parse_business_hours("mon-fri 09:00-18:00", "UTC")
    slots = {"language": "pt-BR"}
    name, values = outside_hours_response(hours, dt.datetime(2024, 5, 11, 12, 0, tzinfo=dt.timezone.utc), slots)
    assert get_responses().text(name, slots, **values) == PT_OFFLINE_MONDAY


async def test_a_push_that_crashes_never_costs_the_customer_the_holding_message():
    database = get_runtime().database
    register_device(database, "token-ana-phone-000001", "android", "ana")
    register_device(database, "token-bruno-phone-000002", "ios", "bruno")
    dispatcher, events = await run(MONDAY_10_UTC, CrashingPushSender())
    assert said(dispatcher) == [("utter_handoff_queued_soon", HOLDING_SOON)]
    assert events == [SlotSet("handoff_reason", None), SlotSet("handoff_waiting", True)]  # no pause
    assert load_conversation(database, CUSTOMER).status == "waiting"
    assert push_log() == [("handoff", "failed", "crash: TypeError")] * 2


async def test_an_unreadable_fcm_file_never_costs_the_customer_the_holding_message(monkeypatch, tmp_path):
    monkeypatch.setenv("FCM_SERVICE_ACCOUNT_FILE", str(tmp_path / "missing-service-account.json"))
    reset_settings_cache()
    reset_runtime()
    register_device(get_runtime().database, "token-ana-phone-000001", "android", "ana")
    dispatcher, events = await run(MONDAY_10_UTC, None)  # the runtime's sender: its file cannot be read
    assert said(dispatcher) == [("utter_handoff_queued_soon", HOLDING_SOON)]
    assert events == [SlotSet("handoff_reason", None), SlotSet("handoff_waiting", True)]  # no pause
    assert push_log() == [("handoff", "failed", "not_sent: SettingsError")]


async def test_with_openai_the_push_waits_for_the_summary_but_the_holding_message_does_not():
    """The summary loop (`handoff.summary`) sends the push with the summary; the customer hears from us at once."""
    database = get_runtime().database
    register_device(database, "token-ana-phone-000001", "android", "ana")
    pushes = RecordingPushSender()
    settings = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00", openai_api_key="sk-test-not-called-0000")
    dispatcher = CollectingDispatcher()
    await ActionRequestHandoff(settings, pushes, clock=lambda: MONDAY_10_UTC).run(dispatcher, tracker(), {})
    assert load_conversation(database, CUSTOMER).status == "waiting"
    assert said(dispatcher) == [("utter_handoff_queued_soon", HOLDING_SOON)]
    assert pushes.sent == [] and push_log() == []


async def test_hello_while_waiting_gets_the_reminder_and_after_a_release_the_greeting():
    """ "hello?? anyone there" while waiting is answered; once nobody waits it is a plain hello again."""
    await run(MONDAY_10_UTC, RecordingPushSender())
    settings = Settings(business_timezone="UTC", business_hours="mon-fri 09:00-18:00")
    reminder = ActionHandoffReminder(settings, clock=lambda: SUNDAY_10_UTC + 7 * 86400)  # the team is closed
    dispatcher = CollectingDispatcher()
    assert await reminder.run(dispatcher, tracker("greet"), {}) == []
    assert said(dispatcher) == [("utter_handoff_outside_hours_tomorrow", OFFLINE.format("tomorrow at 09:00"))]
    get_runtime().database.execute("UPDATE conversations SET status = 'bot' WHERE id = ?", (CUSTOMER,))
    dispatcher = CollectingDispatcher()
    assert await reminder.run(dispatcher, tracker("greet"), {}) == []  # the next turn's catch-up clears the slot
    assert [message["response"] for message in dispatcher.messages] == ["utter_greet"]
