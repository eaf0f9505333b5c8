"""Concurrent webhook deliveries share one commit; one bad delivery fails only itself."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from supportdesk.messaging import inbox
from supportdesk.messaging.ingest_batch import DeliveryBatcher
from supportdesk.whatsapp.payload import parse_webhook
from tests.integration.service import text_delivery


class CountingTransactions:
    """Wraps a database's `transaction` to count the transactions that wrote."""

    def __init__(self, database) -> None:
        self.count = 0
        self._transaction = database.transaction
        database.transaction = self._counted

    @contextlib.contextmanager
    def _counted(self, immediate: bool = True):
        self.count += 1
        with self._transaction(immediate) as cursor:
            yield cursor


def delivery(index: int):
    return parse_webhook(text_delivery(f"55119444400{index:02d}", f"wamid.batch.{index}", f"hello {index}"))


async def test_concurrent_deliveries_are_stored_with_fewer_commits_and_each_gets_its_result(database):
    wake_ups = []
    batcher = DeliveryBatcher(database, lambda: wake_ups.append(transactions.count))
    transactions = CountingTransactions(database)
    results = await asyncio.gather(*(batcher.store(delivery(index), 1_900_000_000.0) for index in range(20)))

    assert [result.new_wamids for result in results] == [[f"wamid.batch.{index}"] for index in range(20)]
    assert transactions.count < 20
    assert wake_ups == list(range(1, transactions.count + 1))  # the workers are woken once per commit, after it
    again = await batcher.store(delivery(3), 1_900_000_001.0)
    assert (again.new_wamids, again.duplicates) == ([], 1)
    assert len(wake_ups) == transactions.count - 1  # a duplicate wakes nobody
    rows = database.execute("SELECT COUNT(*) AS n FROM inbox_messages WHERE state = 'pending'")
    assert rows[0]["n"] == 20


async def test_a_delivery_that_cannot_be_stored_fails_alone(database, monkeypatch):
    store = inbox._store_all

    def refuse_one(cursor, deliveries):
        if any(delivery.messages[0].wamid == "wamid.batch.2" for delivery, _ in deliveries):
            raise ValueError("bad delivery")
        return store(cursor, deliveries)

    monkeypatch.setattr(inbox, "_store_all", refuse_one)
    wake_ups = []
    batcher = DeliveryBatcher(database, lambda: wake_ups.append(1))
    results = await asyncio.gather(*(batcher.store(delivery(index), 1_900_000_000.0) for index in range(5)),
                                   return_exceptions=True)

    assert [type(result).__name__ for result in results] == ["StoredDelivery"] * 2 + ["ValueError"] + ["StoredDelivery"] * 2
    with pytest.raises(ValueError, match="bad delivery"):
        raise results[2]
    rows = database.execute("SELECT wamid FROM inbox_messages ORDER BY wamid")
    assert [row["wamid"] for row in rows] == ["wamid.batch.0", "wamid.batch.1", "wamid.batch.3", "wamid.batch.4"]
    assert len(wake_ups) == 4  # the batch failed; each delivery stored alone after it wakes the workers
