"""Turn the assistant's Rasa bot messages into WhatsApp Cloud API message objects.

Pure functions: no I/O. Each result is a Graph "message object" without `messaging_product`
and `to`; the sender adds those. Limits follow `docs/whatsapp_contract.md` section 6.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from supportdesk.platform.responses import get_responses
from supportdesk.whatsapp.limits import (
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    CAPTION_MAX,
    INTERACTIVE_BODY_MAX,
    LIST_ROWS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_ID_MAX,
    ROW_TITLE_MAX,
    TEXT_MAX,
)

logger = logging.getLogger(__name__)

ELLIPSIS = "\u2026"

# Breaking whitespace: `\s` minus the no-break spaces, which ask not to be split at.
_BREAK = re.compile(r"[^\S\u00a0\u2007\u202f]+")
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"')\]\u00bb\u201d\u2019]*$")
_URL = re.compile(r"https?://\S", re.IGNORECASE)
_CHOICE = re.compile(r"^\s*(\d+)\s*[.)]?\s*$")
_GLUE = {"\u200d", "\u20e3"}  # zero-width joiner, combining keycap


@dataclass(frozen=True)
class RenderedMessage:
    """One Graph message object; `numbered_choices` maps a typed "n" back to payload n."""

    message: Dict[str, Any]
    numbered_choices: Optional[Tuple[str, ...]] = None


@dataclass(frozen=True)
class _Choice:
    title: str
    payload: str


def render_bot_message(reply: Dict[str, Any], slots: Optional[Mapping[str, Any]] = None) -> List[RenderedMessage]:
    """Render one bot message (as CollectingOutputChannel records it), in Rasa's channel order.

    `slots` (the conversation's, `language` above all) choose the words the renderer adds itself.
    """
    text = _clean(reply.get("text"))
    choices = _choices(reply.get("quick_replies") or reply.get("buttons") or [])
    image = _link(reply.get("image"))
    caption = text if image and not choices and len(text) <= CAPTION_MAX else ""
    rendered: List[RenderedMessage] = []
    if choices:
        rendered.extend(_render_choices(text, choices, _ChoiceWords.for_slots(slots or {})))
    elif not caption:
        rendered.extend(_texts(text))
    custom = reply.get("custom")
    if custom:
        rendered.extend(_render_custom(custom))
    if image:
        rendered.append(RenderedMessage(_media("image", image, caption)))
    attachment = reply.get("attachment")
    if attachment and attachment != reply.get("image"):  # Rasa copies `image` into `attachment`
        rendered.extend(_render_attachment(attachment))
    if reply.get("elements"):
        logger.debug("whatsapp.render.elements_ignored", extra={"reason": "no WhatsApp shape"})
    return _carry_choices(rendered)


def choice_from_number(text: str, choices: Tuple[str, ...]) -> Optional[str]:
    """The payload the customer picked by typing its number ("2", "2." or "2)"), or None."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    index = int(match.group(1))
    return choices[index - 1] if 1 <= index <= len(choices) else None


def text_message(body: str) -> Dict[str, Any]:
    """The one Graph text message object: a link preview exactly when the body has an http(s) URL."""
    return {"type": "text", "text": {"body": body, "preview_url": bool(_URL.search(body))}}


def split_text(text: str, limit: int = TEXT_MAX) -> List[str]:
    """Split text into parts of at most `limit` characters at the best boundary; only split whitespace is lost."""
    text = text.strip()
    parts: List[str] = []
    while len(text) > limit:
        head, text = _cut(text, limit, from_end=False)
        parts.append(head)
    if text:
        parts.append(text)
    return parts


def _clean(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _choices(buttons: Sequence[Any]) -> List[_Choice]:
    """Rasa buttons as (title, payload); a missing payload is the title, a missing title the payload."""
    choices = []
    for button in buttons:
        if not isinstance(button, dict):
            continue
        title, payload = _clean(button.get("title")), _clean(button.get("payload"))
        if title or payload:
            choices.append(_Choice(title or payload, payload or title))
    return choices


def _texts(text: str) -> List[RenderedMessage]:
    """Text messages of at most 4096 characters each."""
    return [RenderedMessage(text_message(part)) for part in split_text(text)]


def _render_choices(text: str, choices: List[_Choice], words: _ChoiceWords) -> List[RenderedMessage]:
    """Reply buttons, else a list, else a numbered text menu, as the choices allow."""
    titles = [choice.title for choice in choices]
    payloads = [choice.payload for choice in choices]
    text = text or words.prompt
    if len(set(payloads)) < len(payloads):
        return _numbered_menu(text, choices)
    if (
        len(choices) <= BUTTONS_MAX
        and len(set(titles)) == len(titles)
        and all(len(title) <= BUTTON_TITLE_MAX for title in titles)
        and all(len(payload) <= BUTTON_ID_MAX for payload in payloads)
    ):
        return _interactive(text, _buttons_action(choices), "button")
    if (
        len(choices) <= LIST_ROWS_MAX
        and all(len(title) <= ROW_DESCRIPTION_MAX for title in titles)
        and all(len(payload) <= ROW_ID_MAX for payload in payloads)
    ):
        return _interactive(text, _list_action(choices, words.list_button), "list")
    return _numbered_menu(text, choices)


@dataclass(frozen=True)
class _ChoiceWords:
    """Words the renderer adds itself (prompt, list button): domain responses like every other text."""

    prompt: str
    list_button: str

    @classmethod
    def for_slots(cls, slots: Mapping[str, Any]) -> _ChoiceWords:
        responses = get_responses()
        return cls(responses.text("utter_choice_prompt", slots), responses.text("utter_choice_list_button", slots))


def _interactive(text: str, action: Dict[str, Any], kind: str) -> List[RenderedMessage]:
    """Overflow text first, then the interactive message with a body of at most 1024 characters."""
    overflow, body = _split_tail(text, INTERACTIVE_BODY_MAX)
    message = {"type": "interactive", "interactive": {"type": kind, "body": {"text": body}, "action": action}}
    return _texts(overflow) + [RenderedMessage(message)]


def _buttons_action(choices: List[_Choice]) -> Dict[str, Any]:
    return {
        "buttons": [{"type": "reply", "reply": {"id": choice.payload, "title": choice.title}} for choice in choices]
    }


def _list_action(choices: List[_Choice], label: str) -> Dict[str, Any]:
    rows = []
    for choice in choices:
        row = {"id": choice.payload, "title": choice.title}
        if len(choice.title) > ROW_TITLE_MAX:
            row["title"] = choice.title[: ROW_TITLE_MAX - 1].rstrip() + ELLIPSIS
            row["description"] = choice.title
        rows.append(row)
    return {"button": label, "sections": [{"title": label, "rows": rows}]}


def _numbered_menu(text: str, choices: List[_Choice]) -> List[RenderedMessage]:
    """The text, then "1. Title" lines; the last part remembers the payloads in order."""
    menu = "\n".join(f"{number}. {choice.title}" for number, choice in enumerate(choices, start=1))
    messages = _texts(f"{text}\n\n{menu}")
    payloads = tuple(choice.payload for choice in choices)
    messages[-1] = RenderedMessage(messages[-1].message, payloads)
    return messages


def _carry_choices(messages: List[RenderedMessage]) -> List[RenderedMessage]:
    """Media sent after a numbered menu keep its choices, so the newest message still maps "2"."""
    carried: Optional[Tuple[str, ...]] = None
    result = []
    for rendered in messages:
        carried = rendered.numbered_choices or carried
        result.append(RenderedMessage(rendered.message, carried) if carried else rendered)
    return result


def _render_custom(custom: Any) -> List[RenderedMessage]:
    """`custom.whatsapp` is a ready Graph message object, passed through; other custom payloads are not for us."""
    if isinstance(custom, dict) and isinstance(custom.get("whatsapp"), dict):
        return [RenderedMessage(copy.deepcopy(custom["whatsapp"]))]
    keys = sorted(str(key) for key in custom) if isinstance(custom, dict) else []
    logger.debug("whatsapp.render.custom_ignored", extra={"keys": ",".join(keys)[:200]})
    return []


def _link(value: Any) -> str:
    if isinstance(value, dict):
        return _clean(value.get("url") or value.get("link"))
    return _clean(value)


def _media(kind: str, link: str, caption: str, filename: str = "") -> Dict[str, Any]:
    media: Dict[str, Any] = {"link": link}
    if caption:
        media["caption"] = caption
    if filename:
        media["filename"] = filename
    return {"type": kind, kind: media}


def _render_attachment(attachment: Any) -> List[RenderedMessage]:
    """A document from a URL or `{url|link, filename, caption}`; a caption over 1024 goes first as text."""
    link = _link(attachment)
    if not link:
        logger.debug("whatsapp.render.attachment_ignored", extra={"reason": "no link"})
        return []
    caption = _clean(attachment.get("caption")) if isinstance(attachment, dict) else ""
    filename = _clean(attachment.get("filename")) if isinstance(attachment, dict) else ""
    before: List[RenderedMessage] = []
    if len(caption) > CAPTION_MAX:
        before, caption = _texts(caption), ""
    return before + [RenderedMessage(_media("document", link, caption, filename))]


def _split_tail(text: str, limit: int) -> Tuple[str, str]:
    """(overflow, tail): the tail is the longest well-bounded end of `text` of at most `limit` characters."""
    text = text.strip()
    if len(text) <= limit:
        return "", text
    return _cut(text, limit, from_end=True)


def _cut(text: str, limit: int, from_end: bool) -> Tuple[str, str]:
    """Cut at a paragraph break, else a sentence end or line break, else any whitespace, else hard."""
    best: Dict[int, Tuple[int, int]] = {}
    for match in _BREAK.finditer(text):
        start, end = match.span()
        if not from_end and start > limit:
            break
        if start == 0 or end == len(text) or (from_end and len(text) - end > limit):
            continue
        run = match.group()
        sentence = "\n" in run or _SENTENCE_END.search(text, max(0, start - 8), start)
        rank = 2 if run.count("\n") >= 2 else 1 if sentence else 0
        if rank not in best or not from_end:  # from the end keep the first fit, from the front the last
            best[rank] = (start, end)
    if best:
        start, end = best[max(best)]
        return text[:start], text[end:]
    cut = _hard_cut(text, len(text) - limit if from_end else limit, step=1 if from_end else -1)
    return text[:cut], text[cut:]


def _hard_cut(text: str, index: int, step: int) -> int:
    """Move a hard cut off joined characters (combining marks, ZWJ sequences, skin tones) when close by."""
    for candidate in range(index, index + step * 32, step):
        if 0 < candidate < len(text) and not _joined(text, candidate):
            return candidate
    return index


def _joined(text: str, index: int) -> bool:
    after, before = text[index], text[index - 1]
    return (
        unicodedata.category(after) in ("Mn", "Mc", "Me")
        or after in _GLUE
        or before == "\u200d"
        or "\ufe00" <= after <= "\ufe0f"
        or "\U0001f3fb" <= after <= "\U0001f3ff"
    )
