"""A customer's right to be forgotten: every table and the tracker emptied for them, untouched for others."""

from __future__ import annotations

import json
import time
import types
import uuid
from typing import Dict, List

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from channels.attendant import AttendantInput
from supportdesk.attendant import erasure
from supportdesk.attendant.tokens import mint_token
from supportdesk.handoff import state as handoff
from supportdesk.media.records import MediaRecord, insert_media
from supportdesk.media.store import MediaNotFound, storage_key
from supportdesk.messaging.conversations import load_conversation
from supportdesk.messaging.inbox import acquire_lease, store_delivery
from supportdesk.platform.rasa_stores import SettingsTrackerStore
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.platform.structured_logging import JsonFormatter
from supportdesk.runtime import get_runtime, reset_runtime
from supportdesk.scheduling.appointments import create_request
from supportdesk.whatsapp.payload import parse_webhook
from tests.integration.service import text_delivery

CUSTOMER = "447700900123"
OTHER = "16315551181"
SECRET = "erasure-test-jwt-secret-0123456789abcdef"
NOW = time.time()


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, monkeypatch, tmp_path) -> types.SimpleNamespace:
    """The runtime on SQLite or PostgreSQL, and an Agent's stores: Rasa's SQL tracker store on the same database."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 'erase.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    reset_settings_cache()
    reset_runtime()
    runtime = get_runtime()
    tracker_store = SettingsTrackerStore(domain=Domain.empty())
    agent = types.SimpleNamespace(tracker_store=tracker_store, lock_store=InMemoryLockStore())
    yield types.SimpleNamespace(runtime=runtime, database=runtime.database, agent=agent)
    tracker_store.engine.dispose()


async def everything_about(service, customer: str) -> List[str]:
    """Store what a customer leaves behind in every table and the tracker; returns their outbound wamids."""
    database = service.database
    store_delivery(database, parse_webhook(text_delivery(customer, f"wamid.IN{customer}", "I need a person")))
    handoff.request_handoff(database, customer, "asked for a person", handoff.timeouts_from(service.runtime.settings), NOW)
    create_request(database, customer, NOW + 86400, "Tuesday 14 May at 15:00", "haircut", None)
    wamids = [f"wamid.OUT{customer}{n}" for n in range(2)]
    with database.transaction() as cursor:
        for wamid in wamids:
            cursor.execute(
                """INSERT INTO outbox_messages (conversation_id, origin, message, wamid, state, next_attempt_at, created_at, updated_at)
                   VALUES (?, 'bot', '{}', ?, 'sent', ?, ?, ?)""",
                (customer, wamid, NOW, NOW, NOW),
            )
            cursor.execute(
                "INSERT INTO delivery_statuses (wamid, status, status_at, received_at) VALUES (?, 'delivered', ?, ?)",
                (wamid, int(NOW), NOW),
            )
        cursor.execute(
            "INSERT INTO push_log (kind, conversation_id, attendant_id, state, created_at) VALUES ('handoff', ?, 'ana', 'sent', ?)",
            (customer, NOW),
        )
        cursor.execute(
            "INSERT INTO satisfaction (conversation_id, attendant_id, score, asked_at, answered_at) VALUES (?, 'ana', 3, ?, ?)",
            (customer, NOW, NOW),
        )
        cursor.execute(
            "INSERT INTO conversation_notes (conversation_id, attendant_id, text, created_at) VALUES (?, 'ana', 'VIP', ?)",
            (customer, NOW),
        )
        media_id = f"m_{customer}"
        key = storage_key(customer, media_id, NOW)
        service.runtime.media_store.put(key, b"photo of " + customer.encode(), "image/jpeg")
        insert_media(cursor, MediaRecord(media_id, customer, f"wamid.IN{customer}", "customer", storage_key=key, status="stored"))
    acquire_lease(database, customer, "worker-gone", 1.0, NOW - 60)  # a lapsed lease of a dead replica
    tracker = DialogueStateTracker.from_events(
        customer, [ActionExecuted("action_listen"), UserUttered("I need a person"), BotUttered("One moment")]
    )
    await service.agent.tracker_store.save(tracker)
    return wamids


def rows_about(database, customer: str, wamids: List[str]) -> Dict[str, int]:
    """How many rows of each table concern the customer."""
    counts = {}
    for table, _ in erasure.ERASED_ROWS:
        if table == "delivery_statuses":
            marks = ", ".join("?" for _ in wamids)
            sql, params = f"SELECT COUNT(*) AS n FROM delivery_statuses WHERE wamid IN ({marks})", wamids
        else:
            sql, params = f"SELECT COUNT(*) AS n FROM {table} WHERE {'id' if table == 'conversations' else 'conversation_id'} = ?", [customer]
        counts[table] = database.execute(sql, params)[0]["n"]
    return counts


async def tracker_events(service, customer: str) -> int:
    tracker = await service.agent.tracker_store.retrieve_full_tracker(customer)
    return 0 if tracker is None else len(tracker.events)


async def erase(service, customer: str = CUSTOMER, **kwargs) -> erasure.Erasure:
    async def run_here(coroutine):  # the dialogue loop in production; the agent here belongs to this loop
        return await coroutine

    kwargs.setdefault("media_store", service.runtime.media_store)
    return await erasure.erase_customer(service.database, run_here, service.agent, customer, "boss", **kwargs)


async def test_every_table_and_the_tracker_are_emptied_for_the_customer_only(service, caplog):
    mine = await everything_about(service, CUSTOMER)
    theirs = await everything_about(service, OTHER)
    before_theirs = rows_about(service.database, OTHER, theirs)
    assert all(rows_about(service.database, CUSTOMER, mine).values())  # something in every table
    done = await erase(service)
    assert rows_about(service.database, CUSTOMER, mine) == {table: 0 for table, _ in erasure.ERASED_ROWS}
    assert await tracker_events(service, CUSTOMER) == 0
    assert rows_about(service.database, OTHER, theirs) == before_theirs
    assert await tracker_events(service, OTHER) == 3
    assert done == erasure.Erasure(rows=before_theirs, tracker_events=3, media_files=1)
    store = service.runtime.media_store
    with pytest.raises(MediaNotFound):
        store.size(storage_key(CUSTOMER, f"m_{CUSTOMER}", NOW))
    assert store.read(storage_key(OTHER, f"m_{OTHER}", NOW)) == b"photo of " + OTHER.encode()
    [logged] = [record for record in caplog.records if record.getMessage() == "customer.erased"]
    assert (logged.customer, logged.erased_by, logged.rows) == ("••••••••0123", "boss", sum(before_theirs.values()))
    assert all(CUSTOMER not in JsonFormatter().format(record) for record in caplog.records)


async def test_the_customers_next_message_starts_a_fresh_conversation(service):
    await everything_about(service, CUSTOMER)
    await erase(service)
    assert load_conversation(service.database, CUSTOMER) is None
    store_delivery(service.database, parse_webhook(text_delivery(CUSTOMER, "wamid.AGAIN", "hello again")))
    fresh = load_conversation(service.database, CUSTOMER)
    assert (fresh.status, fresh.assigned_to, fresh.handoff_reason) == ("bot", None, None)
    assert await service.agent.tracker_store.retrieve(CUSTOMER) is None


async def test_an_unknown_customer_is_reported_and_nothing_is_touched(service):
    theirs = await everything_about(service, OTHER)
    before = rows_about(service.database, OTHER, theirs)
    with pytest.raises(erasure.UnknownCustomer):
        await erase(service)
    assert rows_about(service.database, OTHER, theirs) == before


async def test_a_turn_in_progress_keeps_everything_until_it_ends(service):
    mine = await everything_about(service, CUSTOMER)
    acquire_lease(service.database, CUSTOMER, "worker-busy", 60.0, time.time())
    with pytest.raises(erasure.CustomerBusy):
        await erase(service, wait_seconds=0)
    assert all(rows_about(service.database, CUSTOMER, mine).values())
    assert await tracker_events(service, CUSTOMER) > 0


async def test_a_failed_erasure_keeps_the_rows_and_hands_the_conversation_back(service):
    mine = await everything_about(service, CUSTOMER)
    service.agent.tracker_store = types.SimpleNamespace()  # a store erasure cannot handle: it must fail, not skip
    with pytest.raises(TypeError):
        await erase(service)
    kept = rows_about(service.database, CUSTOMER, mine)
    assert kept.pop("conversation_leases") == 0 and all(kept.values())  # only the erasure's own lease is gone
    assert acquire_lease(service.database, CUSTOMER, "worker-next", 15.0, time.time(), False) is True


def test_every_table_holding_a_customer_is_erased_or_known_to_hold_none(service):
    """A new table with a conversation_id (a media table, say) must be added to ERASED_ROWS."""
    database = service.database
    if database.is_postgres:
        rows = database.execute("SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public'")
    else:
        names = [r["name"] for r in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [{"t": n, "c": c["name"]} for n in names for c in database.execute(f"PRAGMA table_info({n})")]
    tables = {row["t"] for row in rows} - {"sqlite_sequence"}
    with_customer = {row["t"] for row in rows if row["c"] == "conversation_id"} | {"conversations", "delivery_statuses"}
    erased = {table for table, _ in erasure.ERASED_ROWS}
    assert erased == with_customer
    kept = {"attendant_devices", "attendant_presence", "schema_migrations"}
    assert tables - erased == kept | ({"events"} & tables)  # events: the tracker, erased by Rasa's store


# --- the API: DELETE /webhooks/attendant/customers/{id}


@pytest.fixture
def api(service) -> Sanic:
    app = Sanic(f"erasure_api_{uuid.uuid4().hex[:8]}")

    async def ignore(_message) -> None:
        return None

    app.blueprint(AttendantInput(run_timers=False).blueprint(ignore), url_prefix="/webhooks/attendant")
    app.ctx.agent = service.agent
    return app


def bearer(role: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, 'boss' if role == 'admin' else 'ana', 'X', role, 3600)}"}


async def test_an_admin_erases_a_customer_whose_conversation_is_then_404(service, api):
    await everything_about(service, CUSTOMER)
    _, erased = await api.asgi_client.delete(f"/webhooks/attendant/customers/{CUSTOMER}", headers=bearer("admin"))
    _, conversation = await api.asgi_client.get(f"/webhooks/attendant/conversations/{CUSTOMER}", headers=bearer("admin"))
    _, again = await api.asgi_client.delete(f"/webhooks/attendant/customers/{CUSTOMER}", headers=bearer("admin"))
    assert (erased.status, erased.body) == (204, b"")
    assert conversation.status == 404
    assert (again.status, json.loads(again.body)) == (404, {"error": "not_found", "message": "No customer with that id."})


async def test_an_attendant_may_not_erase_and_nothing_is_erased(service, api):
    mine = await everything_about(service, CUSTOMER)
    _, refused = await api.asgi_client.delete(f"/webhooks/attendant/customers/{CUSTOMER}", headers=bearer("attendant"))
    _, unknown = await api.asgi_client.delete("/webhooks/attendant/customers/15550001111", headers=bearer("attendant"))
    _, anonymous = await api.asgi_client.delete(f"/webhooks/attendant/customers/{CUSTOMER}")
    assert (refused.status, refused.json) == (403, {"error": "forbidden", "message": "Only an admin may erase a customer."})
    assert unknown.status == 403  # an attendant learns nothing about who exists
    assert anonymous.status == 401
    assert all(rows_about(service.database, CUSTOMER, mine).values())


async def test_an_unknown_customer_is_404_for_an_admin(service, api):
    _, response = await api.asgi_client.delete("/webhooks/attendant/customers/15550001111", headers=bearer("admin"))
    assert response.status == 404 and response.json["error"] == "not_found"
