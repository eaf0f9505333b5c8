"""Typed answers to the choices we offered: "2", "sim" or "Blow-dry" become the option's payload.

Whatever the assistant last sent a customer decides: reply buttons and list rows (read back from the
outbox row's Graph message: id is the payload, title the words) and numbered text menus (the
`numbered_choices` column holds the payloads, the "1. Title" lines the words). The customer may type the
option's number ("2", "2." or "2)") or its title, in any case, with or without accents and
punctuation. Anything else is left as typed, for the NLU.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from typing import Any, Dict, List, Optional, Sequence, Tuple

from supportdesk.platform.database import Cursor
from supportdesk.whatsapp.rendering import ELLIPSIS, choice_from_number

MAX_TYPED_CHARS = 80  # longer than any option title (72): a sentence, not a choice
_MENU_LINE = re.compile(r"^(\d+)\. (.+)$")
_APOSTROPHES = re.compile("['\u2019\u02bc`]")  # "children's" and "childrens" are the same word
# Rows that never reached the customer offered nothing.
_UNSEEN_STATES = ("suppressed", "failed")


@dataclasses.dataclass(frozen=True)
class Option:
    """One option as the customer saw it: the words (title, and the full title of a shortened list row)."""

    payload: str
    titles: Tuple[str, ...]


def comparable(text: str) -> str:
    """Lower case, no accents, no punctuation or emoji, single spaces: how typed titles are compared."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text or ""))
    kept = "".join(
        char if unicodedata.category(char)[0] in "LN" else " "
        for char in decomposed
        if not unicodedata.combining(char)
    )
    return " ".join(kept.casefold().split())


def offered_options(message: Dict[str, Any], numbered_choices: Optional[Sequence[str]]) -> List[Option]:
    """The options an outbox message offered, in their order (empty when it offered none)."""
    interactive = message.get("interactive") if message.get("type") == "interactive" else None
    if isinstance(interactive, dict):
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            replies = [button.get("reply") or {} for button in action.get("buttons") or []]
            return [Option(str(reply.get("id")), (str(reply.get("title") or ""),)) for reply in replies]
        if interactive.get("type") == "list":
            rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
            return [Option(str(row.get("id")), _row_titles(row)) for row in rows]
    if not numbered_choices:
        return []
    body = ((message.get("text") or {}).get("body") or "") if message.get("type") == "text" else ""
    titles: Dict[int, str] = {}
    for line in body.splitlines():
        match = _MENU_LINE.match(line.strip())
        if match:
            titles[int(match.group(1))] = match.group(2)
    return [Option(payload, (titles.get(number, ""),)) for number, payload in enumerate(numbered_choices, start=1)]


def choice_typed(text: str, options: Sequence[Option]) -> Optional[str]:
    """The payload of the option `text` names by number or by title, or None."""
    if not options or len(text) > MAX_TYPED_CHARS:
        return None
    # Options named by numbers ("09:00", "10:00") are picked by those: a typed "10" is ten o'clock, not option 10.
    numbered_titles = any(title[:1].isdigit() for option in options for title in option.titles)
    by_number = None if numbered_titles else choice_from_number(text, tuple(option.payload for option in options))
    if by_number is not None:
        return by_number
    typed = comparable(text)
    if not typed:
        return None
    matches = {option.payload for option in options if typed in {comparable(title) for title in option.titles if title}}
    return matches.pop() if len(matches) == 1 else None


def typed_choice_in(cursor: Cursor, conversation_id: str, text: str) -> str:
    """`text`, or the payload of the option it names in the last message the customer received from us.

    Runs in the caller's transaction (a turn's start)."""
    if len(text) > MAX_TYPED_CHARS:
        return text
    row = cursor.execute(
        "SELECT message, numbered_choices FROM outbox_messages WHERE conversation_id = ? "
        f"AND state NOT IN ({', '.join('?' for _ in _UNSEEN_STATES)}) ORDER BY id DESC LIMIT 1",
        (conversation_id, *_UNSEEN_STATES),
    ).fetchone()
    if row is None:
        return text
    options = offered_options(_json(row["message"]) or {}, _json(row["numbered_choices"]))
    return choice_typed(text, options) or text


def _row_titles(row: Dict[str, Any]) -> Tuple[str, ...]:
    title = str(row.get("title") or "")
    if title.endswith(ELLIPSIS) and row.get("description"):
        return (str(row["description"]),)  # a shortened title: the full one is the description
    return (title,)


def _json(value: Any) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None
