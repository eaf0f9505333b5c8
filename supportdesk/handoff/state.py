"""The handoff state machine: `bot` → `waiting` → `human` → `bot` (and `closed`).

Every transition is one conditional UPDATE on the current status (and holder), so two
replicas racing for the same conversation get one winner; each change bumps `version` and
appends a `conversation.updated` stream event in the same transaction. Timer due times
live in the row; whoever moves a due time forward first owns that timer firing.

`waiting` is not silence: the assistant keeps answering until someone claims (`human`). A wait
started out of hours counts from the next opening; a wait that runs out goes back to `bot` and is
marked `missed_at` until a person follows it up (claims, answers or resolves it, or it is asked
for again).
"""

from __future__ import annotations

import dataclasses
import enum
import time
from typing import List, Optional

from supportdesk.messaging.conversations import Conversation, existing_conversation, find_conversation, publish_conversation
from supportdesk.platform.database import Cursor, Database
from supportdesk.platform.settings import Settings


class ClaimRefused(enum.Enum):
    """Why a claim or release did not happen."""

    NOT_FOUND = "not_found"
    HELD_BY_OTHER = "held_by_other"
    NOT_HELD = "not_held"


@dataclasses.dataclass(frozen=True)
class TransitionResult:
    """The conversation after the attempt, whether it changed, and why not."""

    conversation: Optional[Conversation]
    changed: bool
    refused: Optional[ClaimRefused] = None


@dataclasses.dataclass(frozen=True)
class HandoffTimeouts:
    """How long a customer waits for a claim, before giving up, and an idle holder's reminder."""

    claim_seconds: float = 300
    give_up_seconds: float = 1800
    idle_reminder_seconds: float = 600


class TimerKind(str, enum.Enum):
    """The timers of a handoff."""

    CLAIM_REMINDER = "claim_reminder"
    GIVE_UP = "give_up"
    IDLE_REMINDER = "idle_reminder"
    CLOSED = "closed"  # a waiting customer's timer came due out of hours: told when the team is back, once


@dataclasses.dataclass(frozen=True)
class DueTimer:
    """A timer this replica won and must act on."""

    kind: TimerKind
    conversation: Conversation


def request_handoff(
    database: Database,
    conversation_id: str,
    reason: Optional[str],
    timeouts: HandoffTimeouts,
    now: Optional[float] = None,
    reopens_at: Optional[float] = None,
) -> TransitionResult:
    """Put the conversation in the queue (`waiting`); a no-op when a person already has or awaits it.

    Out of hours (`reopens_at` is the next opening) the claim timers count from the opening.
    """
    now = time.time() if now is None else now
    start = max(now, reopens_at or now)
    with database.transaction() as cursor:
        cursor.execute(
            """INSERT INTO conversations (id, status, created_at, updated_at) VALUES (?, 'bot', ?, ?)
               ON CONFLICT (id) DO NOTHING""",
            (conversation_id, now, now),
        )
        cursor.execute(
            """UPDATE conversations SET status = 'waiting', handoff_reason = ?, assigned_to = NULL,
                   waiting_since = ?, claim_reminder_at = ?, give_up_at = ?, idle_reminder_at = NULL,
                   missed_at = NULL, version = version + 1, updated_at = ?
               WHERE id = ? AND status IN ('bot', 'closed')""",
            (reason, now, start + timeouts.claim_seconds, start + timeouts.give_up_seconds, now, conversation_id),
        )
        if cursor.rowcount != 1:
            return TransitionResult(existing_conversation(cursor, conversation_id), changed=False)
        cursor.execute(
            "INSERT INTO handoff_requests (conversation_id, reason, requested_at) VALUES (?, ?, ?)",
            (conversation_id, reason, now),
        )
        return TransitionResult(publish_conversation(cursor, conversation_id), changed=True)


def take_over(
    cursor: Cursor, conversation_id: str, attendant_id: str, timeouts: HandoffTimeouts, now: float, statuses: tuple
) -> bool:
    """Give the conversation to `attendant_id` if its status is one of `statuses` (inside the caller's
    transaction); closes the open handoff request as claimed. The one place a person takes a customer."""
    marks = ", ".join("?" for _ in statuses)
    cursor.execute(
        f"""UPDATE conversations SET status = 'human', assigned_to = ?, assigned_at = ?,
               claim_reminder_at = NULL, give_up_at = NULL, idle_reminder_at = ?, missed_at = NULL,
               version = version + 1, updated_at = ?
           WHERE id = ? AND status IN ({marks})""",
        (attendant_id, now, now + timeouts.idle_reminder_seconds, now, conversation_id, *statuses),
    )
    if cursor.rowcount != 1:
        return False
    close_open_request(cursor, conversation_id, "claimed", now, attendant_id)
    return True


