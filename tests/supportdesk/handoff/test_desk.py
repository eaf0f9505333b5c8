"""The handoff timers are honest about business hours: no "finding someone" and no reminder pushes while closed."""

import datetime as dt
import json
from typing import List

from supportdesk.attendant.alerts import register_device
from supportdesk.attendant.push import PushResult
from supportdesk.handoff import state as handoff
from supportdesk.handoff.desk import AttendantDesk
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.messaging.conversations import load_conversation
from supportdesk.scheduling.business_hours import parse_business_hours

CUSTOMER = "447700900321"
TIMEOUTS = HandoffTimeouts(claim_seconds=300, give_up_seconds=1800, idle_reminder_seconds=600)
HOURS = parse_business_hours("mon-fri 09:00-18:00; sat 09:00-13:00", "UTC")
FRIDAY_17_50 = dt.datetime(2024, 5, 10, 17, 50, tzinfo=dt.timezone.utc).timestamp()
MONDAY_9 = dt.datetime(2024, 5, 13, 9, 0, tzinfo=dt.timezone.utc).timestamp()
SATURDAY_9 = dt.datetime(2024, 5, 11, 9, 0, tzinfo=dt.timezone.utc).timestamp()


class RecordingPushSender:
    def __init__(self) -> None:
        self.sent: List = []

    async def send(self, token, message):
        self.sent.append((token, message))
        return PushResult(token=token, outcome="sent")


def texts(database) -> List[str]:
    rows = database.execute("SELECT message FROM outbox_messages WHERE conversation_id = ? ORDER BY id", (CUSTOMER,))
    return [json.loads(row["message"])["text"]["body"] for row in rows]


def desk_at(database, now: List[float], pushes: RecordingPushSender, slots=None) -> AttendantDesk:
    async def read_slots(_: str):
        return slots or {}

    return AttendantDesk(database, TIMEOUTS, lambda: pushes, lambda: None, read_slots, clock=lambda: now[0], hours=HOURS)


async def test_a_wait_that_runs_into_closing_time_says_when_the_team_is_back_once_and_pushes_nothing(database):
    register_device(database, "token-ana-000001", "android", "ana")
    pushes = RecordingPushSender()
    now = [FRIDAY_17_50]
    desk = desk_at(database, now, pushes)
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, now[0])
    now[0] += 600  # 18:00: closed, the claim reminder is due
    assert await desk.run_due_timers() == 1
    now[0] += 3600  # still closed: nothing more, no give-up
    assert await desk.run_due_timers() == 0
    assert texts(database) == [
        "Our team is closed now 🌙 They're back tomorrow at 09:00; leave your details here and they'll see them "
        "first. Meanwhile I can answer questions or book an appointment."
    ]
    assert pushes.sent == []
    assert load_conversation(database, CUSTOMER).status == "waiting"
    now[0] = SATURDAY_9 + 300  # back in hours: the attendants are reminded, the customer hears the queue
    assert await desk.run_due_timers() == 1
    assert [message.title for _, message in pushes.sent] == ["Customer still waiting"]
    assert texts(database)[-1].startswith("Still finding someone free to help you")


async def test_the_reopening_weekday_is_in_the_customers_language(database):
    now = [dt.datetime(2024, 5, 11, 12, 55, tzinfo=dt.timezone.utc).timestamp()]  # Saturday, closes at 13:00
    desk = desk_at(database, now, RecordingPushSender(), slots={"language": "pt-BR"})
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, now[0])
    now[0] += 300
    assert await desk.run_due_timers() == 1
    assert texts(database) == [
        "Nossa equipe está fora do horário 🌙 Ela volta segunda-feira às 09:00; deixe seus dados aqui que ela vê "
        "primeiro. Enquanto isso, posso tirar dúvidas ou marcar um horário."
    ]


async def test_a_request_that_runs_out_in_hours_is_missed_until_someone_follows_it_up(database):
    now = [MONDAY_9]
    desk = desk_at(database, now, RecordingPushSender())
    handoff.request_handoff(database, CUSTOMER, None, TIMEOUTS, now[0])
    now[0] += 1800
    await desk.run_due_timers()
    conversation = load_conversation(database, CUSTOMER)
    assert (conversation.status, conversation.missed_at) == ("bot", MONDAY_9 + 1800)
    assert texts(database)[-1].startswith("Sorry, nobody from our team could pick up right now")
