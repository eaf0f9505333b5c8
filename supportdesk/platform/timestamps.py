"""How times appear in the API, the stream and the simulator: ISO 8601 UTC with milliseconds."""

from __future__ import annotations

import datetime as dt
from typing import Optional
from zoneinfo import ZoneInfo


def iso_time(timestamp: Optional[float]) -> Optional[str]:
    """A Unix time as ISO 8601 UTC with milliseconds (`2026-11-25T09:30:00.000Z`), or None."""
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def local_iso_time(timestamp: float, timezone: str) -> str:
    """A Unix time as ISO 8601 in `timezone`, with its offset (`2026-11-29T15:00:00-03:00`)."""
    return dt.datetime.fromtimestamp(timestamp, tz=ZoneInfo(timezone)).isoformat(timespec="seconds")
