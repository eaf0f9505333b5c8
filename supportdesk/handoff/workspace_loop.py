"""This replica's loop for new waits: the summary (with its push), then auto-assignment when it is on."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from supportdesk.attendant.push import PushSender
from supportdesk.handoff.assignment import ROUND_ROBIN, run_assignment
from supportdesk.handoff.state import timeouts_from
from supportdesk.handoff.summary import run_summaries, summaries_enabled
from supportdesk.knowledge.team_writing import TrackerHistory
from supportdesk.platform.database import Database
from supportdesk.platform.settings import Settings

logger = logging.getLogger(__name__)

PERIOD_SECONDS = 1.0  # how late a summary or an assignment may start after the holding message


async def run_new_waits(
    database: Database, tracker_history: TrackerHistory, settings: Settings, pushes: Callable[[], PushSender]
) -> None:
    """One pass: summarise new waits, then assign waiting conversations if `HANDOFF_AUTO_ASSIGN=round_robin`."""
    await run_summaries(database, tracker_history, settings, pushes)
    if settings.handoff_auto_assign == ROUND_ROBIN:
        await run_assignment(database, timeouts_from(settings), summaries_enabled(settings), pushes)


async def run_new_waits_loop(
    database: Database, tracker_history: TrackerHistory, settings: Settings, pushes: Callable[[], PushSender],
    period_seconds: float = PERIOD_SECONDS,
) -> None:
    """`run_new_waits` every `period_seconds` until cancelled."""
    while True:
        try:
            await run_new_waits(database, tracker_history, settings, pushes)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("handoff.new_waits.failed")
        await asyncio.sleep(period_seconds)
