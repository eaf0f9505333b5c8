"""Media past MEDIA_RETENTION_DAYS is deleted by the housekeeping loop; newer files and other rows stay."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from supportdesk.media.records import MediaRecord, insert_media, load_media
from supportdesk.media.retention import DAY_SECONDS, purge_media
from supportdesk.media.store import FileMediaStore, MediaNotFound, storage_key
from supportdesk.messaging.housekeeping import Retention, run_housekeeping_loop
from supportdesk.platform.database import Database

NOW = 1_800_000_000.0
CUSTOMER = "5511987654321"


def keep(database: Database, store: FileMediaStore, media_id: str, created_at: float) -> str:
    key = storage_key(CUSTOMER, media_id, created_at)
    store.put(key, media_id.encode(), "image/jpeg")
    os.utime(store.root / key, (created_at, created_at))
    with database.transaction() as cursor:
        insert_media(
            cursor,
            MediaRecord(media_id, CUSTOMER, f"wamid.{media_id}", "customer", storage_key=key, status="stored", created_at=created_at),
        )
    return key


def test_files_past_retention_go_and_their_rows_say_why(database: Database, tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path / "media")
    old = keep(database, store, "m_old", NOW - 91 * DAY_SECONDS)
    new = keep(database, store, "m_new", NOW - 89 * DAY_SECONDS)
    orphan = "0123456789abcdef/2026/01/m_orphan"
    store.put(orphan, b"left by a failed erasure", "image/jpeg")
    os.utime(store.root / orphan, (NOW - 100 * DAY_SECONDS,) * 2)
    assert purge_media(database, store, NOW, 90, batch_size=1) == {"media_files": 1, "media_orphans": 1}
    for gone in (old, orphan):
        with pytest.raises(MediaNotFound):
            store.size(gone)
    assert store.read(new) == b"m_new"
    record = load_media(database, "m_old")
    assert (record.status, record.error, record.storage_key) == ("failed", "expired: MEDIA_RETENTION_DAYS=90", None)
    assert load_media(database, "m_new").status == "stored"
    assert purge_media(database, store, NOW, 90) == {"media_files": 0, "media_orphans": 0}


async def test_the_housekeeping_loop_runs_the_media_purge(database: Database, tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path / "media")
    keep(database, store, "m_old", NOW - 91 * DAY_SECONDS)
    passes: asyncio.Queue[dict] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def also(now: float) -> dict:  # runs in a worker thread
        counts = purge_media(database, store, now, 90)
        loop.call_soon_threadsafe(passes.put_nowait, counts)
        return counts

    task = asyncio.create_task(run_housekeeping_loop(database, Retention(30, 30), clock=lambda: NOW, also=also))
    try:
        assert await asyncio.wait_for(passes.get(), 10) == {"media_files": 1, "media_orphans": 0}
    finally:
        task.cancel()
    assert load_media(database, "m_old").status == "failed"
