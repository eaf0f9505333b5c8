"""Attendants' devices and the pushes they get: who is told what, and a record of each push.

Push titles and bodies are domain responses (`utter_push_*` in `domain/handoff.yml` and
`domain/scheduling.yml`), rendered in the team's wording: the responses' default variations,
not the customer's language.

A push is a courtesy: a sender that raises is one `failed` push (logged, in `push_log`), and
`courtesy_push` keeps any failure at all out of the action or turn that asked for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

from supportdesk.attendant.push import PushMessage, PushResult, PushSender
from supportdesk.messaging.conversations import Conversation
from supportdesk.platform.database import Database
from supportdesk.platform.redaction import mask_phone
from supportdesk.platform.responses import get_responses

logger = logging.getLogger(__name__)

PLATFORMS = ("android", "ios")
MAX_TOKEN_CHARS = 4096
# Slots attendants' texts are rendered with: none of a customer's, so a response's default variation
# (the team's language) is chosen. The one place to give attendants a language of their own.
TEAM_SLOTS: Mapping[str, Any] = {}
DEFAULT_HANDOFF_REASON = "utter_handoff_reason_request_human"


def register_device(database: Database, token: str, platform: str, attendant_id: str) -> None:
    """Register (or move to this attendant) a device token; idempotent per token."""
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            """INSERT INTO attendant_devices (token, attendant_id, platform, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (token) DO UPDATE SET attendant_id = excluded.attendant_id,
                   platform = excluded.platform, updated_at = excluded.updated_at""",
            (token, attendant_id, platform, now, now),
        )


def device_tokens(database: Database, attendant_id: Optional[str] = None) -> List[str]:
    """Every registered token, or those of one attendant."""
    if attendant_id is None:
        rows = database.execute("SELECT token FROM attendant_devices ORDER BY token")
    else:
        rows = database.execute("SELECT token FROM attendant_devices WHERE attendant_id = ? ORDER BY token", (attendant_id,))
    return [row["token"] for row in rows]


def team_text(name: str, **values: Any) -> str:
    """Response `name` as attendants read it (pushes, handoff reasons), with `values` filled in."""
    return get_responses().text(name, TEAM_SLOTS, **values)


def customer_label(conversation: Conversation) -> str:
    """How a push names the customer: profile name or a masked number, never the full number."""
    return conversation.customer_name or mask_phone(conversation.id)


def handoff_push(conversation: Conversation, reminder: bool = False) -> PushMessage:
    """The push for a customer waiting for a person."""
    title = team_text("utter_push_handoff_reminder_title" if reminder else "utter_push_handoff_title")
    reason = conversation.handoff_reason or team_text(DEFAULT_HANDOFF_REASON)
    body = team_text("utter_push_handoff_body", customer=customer_label(conversation), reason=reason)
    return PushMessage("handoff", conversation.id, title, body)


def message_push(conversation: Conversation, preview: str) -> PushMessage:
    """The push to a holder whose customer wrote."""
    title = team_text("utter_push_message_title", customer=customer_label(conversation))
    return PushMessage("message", conversation.id, title, preview)


def idle_push(conversation: Conversation) -> PushMessage:
    """The reminder to a holder who has not answered for a while."""
    body = team_text("utter_push_idle_body", customer=customer_label(conversation))
    return PushMessage("reminder", conversation.id, team_text("utter_push_idle_title"), body)


def scheduling_push(conversation_id: str, customer: str, when: str, service: Optional[str]) -> PushMessage:
    """The push for a new appointment request."""
    if service:
        body = team_text("utter_push_scheduling_body_with_service", customer=customer, when=when, service=service)
    else:
        body = team_text("utter_push_scheduling_body", customer=customer, when=when)
    return PushMessage("scheduling", conversation_id, team_text("utter_push_scheduling_title"), body)


async def notify(
    database: Database, sender: PushSender, message: PushMessage, attendant_id: Optional[str] = None
) -> List[PushResult]:
    """Push to every device (or one attendant's); record each result; forget dead tokens. A crash is a failure."""
    tokens = await database.run(device_tokens, database, attendant_id)
    if not tokens:
        logger.info("push.no_devices", extra={**_message_fields(message), "attendant": attendant_id})
        await database.run(_record, database, message, attendant_id, None, "no_devices", None)
        return []
    results = await asyncio.gather(*(_send_or_fail(sender, token, message) for token in tokens))
    for result in results:
        await database.run(_record, database, message, attendant_id, result.token, result.outcome, result.error)
        if result.outcome == "unregistered":
            await database.run(_forget, database, result.token)
    return list(results)


async def courtesy_push(
    database: Database,
    sender: Callable[[], PushSender],
    message: Callable[[], PushMessage],
    attendant_id: Optional[str] = None,
) -> List[PushResult]:
    """Build and send a push for a caller that must go on (an action): any failure is logged, recorded, swallowed."""
    built: Optional[PushMessage] = None
    try:
        built = message()
        return await notify(database, sender(), built, attendant_id)
    except Exception as error:
        fields = _message_fields(built) if built is not None else {}
        logger.error("push.not_sent", extra={**fields, **_crash_fields(error)})
        if built is not None:
            with contextlib.suppress(Exception):  # the database may be why it failed
                await database.run(_record, database, built, attendant_id, None, "failed", _crash_text("not_sent", error))
        return []


async def _send_or_fail(sender: PushSender, token: str, message: PushMessage) -> PushResult:
    """`sender.send`, with any exception turned into a logged `failed` result (never the token or a number)."""
    try:
        return await sender.send(token, message)
    except Exception as error:
        logger.error("push.crashed", extra={**_message_fields(message), "device": token[-6:], **_crash_fields(error)})
        return PushResult(token=token, outcome="failed", error=_crash_text("crash", error))


def _message_fields(message: PushMessage) -> Dict[str, str]:
    return {"push_type": message.type, "conversation": mask_phone(message.conversation_id)}


def _crash_fields(error: BaseException) -> Dict[str, str]:
    """The exception's class and the line that raised it; not its text, which may hold a token or a number."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return {"error": type(error).__name__, "where": where}


def _crash_text(stage: str, error: BaseException) -> str:
    return f"{stage}: {type(error).__name__}"


def _record(
    database: Database,
    message: PushMessage,
    attendant_id: Optional[str],
    token: Optional[str],
    state: str,
    error: Optional[str],
) -> None:
    with database.transaction() as cursor:
        cursor.execute(
            """INSERT INTO push_log (kind, conversation_id, attendant_id, token_suffix, state, error, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (message.type, message.conversation_id, attendant_id, token[-6:] if token else None, state, error, time.time()),
        )


def _forget(database: Database, token: str) -> None:
    with database.transaction() as cursor:
        cursor.execute("DELETE FROM attendant_devices WHERE token = ?", (token,))
    logger.info("push.device_removed", extra={"device": token[-6:]})