def close_open_request(
    cursor: Cursor, conversation_id: str, outcome: str, now: float, attendant_id: Optional[str] = None
) -> None:
    """Record how the conversation's open handoff request ended (claimed, released, gave_up, resolved)."""
    cursor.execute(
        """UPDATE handoff_requests SET outcome = ?, attendant_id = COALESCE(?, attendant_id), closed_at = ?
           WHERE conversation_id = ? AND outcome = 'open'""",
        (outcome, attendant_id, now, conversation_id),
    )


def claim(
    database: Database, conversation_id: str, attendant_id: str, timeouts: HandoffTimeouts, now: Optional[float] = None
) -> TransitionResult:
    """Give the conversation to `attendant_id`; exactly one of racing claims wins (a re-claim is a no-op)."""
    now = time.time() if now is None else now
    with database.transaction() as cursor:
        if take_over(cursor, conversation_id, attendant_id, timeouts, now, ("bot", "waiting", "closed")):
            return TransitionResult(publish_conversation(cursor, conversation_id), changed=True)
        current = find_conversation(cursor, conversation_id)  # why not, decided in the same transaction
    if current is None:
        return TransitionResult(None, changed=False, refused=ClaimRefused.NOT_FOUND)
    if current.assigned_to == attendant_id:
        return TransitionResult(current, changed=False)
    return TransitionResult(current, changed=False, refused=ClaimRefused.HELD_BY_OTHER)


def release(
    database: Database, conversation_id: str, attendant_id: str, is_admin: bool, now: Optional[float] = None
) -> TransitionResult:
    """Give the conversation back to the assistant; only its holder (or an admin) may."""
    now = time.time() if now is None else now
    holder_clause = "" if is_admin else " AND assigned_to = ?"
    params = (now, conversation_id) if is_admin else (now, conversation_id, attendant_id)
    with database.transaction() as cursor:
        cursor.execute(
            f"""UPDATE conversations SET status = 'bot', assigned_to = NULL, assigned_at = NULL,
                    waiting_since = NULL, claim_reminder_at = NULL, give_up_at = NULL, idle_reminder_at = NULL,
                    version = version + 1, updated_at = ?
                WHERE id = ? AND status IN ('human', 'waiting'){holder_clause}""",
            params,
        )
        if cursor.rowcount == 1:
            close_open_request(cursor, conversation_id, "released", now, attendant_id)
            return TransitionResult(publish_conversation(cursor, conversation_id), changed=True)
        current = find_conversation(cursor, conversation_id)
    if current is None:
        return TransitionResult(None, changed=False, refused=ClaimRefused.NOT_FOUND)
    return TransitionResult(current, changed=False, refused=ClaimRefused.NOT_HELD)


def record_attendant_reply(
    cursor: Cursor, conversation_id: str, timeouts: HandoffTimeouts, now: float
) -> None:
    """A person answered: the request is followed up (no longer missed), and the holder's idle reminder moves back."""
    follow_up(cursor, conversation_id, now)
    cursor.execute(
        """UPDATE conversations SET last_attendant_reply_at = ?, idle_reminder_at = ?, updated_at = ?
           WHERE id = ? AND status = 'human'""",
        (now, now + timeouts.idle_reminder_seconds, now, conversation_id),
    )


def follow_up(cursor: Cursor, conversation_id: str, now: float) -> bool:
    """Clear the conversation's missed mark (a person followed it up); True when it was missed."""
    cursor.execute(
        "UPDATE conversations SET missed_at = NULL, version = version + 1, updated_at = ? "
        "WHERE id = ? AND missed_at IS NOT NULL",
        (now, conversation_id),
    )
    if cursor.rowcount != 1:
        return False
    publish_conversation(cursor, conversation_id)
    return True


