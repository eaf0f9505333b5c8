"""The attendant's workspace through the API: me, availability, notes, saved replies, paging, stats, drafts."""

from __future__ import annotations

import time

import pytest
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from supportdesk.knowledge.openai_answers import get_openai_answers
from supportdesk.messaging import stream_events
from supportdesk.runtime import get_runtime
from tests.channels import test_attendant_api as attendant_api
from tests.channels.test_attendant_api import CUSTOMER, TrackerOnlyAgent, a_customer_waits, auth, call
from tests.fakes.fake_openai import FAKE_API_KEY, FakeOpenAi

app = attendant_api.app  # the same fixtures: a fresh app, and the JWT secret set
jwt_secret = attendant_api.jwt_secret


@pytest.fixture
def fake_openai(monkeypatch):
    with FakeOpenAi() as server:
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        from supportdesk.platform.settings import reset_settings_cache

        reset_settings_cache()
        get_openai_answers.cache_clear()
        yield server
        get_openai_answers.cache_clear()


async def test_me_tells_who_the_token_belongs_to_and_availability_is_saved(app):
    assert (await call(app, "GET", "/me", auth("ana"))).json == {"id": "ana", "name": "Ana", "role": "attendant", "available": False}
    assert (await call(app, "GET", "/me")).status == 401
    put = await call(app, "PUT", "/me/availability", auth("ana"), {"available": True})
    assert put.status == 200 and put.json == {"available": True}
    assert (await call(app, "GET", "/me", auth("ana"))).json["available"] is True
    assert (await call(app, "GET", "/me", auth("bruno", "admin"))).json == {
        "id": "bruno", "name": "Bruno", "role": "admin", "available": False}
    for bad in ({"available": "yes"}, {}, {"available": 1}):
        refused = await call(app, "PUT", "/me/availability", auth("ana"), bad)
        assert refused.status == 400 and refused.json["error"] == "invalid_available"
    assert (await call(app, "PUT", "/me/availability", auth("ana"), b"{oops")).status == 400
    await call(app, "PUT", "/me/availability", auth("ana"), {"available": False})
    assert (await call(app, "GET", "/me", auth("ana"))).json["available"] is False


async def test_a_note_is_in_the_history_and_the_stream_and_never_queued_for_the_customer(app):
    a_customer_waits()
    agent = TrackerOnlyAgent()
    events = [UserUttered("I need a person", message_id="wamid.N1", timestamp=time.time() - 60)]
    await agent.tracker_store.save(DialogueStateTracker.from_events(CUSTOMER, events))
    get_runtime().bind_agent(agent)
    created = await call(app, "POST", f"/conversations/{CUSTOMER}/notes", auth("bruno"), {"text": " VIP: refund approved "})
    assert created.status == 201 and created.json["id"] == "note-1"
    history = (await call(app, "GET", f"/conversations/{CUSTOMER}/messages", auth("ana"))).json["messages"]
    assert [(m["id"], m["sender"], m["text"], m["attendant_id"]) for m in history] == [
        ("wamid.N1", "customer", "I need a person", None), ("note-1", "note", "VIP: refund approved", "bruno")]
    database = get_runtime().database
    [streamed] = [e for e in stream_events.events_after(database, 0) if e.event == stream_events.MESSAGE_CREATED]
    assert streamed.data == created.json["message"] == history[1]
    # Nothing was queued: the outbox is the only way anything reaches the Graph API.
    assert database.execute("SELECT COUNT(*) AS n FROM outbox_messages")[0]["n"] == 0


async def test_note_errors(app):
    a_customer_waits()
    empty = await call(app, "POST", f"/conversations/{CUSTOMER}/notes", auth(), {"text": "  "})
    assert empty.status == 400 and empty.json["error"] == "empty_text"
    long = await call(app, "POST", f"/conversations/{CUSTOMER}/notes", auth(), {"text": "x" * 4097})
    assert long.status == 400 and long.json["error"] == "text_too_long"
    missing = await call(app, "POST", "/conversations/nobody/notes", auth(), {"text": "hi"})
    assert missing.status == 404 and missing.json["error"] == "not_found"
    assert (await call(app, "POST", f"/conversations/{CUSTOMER}/notes", {}, {"text": "hi"})).status == 401


async def test_saved_replies_come_from_the_yaml_in_the_asked_language(app):
    english = await call(app, "GET", "/canned-responses", auth())
    assert english.status == 200
    hours = next(entry for entry in english.json["canned_responses"] if entry["shortcut"] == "hours")
    assert hours["text"] == hours["texts"]["en"] and set(hours["texts"]) == {"en", "pt-BR"}
    portuguese = await call(app, "GET", "/canned-responses?language=pt-BR", auth())
    assert [e["text"] for e in portuguese.json["canned_responses"]] == [e["texts"]["pt-BR"] for e in english.json["canned_responses"]]
    assert (await call(app, "GET", "/canned-responses?language=fr", auth())).status == 400


