"""Media retention: files older than `MEDIA_RETENTION_DAYS` are deleted from the store.

Each pass deletes the files of rows created before the cutoff (the row stays, `failed` with
`error` `expired: MEDIA_RETENTION_DAYS=<n>`, so the history still says a photo was sent and why it is gone), then sweeps
the store for files older than the cutoff that no row names (left by a failed erasure or upload).
Idempotent and batched, like the rest of the housekeeping; every replica may run it.
"""

from __future__ import annotations

import logging
from typing import Dict

from supportdesk.media.store import MediaStore
from supportdesk.platform.database import Database

logger = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600
BATCH_SIZE = 500


def purge_media(database: Database, store: MediaStore, now: float, retention_days: int, batch_size: int = BATCH_SIZE) -> Dict[str, int]:
    """Delete files past retention at `now`; counts of `media_files` (rows' files) and `media_orphans`."""
    cutoff = now - retention_days * DAY_SECONDS
    expired = f"expired: MEDIA_RETENTION_DAYS={retention_days}"
    files = 0
    while True:
        rows = database.execute(
            "SELECT id, storage_key FROM media_files WHERE storage_key IS NOT NULL AND created_at < ? ORDER BY created_at LIMIT ?",
            (cutoff, batch_size),
        )
        for row in rows:
            store.delete(row["storage_key"])
            with database.transaction() as cursor:
                cursor.execute(
                    "UPDATE media_files SET storage_key = NULL, status = 'failed', error = ? WHERE id = ?",
                    (expired, row["id"]),
                )
            files += 1
        if len(rows) < batch_size:
            break
    orphans = store.purge_older_than(cutoff)
    return {"media_files": files, "media_orphans": orphans}