_TIMER_QUERIES = {
    TimerKind.GIVE_UP: ("give_up_at", "waiting"),
    TimerKind.CLAIM_REMINDER: ("claim_reminder_at", "waiting"),
    TimerKind.IDLE_REMINDER: ("idle_reminder_at", "human"),
}


def take_due_timers(
    database: Database,
    timeouts: HandoffTimeouts,
    now: Optional[float] = None,
    limit: int = 50,
    reopens_at: Optional[float] = None,
) -> List[DueTimer]:
    """Timers due now, each taken by one compare-and-set so only one replica acts on it.

    Giving up returns the conversation to `bot` (marked missed) in the same update; reminders
    move their due time one period on. Out of hours (`reopens_at` is the next opening) nothing
    fires: the timers move to count from the opening, and a waiting customer is told once (`CLOSED`).
    """
    now = time.time() if now is None else now
    taken: List[DueTimer] = []
    for kind, (column, status) in _TIMER_QUERIES.items():
        rows = database.execute(
            f"SELECT id, {column} AS due FROM conversations WHERE status = ? AND {column} <= ? ORDER BY {column} LIMIT ?",
            (status, now, limit),
        )
        for row in rows:
            if reopens_at is not None:
                result = _postpone(database, column, status, row["id"], row["due"], timeouts, now, reopens_at)
            else:
                result = _take_timer(database, kind, column, status, row["id"], row["due"], timeouts, now)
            if result is not None:
                taken.append(result)
    return taken


def _postpone(
    database: Database,
    column: str,
    status: str,
    conversation_id: str,
    due: float,
    timeouts: HandoffTimeouts,
    now: float,
    reopens_at: float,
) -> Optional[DueTimer]:
    """Out of hours: restart the conversation's timers at the opening; a waiting one is returned as `CLOSED`."""
    with database.transaction() as cursor:
        if status == "waiting":
            cursor.execute(
                f"""UPDATE conversations SET claim_reminder_at = ?, give_up_at = ?, updated_at = ?
                    WHERE id = ? AND status = 'waiting' AND {column} = ?""",
                (reopens_at + timeouts.claim_seconds, reopens_at + timeouts.give_up_seconds, now, conversation_id, due),
            )
        else:
            cursor.execute(
                f"UPDATE conversations SET {column} = ?, updated_at = ? WHERE id = ? AND status = ? AND {column} = ?",
                (reopens_at + timeouts.idle_reminder_seconds, now, conversation_id, status, due),
            )
        if cursor.rowcount != 1 or status != "waiting":
            return None
        return DueTimer(TimerKind.CLOSED, existing_conversation(cursor, conversation_id))


def _take_timer(
    database: Database,
    kind: TimerKind,
    column: str,
    status: str,
    conversation_id: str,
    due: float,
    timeouts: HandoffTimeouts,
    now: float,
) -> Optional[DueTimer]:
    with database.transaction() as cursor:
        if kind is TimerKind.GIVE_UP:
            cursor.execute(
                """UPDATE conversations SET status = 'bot', assigned_to = NULL, waiting_since = NULL,
                       claim_reminder_at = NULL, give_up_at = NULL, missed_at = ?, version = version + 1, updated_at = ?
                   WHERE id = ? AND status = ? AND give_up_at = ?""",
                (now, now, conversation_id, status, due),
            )
        else:
            period = timeouts.claim_seconds if kind is TimerKind.CLAIM_REMINDER else timeouts.idle_reminder_seconds
            cursor.execute(
                f"UPDATE conversations SET {column} = ?, updated_at = ? WHERE id = ? AND status = ? AND {column} = ?",
                (now + max(period, 1.0), now, conversation_id, status, due),
            )
        if cursor.rowcount != 1:
            return None  # another replica took it
        if kind is TimerKind.GIVE_UP:
            close_open_request(cursor, conversation_id, "gave_up", now)
            return DueTimer(kind, publish_conversation(cursor, conversation_id))
        return DueTimer(kind, existing_conversation(cursor, conversation_id))


def timeouts_from(settings: Settings) -> HandoffTimeouts:
    """The handoff timeouts configured by `HANDOFF_CLAIM_TIMEOUT`, `HANDOFF_GIVE_UP`, `ATTENDANT_IDLE_REMINDER`."""
    return HandoffTimeouts(
        settings.handoff_claim_timeout_seconds,
        settings.handoff_give_up_seconds,
        settings.attendant_idle_reminder_seconds,
    )
