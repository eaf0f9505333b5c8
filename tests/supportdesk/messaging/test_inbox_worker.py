"""The inbox worker: a conversation's messages in order, later arrivals in the same lease, the lease given back."""

from __future__ import annotations

import asyncio
import time
from typing import List

from supportdesk.messaging import inbox
from supportdesk.messaging.inbox_worker import InboxWorker
from supportdesk.platform.database import Database
from supportdesk.whatsapp.payload import parse_webhook
from tests.supportdesk.messaging.test_inbox import KERRY, _text_delivery


async def test_messages_arriving_during_a_turn_are_taken_in_the_same_lease_which_is_given_back_at_the_end(
    database: Database,
) -> None:
    inbox.store_delivery(database, parse_webhook(_text_delivery("wamid.one", KERRY, 1795529100, "first")))
    seen: List[str] = []
    leases_during_turns: List[list] = []

    async def process(row: inbox.InboxRow) -> None:
        seen.append(row.wamid)
        leases_during_turns.append(database.execute("SELECT owner FROM conversation_leases"))
        if row.wamid == "wamid.one":  # the customer writes again while the first turn runs
            inbox.store_delivery(database, parse_webhook(_text_delivery("wamid.two", KERRY, 1795529200, "second")))
        with database.transaction() as cursor:
            inbox.mark_done(cursor, row.wamid, time.time())

    worker = InboxWorker(database, process, "replica-a", poll_seconds=0.05)
    running = asyncio.create_task(worker.run())
    try:
        for _ in range(1500):  # up to 30 s on a loaded machine; a pass takes milliseconds
            if len(seen) == 2 and not database.execute("SELECT owner FROM conversation_leases"):
                break
            await asyncio.sleep(0.02)
    finally:
        await worker.stop()
        running.cancel()

    assert seen == ["wamid.one", "wamid.two"]
    assert leases_during_turns == [[{"owner": "replica-a"}], [{"owner": "replica-a"}]]
    assert database.execute("SELECT owner FROM conversation_leases") == []


async def test_a_failed_turn_gives_the_lease_back_for_the_retry(database: Database) -> None:
    inbox.store_delivery(database, parse_webhook(_text_delivery("wamid.bad", KERRY, 1795529100, "first")))
    attempts: List[str] = []

    async def process(row: inbox.InboxRow) -> None:
        attempts.append(row.wamid)
        raise RuntimeError("the dialogue failed")

    worker = InboxWorker(database, process, "replica-a", poll_seconds=0.05)
    running = asyncio.create_task(worker.run())
    try:
        for _ in range(1500):  # up to 30 s on a loaded machine; a pass takes milliseconds
            if attempts and not database.execute("SELECT owner FROM conversation_leases"):
                break
            await asyncio.sleep(0.02)
    finally:
        await worker.stop()
        running.cancel()

    assert attempts[:1] == ["wamid.bad"]
    assert database.execute("SELECT owner FROM conversation_leases") == []
    [row] = database.execute("SELECT attempts, state FROM inbox_messages")
    assert row["attempts"] >= 1 and row["state"] == "pending"  # waits for its retry time
