"""Appointment requests: made by the scheduling form, answered by an attendant exactly once."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Dict, List, Optional

from supportdesk.messaging import stream_events
from supportdesk.platform.database import Database
from supportdesk.platform.settings import get_settings
from supportdesk.platform.timestamps import local_iso_time

APPOINTMENT_CREATED = "appointment.created"
APPOINTMENT_UPDATED = "appointment.updated"
ANSWERS = {"confirm": "confirmed", "decline": "declined"}


@dataclasses.dataclass(frozen=True)
class Appointment:
    """One stored request."""

    id: int
    conversation_id: str
    customer_name: Optional[str]
    starts_at: float
    starts_at_text: str
    service: Optional[str]
    note: Optional[str]
    status: str
    answered_by: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        """The request as the attendant API shows it."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "customer_name": self.customer_name,
            "starts_at": local_iso_time(self.starts_at, get_settings().business_timezone),  # CONTRACT: with its offset
            "starts_at_text": self.starts_at_text,
            "service": self.service,
            "note": self.note,
            "status": self.status,
            "answered_by": self.answered_by,
        }


_COLUMNS = "id, conversation_id, customer_name, starts_at, starts_at_text, service, note, status, answered_by"


def create_request(
    database: Database,
    conversation_id: str,
    starts_at: float,
    starts_at_text: str,
    service: Optional[str],
    note: Optional[str],
) -> Appointment:
    """Store a confirmed request (status `requested`) and tell the attendants' streams."""
    now = time.time()
    with database.transaction() as cursor:
        name_row = cursor.execute("SELECT customer_name FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        customer_name = name_row["customer_name"] if name_row else None
        row = cursor.execute(
            f"""INSERT INTO appointments (conversation_id, customer_name, starts_at, starts_at_text, service, note,
                                          status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 'requested', ?) RETURNING {_COLUMNS}""",
            (conversation_id, customer_name, starts_at, starts_at_text, service, note, now),
        ).fetchone()
        appointment = Appointment(**row)
        stream_events.publish(cursor, APPOINTMENT_CREATED, appointment.to_json(), conversation_id)
    return appointment


def list_appointments(database: Database, status: Optional[str] = None, limit: int = 200) -> List[Appointment]:
    """Requests, soonest first, optionally of one status."""
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = database.execute(f"SELECT {_COLUMNS} FROM appointments {where} ORDER BY starts_at, id LIMIT ?", (*params, limit))
    return [Appointment(**row) for row in rows]


def load_appointment(database: Database, appointment_id: int) -> Optional[Appointment]:
    """One request, or None."""
    rows = database.execute(f"SELECT {_COLUMNS} FROM appointments WHERE id = ?", (appointment_id,))
    return Appointment(**rows[0]) if rows else None


def answer_request(database: Database, appointment_id: int, status: str, attendant_id: str) -> Optional[Appointment]:
    """Move `requested` to `confirmed`/`declined`; None when it was already answered (or is unknown)."""
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            "UPDATE appointments SET status = ?, answered_by = ?, answered_at = ? WHERE id = ? AND status = 'requested'",
            (status, attendant_id, now, appointment_id),
        )
        if cursor.rowcount != 1:
            return None
        row = cursor.execute(f"SELECT {_COLUMNS} FROM appointments WHERE id = ?", (appointment_id,)).fetchone()
        appointment = Appointment(**row)
        stream_events.publish(cursor, APPOINTMENT_UPDATED, appointment.to_json(), appointment.conversation_id)
    return appointment
