"""History from tracker events: stable ids, senders, paging."""

import pytest

from supportdesk.messaging.history import UnknownMessage, media_ref, messages_from_events, page, with_delivery, with_media

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


def ids(found):
    return [m["id"] for m in found.messages], found.next_before, found.next_after


def test_after_pages_forward_and_rejects_unknown_ids():
    messages = messages_from_events("c", EVENTS)
    assert ids(page(messages, after="wamid.B")) == (["out-7", "out-8"], "out-7", None)
    assert ids(page(messages, after="out-8")) == ([], None, None)
    assert page(messages).messages == messages
    with pytest.raises(UnknownMessage) as unknown:
        page(messages, after="wamid.nope")
    assert unknown.value.parameter == "after"


def test_the_newest_page_comes_first_and_before_pages_back():
    messages = messages_from_events("c", EVENTS)  # wamid.A, wamid.A:0, wamid.A:1, wamid.B, out-7, out-8
    assert ids(page(messages, limit=2)) == (["out-7", "out-8"], "out-7", None)
    assert ids(page(messages, limit=2, before="out-7")) == (["wamid.A:1", "wamid.B"], "wamid.A:1", "wamid.B")
    assert ids(page(messages, limit=2, before="wamid.A:1")) == (["wamid.A", "wamid.A:0"], None, "wamid.A:0")
    assert ids(page(messages, limit=2, after="wamid.A")) == (["wamid.A:0", "wamid.A:1"], "wamid.A:0", "wamid.A:1")
    assert ids(page(messages, limit=9, after="wamid.A", before="out-7")) == (["wamid.A:0", "wamid.A:1", "wamid.B"], "wamid.A:0", "wamid.B")
    assert ids(page(messages, after="out-7", before="wamid.B")) == ([], None, None)
    with pytest.raises(UnknownMessage) as unknown:
        page(messages, before="wamid.nope")
    assert unknown.value.parameter == "before"


def test_delivery_states_are_attached_by_id():
    messages = with_delivery(messages_from_events("c", EVENTS), {"out-7": {"status": "read", "reason": None}})
    assert messages[4]["status"] == "read" and "status" not in messages[0]


def test_media_is_attached_by_wamid_for_customers_and_by_outbox_id_for_attendants():
    events = [
        {"event": "user", "text": "quero falar com uma pessoa", "message_id": "wamid.V", "timestamp": 1800000000.0,
         "metadata": {"message_type": "audio"}},
        {"event": "user", "text": "hi", "message_id": "wamid.T", "timestamp": 1800000001.0,
         "metadata": {"message_type": "text"}},
        {"event": "bot", "text": "", "timestamp": 1800000020.0, "metadata": {"attendant_id": "ana", "message_id": "out-9"}},
        {"event": "bot", "text": "Hello!", "timestamp": 1800000021.0, "data": {}},
    ]
    messages = messages_from_events("447700900123", events)
    assert [media_ref(m) for m in messages] == ["wamid.V", "wamid.T", "9", None]
    voice = {"id": "m_1", "mime_type": "audio/ogg", "transcript": "quero falar com uma pessoa"}
    photo = {"id": "m_2", "mime_type": "image/jpeg", "transcript": None}
    with_media(messages, {"wamid.V": voice, "9": photo})
    assert [(m.get("type"), m.get("media")) for m in messages] == [
        ("audio", voice), ("text", None), ("image", photo), (None, None)
    ]


def test_a_customer_turn_shows_the_words_recorded_for_attendants_never_a_payload():
    events = [
        {"event": "user", "text": "/share_media", "message_id": "wamid.photo", "metadata": {"shown_text": "📷 Photo"}},
        {"event": "user", "text": "/affirm", "message_id": "wamid.typed", "metadata": {"shown_text": "1"}},
        {"event": "user", "text": "/share_media", "message_id": "wamid.old", "metadata": {}},
        {"event": "user", "text": "hello", "message_id": "wamid.text", "metadata": {}},
    ]
    assert [message["text"] for message in messages_from_events("c", events)] == ["📷 Photo", "1", "", "hello"]
