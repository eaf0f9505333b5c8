"""Round-robin assignment: two available attendants and one away; the least busy, then the longest idle, gets it."""

from __future__ import annotations

import pytest

from supportdesk.attendant.alerts import handoff_push, notify, register_device
from supportdesk.attendant.push import FcmPushSender
from supportdesk.attendant.workspace import set_available
from supportdesk.handoff import state as handoff
from supportdesk.handoff.assignment import assign_waiting, run_assignment
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.handoff.workspace_loop import run_new_waits
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.settings import Settings
from supportdesk.runtime import get_runtime
from tests.fakes.fake_fcm import FakeFcm
from tests.supportdesk.handoff.test_summary import RecordingPushSender

NOW = 1_900_000_000.0


def waiting(database, customer: str, at: float) -> None:
    with database.transaction() as cursor:
        cursor.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", (customer, at, at))
    handoff.request_handoff(database, customer, "asked for a person", HandoffTimeouts(), at)


@pytest.fixture
def team():
    """ana (available since NOW-300), bruno (available since NOW-200), carla (away); each with a device."""
    database = get_runtime().database
    set_available(database, "ana", "Ana", True, NOW - 300)
    set_available(database, "bruno", "Bruno", True, NOW - 200)
    set_available(database, "carla", "Carla", False, NOW - 900)
    for who in ("ana", "bruno", "carla"):
        register_device(database, f"fcm-token-{who}-000001", "android", who)
    return database


def holders(database, customers) -> list:
    return [load_conversation(database, customer).assigned_to for customer in customers]


def test_waits_alternate_between_the_available_and_skip_the_away(team):
    for n in range(4):
        waiting(team, f"551100000000{n}", NOW + n)
    done = assign_waiting(team, HandoffTimeouts(), summaries_first=False, now=NOW + 10)
    assert [(a.conversation.id, a.attendant_id) for a in done] == [
        ("5511000000000", "ana"), ("5511000000001", "bruno"), ("5511000000002", "ana"), ("5511000000003", "bruno")]
    assert {load_conversation(team, a.conversation.id).status for a in done} == {"human"}
    rows = team.execute("SELECT outcome, attendant_id FROM handoff_requests ORDER BY id")
    assert [(r["outcome"], r["attendant_id"]) for r in rows] == [("claimed", "ana"), ("claimed", "bruno")] * 2


def test_the_one_with_fewer_open_conversations_wins_over_the_longest_idle(team):
    waiting(team, "5511000000010", NOW)
    handoff.claim(team, "5511000000010", "ana", HandoffTimeouts(), NOW)  # ana now holds one
    set_available(team, "bruno", "Bruno", True, NOW + 5)
    waiting(team, "5511000000011", NOW + 6)
    [done] = assign_waiting(team, HandoffTimeouts(), summaries_first=False, now=NOW + 10)
    assert done.attendant_id == "bruno"


def test_nobody_available_leaves_the_customer_waiting(team):
    for who in ("ana", "bruno"):
        set_available(team, who, who.title(), False, NOW)
    waiting(team, "5511000000020", NOW)
    assert assign_waiting(team, HandoffTimeouts(), summaries_first=False, now=NOW + 1) == []
    assert load_conversation(team, "5511000000020").status == "waiting"


async def test_the_assignee_alone_gets_the_push(team):
    waiting(team, "5511000000030", NOW)
    pushes = RecordingPushSender()
    [done] = await run_assignment(team, HandoffTimeouts(), False, lambda: pushes)
    assert done.attendant_id == "ana"
    assert [(token, push.type) for token, push in pushes.sent] == [("fcm-token-ana-000001", "handoff")]


async def test_off_by_default_and_on_with_round_robin(team):
    waiting(team, "5511000000040", NOW)
    pushes = RecordingPushSender()

    async def no_history(_):
        return None

    await run_new_waits(team, no_history, Settings(), lambda: pushes)
    assert holders(team, ["5511000000040"]) == [None]
    await run_new_waits(team, no_history, Settings(handoff_auto_assign="round_robin"), lambda: pushes)
    assert holders(team, ["5511000000040"]) == ["ana"]


async def test_through_fcm_the_assignee_alone_hears_it_is_theirs(team, tmp_path):
    customer = "5511000000050"
    waiting(team, customer, NOW)
    with FakeFcm(project_id="supportdesk-test") as fcm:
        sender = FcmPushSender(str(fcm.write_service_account(tmp_path)), "supportdesk-test", fcm.url)
        await notify(team, sender, handoff_push(load_conversation(team, customer)))  # what the handoff action sends
        await run_new_waits(team, None, Settings(handoff_auto_assign="round_robin"), lambda: sender)
        sent = [(m["token"], m["notification"]["title"], m["notification"]["body"], m["data"]["type"]) for m in fcm.messages]
    body = f"{mask_phone(customer)}: asked for a person"
    assert sorted(sent[:3]) == [(f"fcm-token-{who}-000001", "Customer waiting for a person", body, "handoff")
                                for who in ("ana", "bruno", "carla")]
    assert sent[3:] == [("fcm-token-ana-000001", "Customer assigned to you", body, "handoff")]
