"""Who is at work: each attendant's availability for new conversations, and how busy they are.

An attendant appears here the first time they call `PUT /me/availability`; until then they
are away (`available` false) and auto-assignment passes them by.
"""

from __future__ import annotations

import dataclasses
from typing import List

from supportdesk.platform.database import Database


@dataclasses.dataclass(frozen=True)
class Presence:
    """One attendant as auto-assignment sees them."""

    attendant_id: str
    name: str
    available: bool
    open_conversations: int
    idle_since: float  # when they last got a conversation (or said they were available)


def is_available(database: Database, attendant_id: str) -> bool:
    """Whether the attendant takes new conversations (false until they say so)."""
    rows = database.execute("SELECT available FROM attendant_presence WHERE attendant_id = ?", (attendant_id,))
    return bool(rows and rows[0]["available"])


def set_available(database: Database, attendant_id: str, name: str, available: bool, now: float) -> bool:
    """Record the attendant's availability (and the name from their token); returns it."""
    database.execute(
        "INSERT INTO attendant_presence (attendant_id, name, available, last_assigned_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (attendant_id) "
        "DO UPDATE SET name = excluded.name, available = excluded.available, updated_at = excluded.updated_at",
        (attendant_id, name, int(available), now, now),
    )
    return available


def available_attendants(database: Database) -> List[Presence]:
    """Available attendants, the least busy first (fewest open conversations, then longest idle)."""
    rows = database.execute(
        "SELECT p.attendant_id, p.name, p.available, COALESCE(p.last_assigned_at, p.updated_at) AS idle_since, "
        "(SELECT COUNT(*) FROM conversations c WHERE c.assigned_to = p.attendant_id AND c.status = 'human') "
        "AS open_conversations "
        "FROM attendant_presence p WHERE p.available = 1 "
        "ORDER BY open_conversations, idle_since, p.attendant_id"
    )
    return [
        Presence(row["attendant_id"], row["name"], bool(row["available"]), int(row["open_conversations"]),
                 float(row["idle_since"]))
        for row in rows
    ]

