"""Appointment reminders: due `APPOINTMENT_REMINDER_HOURS` before a confirmed appointment, sent once.

The due time is a column of the appointment (`reminder_at`), set when it is confirmed, so a
restart loses nothing. Whichever replica first moves `reminder_at` to NULL (a compare-and-set on
its old value) owns that reminder; the others find it taken. Inside the 24-hour window the
customer gets the domain's reminder text; outside it the approved `APPOINTMENT_REMINDER_TEMPLATE`
(parameters: name, time); nothing when the customer opted out or no template is configured.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Callable, List, Optional

from supportdesk.handoff.desk import AttendantDesk
from supportdesk.handoff.lifecycle import TemplateDraft, send_template_notice
from supportdesk.messaging.conversations import load_conversation
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone
from supportdesk.whatsapp.templates import TemplateCatalog

logger = logging.getLogger(__name__)

REMINDER_RESPONSE = "utter_appointment_reminder"


@dataclasses.dataclass(frozen=True)
class DueReminder:
    """A reminder this replica took and must send."""

    appointment_id: int
    conversation_id: str
    customer_name: Optional[str]
    starts_at: float
    starts_at_text: str


def schedule_reminder(database: Database, appointment_id: int, hours_before: float, now: float) -> Optional[float]:
    """Set a confirmed appointment's reminder due time (now when that is already past); None when it is over."""
    rows = database.execute("SELECT starts_at FROM appointments WHERE id = ? AND status = 'confirmed'", (appointment_id,))
    if not rows or rows[0]["starts_at"] <= now:
        return None
    due = max(rows[0]["starts_at"] - hours_before * 3600, now)
    database.execute(
        "UPDATE appointments SET reminder_at = ? WHERE id = ? AND status = 'confirmed' AND reminded_at IS NULL",
        (due, appointment_id),
    )
    return due


def take_due_reminders(database: Database, now: float, limit: int = 50) -> List[DueReminder]:
    """Reminders due now, each taken by one compare-and-set so only one replica sends it."""
    rows = database.execute(
        """SELECT id, conversation_id, customer_name, starts_at, starts_at_text, reminder_at FROM appointments
           WHERE status = 'confirmed' AND reminder_at <= ? ORDER BY reminder_at LIMIT ?""",
        (now, limit),
    )
    taken: List[DueReminder] = []
    for row in rows:
        with database.transaction() as cursor:
            cursor.execute(
                "UPDATE appointments SET reminder_at = NULL, reminded_at = ? WHERE id = ? AND reminder_at = ?",
                (now, row["id"], row["reminder_at"]),
            )
            won = cursor.rowcount == 1
        if won and row["starts_at"] > now:
            taken.append(DueReminder(row["id"], row["conversation_id"], row["customer_name"], row["starts_at"],
                                     row["starts_at_text"]))
    return taken


class ReminderSender:
    """Sends the due reminders of this replica: free text inside the window, the template outside."""

    def __init__(
        self,
        desk: AttendantDesk,
        catalog: TemplateCatalog,
        template_name: Optional[str],
        wake_sender: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._desk = desk
        self._wake_sender = wake_sender
        self._catalog = catalog
        self._template_name = template_name
        self._clock = clock

    async def run_due(self) -> int:
        """Send every reminder due now that this replica wins; returns how many were taken."""
        database = self._desk.database
        due = await database.run(take_due_reminders, database, self._clock())
        for reminder in due:
            try:
                await self._send(reminder)
            except Exception:
                logger.exception("appointment.reminder.failed", extra={"appointment": reminder.appointment_id})
        return len(due)

    async def _send(self, reminder: DueReminder) -> None:
        database = self._desk.database
        conversation = await database.run(load_conversation, database, reminder.conversation_id)
        fields = {"appointment": reminder.appointment_id, "conversation": mask_phone(reminder.conversation_id)}
        if conversation is None or conversation.opted_out:
            logger.info("appointment.reminder.skipped", extra={**fields, "reason": "opted_out"})
            return
        if conversation.window_open(self._clock()):
            await self._desk.send_system_message(
                reminder.conversation_id, REMINDER_RESPONSE, appointment_time=reminder.starts_at_text
            )
            logger.info("appointment.reminder.sent", extra={**fields, "kind": "text"})
            return
        template = await self._catalog.named(self._template_name, conversation.language) if self._template_name else None
        if template is None or template.parameters != 2:
            logger.info("appointment.reminder.skipped", extra={**fields, "reason": "window_closed_no_template"})
            return
        values = [reminder.customer_name or conversation.customer_name or "-", reminder.starts_at_text]
        draft = TemplateDraft(template.message(values), template.render(values))
        await database.run(send_template_notice, database, reminder.conversation_id, draft, self._clock())
        self._wake_sender()
        logger.info("appointment.reminder.sent", extra={**fields, "kind": "template"})

    async def run_loop(self, period_seconds: float = 30.0) -> None:
        """Check for due reminders every `period_seconds` until cancelled."""
        while True:
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("appointment.reminders.failed")
            await asyncio.sleep(period_seconds)
