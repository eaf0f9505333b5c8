"""History from tracker events: stable ids, senders, paging."""

import pytest

from supportdesk.messaging.history import UnknownMessage, messages_from_events, page_after, with_delivery

EVENTS = [
    {"event": "action", "name": "action_session_start", "timestamp": 1.0},
    {"event": "user", "text": "hi", "message_id": "wamid.A", "timestamp": 1800000000.0},
    {"event": "bot", "text": "Hello!", "timestamp": 1800000001.0, "data": {}},
    {"event": "bot", "text": "Choose", "timestamp": 1800000001.5, "data": {"buttons": [{"title": "Yes"}, {"title": "No"}]}},
    {"event": "user", "text": "a person please", "message_id": "wamid.B", "timestamp": 1800000010.0},
    {"event": "pause", "timestamp": 1800000011.0},
    {"event": "bot", "text": "Hi, Ana here", "timestamp": 1800000020.0,
     "metadata": {"attendant_id": "ana", "message_id": "out-7"}},
    {"event": "bot", "text": "Still in the queue", "timestamp": 1800000021.0,
     "metadata": {"message_id": "out-8", "utter_action": "utter_handoff_still_waiting"}},
]


def test_turns_have_stable_ids_and_senders():
    messages = messages_from_events("447700900123", EVENTS)
    assert [(m["id"], m["sender"], m["attendant_id"]) for m in messages] == [
        ("wamid.A", "customer", None),
        ("wamid.A:0", "bot", None),
        ("wamid.A:1", "bot", None),
        ("wamid.B", "customer", None),
        ("out-7", "attendant", "ana"),
        ("out-8", "bot", None),
    ]
    assert messages[2]["text"] == "Choose\n[Yes | No]"
    assert messages[0]["timestamp"] == "2027-01-15T08:00:00.000Z"
    assert all(m["conversation_id"] == "447700900123" for m in messages)


def test_after_pages_forward_and_rejects_unknown_ids():
    messages = messages_from_events("c", EVENTS)
    assert [m["id"] for m in page_after(messages, "wamid.B")] == ["out-7", "out-8"]
    assert page_after(messages, "out-8") == []
    assert page_after(messages, None) == messages
    with pytest.raises(UnknownMessage):
        page_after(messages, "wamid.nope")


def test_delivery_states_are_attached_by_id():
    messages = with_delivery(messages_from_events("c", EVENTS), {"out-7": {"status": "read", "reason": None}})
    assert messages[4]["status"] == "read" and "status" not in messages[0]