def many_conversations(count: int) -> None:
    """`count` conversations, some sharing an activity time (ties are ordered by id); every third held by ana."""
    database = get_runtime().database
    with database.transaction() as cursor:
        for n in range(count):
            at = 1_900_000_000.0 + n // 3  # three per instant
            holder, status = ("ana", "human") if n % 3 == 0 else (None, "bot")
            cursor.execute(
                "INSERT INTO conversations (id, status, assigned_to, last_message_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (f"5511{n:08d}", status, holder, at, at, at),
            )


async def test_paging_through_250_conversations_without_gaps_or_repeats(app):
    many_conversations(250)
    seen, cursor, pages = [], None, 0
    while True:
        path = "/conversations?limit=40" + (f"&before={cursor}" if cursor else "")
        answer = await call(app, "GET", path, auth())
        assert answer.status == 200
        seen += [c["id"] for c in answer.json["conversations"]]
        pages += 1
        cursor = answer.json["next_before"]
        if cursor is None:
            break
    expected = sorted((f"5511{n:08d}" for n in range(250)), key=lambda i: (-(int(i[4:]) // 3), i))
    assert seen == expected and pages == 7
    everything = await call(app, "GET", "/conversations", auth())
    assert len(everything.json["conversations"]) == 200 and everything.json["next_before"] is not None
    mine = await call(app, "GET", "/conversations?assigned=me&limit=500", auth("ana"))
    assert [c["id"] for c in mine.json["conversations"]] == [i for i in expected if int(i[4:]) % 3 == 0]
    assert mine.json["next_before"] is None
    assert (await call(app, "GET", "/conversations?assigned=me", auth("bruno"))).json == {"conversations": [], "next_before": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "assigned=you", "before=", "before=nonsense"])
async def test_bad_list_parameters_are_400(app, query):
    assert (await call(app, "GET", f"/conversations?{query}", auth())).status == 400


async def test_stats_answers_and_refuses_bad_days(app):
    answer = await call(app, "GET", "/stats?days=3", auth())
    assert answer.status == 200 and answer.json["conversations"] == 0 and len(answer.json["by_day"]) == 3
    assert (await call(app, "GET", "/stats", auth())).json["days"] == 7
    for bad in ("0", "367", "x", ""):
        refused = await call(app, "GET", f"/stats?days={bad}", auth())
        assert refused.status == 400 and refused.json["error"] == "invalid_days"


async def test_a_suggestion_without_openai_is_503_ai_unavailable(app):
    a_customer_waits()
    get_openai_answers.cache_clear()
    answer = await call(app, "POST", f"/conversations/{CUSTOMER}/suggestion", auth())
    assert answer.status == 503 and answer.json["error"] == "ai_unavailable"
    assert (await call(app, "POST", "/conversations/nobody/suggestion", auth())).status == 404


async def test_a_suggestion_is_drafted_from_knowledge_history_and_notes_and_nothing_is_sent(app, fake_openai):
    a_customer_waits()
    agent = TrackerOnlyAgent()
    events = [UserUttered("Can I move my haircut to Friday?", message_id="wamid.S1", timestamp=time.time() - 60),
              BotUttered("Let me get someone from the team.", timestamp=time.time() - 59)]
    await agent.tracker_store.save(DialogueStateTracker.from_events(CUSTOMER, events))
    get_runtime().bind_agent(agent)
    await call(app, "POST", f"/conversations/{CUSTOMER}/notes", auth("bruno"), {"text": "Friday 15:00 is free"})
    fake_openai.reply_text("Of course! Friday at 15:00 works.")
    answer = await call(app, "POST", f"/conversations/{CUSTOMER}/suggestion", auth())
    assert answer.status == 200 and answer.json == {"text": "Of course! Friday at 15:00 works."}
    [body] = fake_openai.chat_bodies()
    assert "tools" not in body and body["max_tokens"] == 400
    system, conversation = body["messages"]
    assert "Business information:" in system["content"] and "Studio Lumen" in system["content"]
    assert system["content"].endswith("Answer in English.")
    assert conversation == {"role": "user", "content": "CUSTOMER: Can I move my haircut to Friday?\n"
                                                       "ASSISTANT: Let me get someone from the team.\n"
                                                       "NOTE: Friday 15:00 is free"}
    assert get_runtime().database.execute("SELECT COUNT(*) AS n FROM outbox_messages")[0]["n"] == 0
