"""The team's figures (`GET /stats?days=N`), computed in SQL on SQLite and PostgreSQL alike.

The window is whole UTC days: today and the N-1 days before it. `conversations` counts the
distinct customers who wrote in the window; `handoffs` the requests for a person; `resolved`
the conversations resolved (0 while the schema has no resolve); `bot_only_rate` the share of
those conversations never handed to a person. First response: from a handoff request to the
first attendant message after it. Resolution: from a handoff request to the resolve after it.
Medians (p50) are the middle value, or the mean of the two middle values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Sequence

from supportdesk.platform.database import Database

DAY_SECONDS = 86_400
MAX_DAYS = 366
# Per UTC day number: SQLite's CAST truncates (a floor for these positive times); PostgreSQL's rounds, hence FLOOR.
_PER_DAY = {
    False: "SELECT CAST({column} / 86400 AS INTEGER) AS day, COUNT({counted}) AS n FROM {table} WHERE {column} >= ? GROUP BY 1",
    True: "SELECT CAST(FLOOR({column} / 86400) AS BIGINT) AS day, COUNT({counted}) AS n FROM {table} WHERE {column} >= ? "
          "GROUP BY 1",
}

_FIRST_RESPONSES = """
    SELECT MIN(o.created_at) - h.requested_at AS seconds
    FROM handoff_requests h JOIN outbox_messages o
      ON o.conversation_id = h.conversation_id AND o.origin = 'attendant' AND o.created_at >= h.requested_at
    WHERE h.requested_at >= ?
    GROUP BY h.id, h.requested_at
"""
_RESOLUTIONS = """
    SELECT c.resolved_at - MAX(h.requested_at) AS seconds
    FROM conversations c JOIN handoff_requests h ON h.conversation_id = c.id AND h.requested_at <= c.resolved_at
    WHERE c.resolved_at >= ?
    GROUP BY c.id, c.resolved_at
"""


def window_start(days: int, now: float) -> float:
    """Midnight UTC `days - 1` days before today."""
    return (int(now) // DAY_SECONDS - (days - 1)) * DAY_SECONDS


def _has_column(database: Database, table: str, column: str) -> bool:
    if database.is_postgres:
        rows = database.execute(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
            (table, column),
        )
    else:
        rows = database.execute("SELECT name FROM pragma_table_info(?) WHERE name = ?", (table, column))
    return bool(rows)


def _median(database: Database, durations_sql: str, params: Sequence[Any]) -> Optional[float]:
    """The median of the durations a query yields, picked in SQL (the one or two middle rows)."""
    [counted] = database.execute(f"SELECT COUNT(*) AS n FROM ({durations_sql}) d", params)
    count = int(counted["n"])
    if count == 0:
        return None
    middle = database.execute(
        f"SELECT seconds FROM ({durations_sql}) d ORDER BY seconds LIMIT ? OFFSET ?",
        (*params, 2 - count % 2, (count - 1) // 2),
    )
    return round(sum(float(row["seconds"]) for row in middle) / len(middle), 3)


def _per_day(database: Database, table: str, column: str, counted: str, since: float) -> Dict[int, int]:
    sql = _PER_DAY[database.is_postgres].format(table=table, column=column, counted=counted)
    return {int(row["day"]): int(row["n"]) for row in database.execute(sql, (since,))}


def _total(database: Database, sql: str, since: float) -> int:
    return int(database.execute(sql, (since,))[0]["n"])


def team_stats(database: Database, days: int, now: float) -> Dict[str, Any]:
    """The figures of the last `days` UTC days (today included), totals and per day."""
    since = window_start(days, now)
    can_resolve = _has_column(database, "conversations", "resolved_at")
    conversations = _total(database, "SELECT COUNT(DISTINCT conversation_id) AS n FROM inbox_messages WHERE received_at >= ?", since)
    handed = _total(database, "SELECT COUNT(DISTINCT conversation_id) AS n FROM handoff_requests WHERE requested_at >= ?", since)
    handoffs = _total(database, "SELECT COUNT(*) AS n FROM handoff_requests WHERE requested_at >= ?", since)
    resolved = _total(database, "SELECT COUNT(*) AS n FROM conversations WHERE resolved_at >= ?", since) if can_resolve else 0
    csat = None
    if _has_column(database, "satisfaction", "score"):
        [row] = database.execute(
            "SELECT AVG(score * 1.0) AS average FROM satisfaction WHERE answered_at >= ? AND score IS NOT NULL", (since,)
        )
        csat = round(float(row["average"]), 2) if row["average"] is not None else None
    return {
        "days": days,
        "since": dt.datetime.fromtimestamp(since, dt.timezone.utc).date().isoformat(),
        "conversations": conversations,
        "handoffs": handoffs,
        "resolved": resolved,
        "bot_only_rate": round(max(conversations - handed, 0) / conversations, 3) if conversations else None,
        "first_response_seconds_p50": _median(database, _FIRST_RESPONSES, (since,)),
        "resolution_seconds_p50": _median(database, _RESOLUTIONS, (since,)) if can_resolve else None,
        "csat_average": csat,
        "by_day": _by_day(database, since, days, can_resolve),
    }


def _by_day(database: Database, since: float, days: int, can_resolve: bool) -> List[Dict[str, Any]]:
    conversations = _per_day(database, "inbox_messages", "received_at", "DISTINCT conversation_id", since)
    handoffs = _per_day(database, "handoff_requests", "requested_at", "*", since)
    resolved = _per_day(database, "conversations", "resolved_at", "*", since) if can_resolve else {}
    first_day = int(since) // DAY_SECONDS
    return [
        {
            "date": dt.datetime.fromtimestamp(day * DAY_SECONDS, dt.timezone.utc).date().isoformat(),
            "conversations": conversations.get(day, 0),
            "handoffs": handoffs.get(day, 0),
            "resolved": resolved.get(day, 0),
        }
        for day in range(first_day, first_day + days)
    ]
