"""Auto-assignment (`HANDOFF_AUTO_ASSIGN=round_robin`): a waiting customer goes to an available attendant.

The attendant chosen is the available one with the fewest open (`human`) conversations, ties
broken by who has been idle longest (got a conversation least recently). The assignment is
one conditional UPDATE on `status = 'waiting'`, so a claim or release racing it wins or loses
cleanly; the assignee gets a push of its own ("assigned to you", with the summary when there is one;
the team already had the waiting push). Off (`off`) by default: attendants claim.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, List, Optional

from supportdesk.attendant.alerts import courtesy_push, team_text
from supportdesk.attendant.push import PushMessage, PushSender
from supportdesk.attendant.workspace import available_attendants
from supportdesk.handoff.state import HandoffTimeouts, take_over
from supportdesk.handoff.summary import summary_push
from supportdesk.messaging.conversations import Conversation, publish_conversation
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone

logger = logging.getLogger(__name__)

ROUND_ROBIN = "round_robin"  # `HANDOFF_AUTO_ASSIGN`; the other value, `off`, leaves claiming to attendants


@dataclasses.dataclass(frozen=True)
class Assignment:
    """A conversation just given to an attendant."""

    conversation: Conversation
    attendant_id: str


def assigned_push(conversation: Conversation) -> PushMessage:
    """The assignee's push: the handoff push's body (summary or reason) under "assigned to you"."""
    waiting = summary_push(conversation)
    return PushMessage(waiting.type, conversation.id, team_text("utter_push_assigned_title"), waiting.body)


def _assign(database: Database, conversation_id: str, attendant_id: str, timeouts: HandoffTimeouts, now: float) -> Optional[Conversation]:
    with database.transaction() as cursor:
        if not take_over(cursor, conversation_id, attendant_id, timeouts, now, ("waiting",)):
            return None
        cursor.execute("UPDATE attendant_presence SET last_assigned_at = ? WHERE attendant_id = ?", (now, attendant_id))
        conversation = publish_conversation(cursor, conversation_id)
    return conversation


def assign_waiting(
    database: Database, timeouts: HandoffTimeouts, summaries_first: bool, now: Optional[float] = None
) -> List[Assignment]:
    """Give every waiting conversation (oldest wait first) to the least busy available attendant.

    With `summaries_first`, a wait is assigned only once its summary was attempted (so the push has it).
    """
    now = time.time() if now is None else now
    ready = " AND summary_for = waiting_since" if summaries_first else ""
    rows = database.execute(
        f"SELECT id FROM conversations WHERE status = 'waiting' AND assigned_to IS NULL{ready} ORDER BY waiting_since, id"
    )
    done: List[Assignment] = []
    for row in rows:
        candidates = available_attendants(database)
        if not candidates:
            break
        chosen = candidates[0].attendant_id
        conversation = _assign(database, row["id"], chosen, timeouts, now)
        if conversation is not None:
            done.append(Assignment(conversation, chosen))
            logger.info("handoff.assigned", extra={"conversation": mask_phone(row["id"]), "attendant": chosen})
    return done


async def run_assignment(
    database: Database, timeouts: HandoffTimeouts, summaries_first: bool, pushes: Callable[[], PushSender]
) -> List[Assignment]:
    """One pass of assignment, then a push to each assignee alone (a failed push is logged, never raised)."""
    done = await database.run(assign_waiting, database, timeouts, summaries_first)
    for assignment in done:
        conversation = assignment.conversation
        await courtesy_push(database, pushes, lambda conversation=conversation: assigned_push(conversation), assignment.attendant_id)
    return done
