"""The tracker store inserts only the events it has not stored, without counting them first."""

from __future__ import annotations

from typing import Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from supportdesk.platform.rasa_stores import SettingsTrackerStore
from supportdesk.platform.settings import reset_settings_cache

CUSTOMER = "5511966665555"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, monkeypatch, tmp_path) -> Iterator[SettingsTrackerStore]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 't.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings_cache()
    tracker_store = SettingsTrackerStore(domain=Domain.empty())
    yield tracker_store
    tracker_store.engine.dispose()
    reset_settings_cache()


def statements_of(store: SettingsTrackerStore) -> List[str]:
    seen: List[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda _c, _r, statement, *_: seen.append(statement))
    return seen


def texts(tracker: DialogueStateTracker) -> List[str]:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


async def test_a_read_tracker_is_saved_without_a_count_and_without_duplicates(store):
    tracker = await store.get_or_create_tracker(CUSTOMER)
    tracker.update(UserUttered("first"))
    await store.save(tracker)
    again = await store.retrieve(CUSTOMER)
    again.update(UserUttered("second"))
    statements = statements_of(store)
    await store.save(again)
    again.update(UserUttered("third"))
    await store.save(again)

    assert [s for s in statements if "count(" in s.lower()] == []
    assert texts(await store.retrieve(CUSTOMER)) == ["first", "second", "third"]


async def test_a_new_session_keeps_the_old_one_and_stores_the_new_events_once(store):
    tracker = await store.get_or_create_tracker(CUSTOMER)
    tracker.update(UserUttered("old session"))
    await store.save(tracker)
    read = await store.retrieve(CUSTOMER)
    read.update(ActionExecuted("action_session_start", timestamp=read.events[-1].timestamp + 10))
    read.update(SessionStarted(timestamp=read.events[-1].timestamp + 10))
    read.update(UserUttered("new session", timestamp=read.events[-1].timestamp + 10))
    await store.save(read)
    read.update(UserUttered("later", timestamp=read.events[-1].timestamp + 10))
    await store.save(read)

    assert texts(await store.retrieve(CUSTOMER)) == ["new session", "later"]
    assert texts(await store.retrieve_full_tracker(CUSTOMER)) == ["old session", "new session", "later"]


async def test_a_tracker_built_elsewhere_is_counted_as_rasa_does(store):
    tracker = await store.get_or_create_tracker(CUSTOMER)
    tracker.update(UserUttered("stored"))
    await store.save(tracker)
    rebuilt = DialogueStateTracker.from_events(CUSTOMER, list(tracker.events), [])
    rebuilt.update(UserUttered("added"))
    await store.save(rebuilt)

    assert texts(await store.retrieve(CUSTOMER)) == ["stored", "added"]
