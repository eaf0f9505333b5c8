"""Every choice can be typed: the number or the title of an option we sent becomes its payload."""

import time
from typing import Any, Dict, List

import pytest

from supportdesk.messaging import outbox
from supportdesk.messaging.inbox import pending_rows, store_delivery
from supportdesk.messaging.turn_processor import TurnProcessor, drafts_for_replies
from supportdesk.messaging.typed_choices import choice_typed, comparable, offered_options, typed_choice_in
from supportdesk.platform.database import Database
from supportdesk.whatsapp.payload import parse_webhook
from tests.integration.service import text_delivery

KERRY = "16315551181"
YES_NO = [{"title": "Sim", "payload": "/affirm"}, {"title": "Não", "payload": "/deny"}]
SERVICES = [{"title": title, "payload": title} for title in (
    "Haircut", "Children's cut", "Blow-dry", "Colour", "Highlights & balayage", "Keratin smoothing",
    "Bridal hair", "Brows & lashes", "Manicure & pedicure", "Facial",
)]


def resolve_typed_choice(database: Database, conversation_id: str, text: str) -> str:
    """What a turn's start resolves `text` to, in a transaction of its own."""
    with database.transaction(immediate=False) as cursor:
        return typed_choice_in(cursor, conversation_id, text)


def _send(database: Database, reply: Dict[str, Any], answers: str = "wamid.in", state: str = "sent") -> None:
    """Queue `reply` as the turn processor does (rendered for WhatsApp) and mark it `state`."""
    with database.transaction() as cursor:
        outbox.enqueue(cursor, drafts_for_replies(KERRY, answers, [reply]), time.time())
        cursor.execute("UPDATE outbox_messages SET state = ? WHERE answers_wamid = ?", (state, answers))


@pytest.mark.parametrize(
    "typed, payload",
    [("1", "/affirm"), ("2", "/deny"), ("2.", "/deny"), ("sim", "/affirm"), ("SIM!", "/affirm"), ("nao", "/deny"),
     (" Não ", "/deny")],
)
def test_yes_no_buttons_take_their_number_and_title(database: Database, typed: str, payload: str) -> None:
    _send(database, {"text": "Posso enviar?", "buttons": YES_NO})
    assert resolve_typed_choice(database, KERRY, typed) == payload


@pytest.mark.parametrize("typed", ["3", "0", "sim pode ser", "talvez", "1 2", ""])
def test_anything_else_is_left_for_the_nlu(database: Database, typed: str) -> None:
    _send(database, {"text": "Posso enviar?", "buttons": YES_NO})
    assert resolve_typed_choice(database, KERRY, typed) == typed


@pytest.mark.parametrize(
    "typed, payload",
    [("4", "Colour"), ("10", "Facial"), ("colour", "Colour"), ("BLOW DRY", "Blow-dry"), ("childrens cut", "Children's cut"),
     ("highlights balayage", "Highlights & balayage"), ("manicure & pedicure", "Manicure & pedicure")],
)
def test_list_rows_take_their_number_and_title(database: Database, typed: str, payload: str) -> None:
    _send(database, {"text": "Which service?", "buttons": SERVICES})
    assert resolve_typed_choice(database, KERRY, typed) == payload


def test_a_shortened_list_row_is_matched_by_its_full_title() -> None:
    long_title = "Coloração completa com tonalizante"  # 34 characters: the row shows 23 and an ellipsis
    rendered = drafts_for_replies(KERRY, "w", [{"text": "Qual?", "buttons": [{"title": long_title, "payload": "/c"},
                                                                           {"title": "B", "payload": "/b"}]}])
    options = offered_options(rendered[0].message, None)
    assert choice_typed("coloracao completa com tonalizante", options) == "/c"
    assert choice_typed("Coloração completa com", options) is None


def test_numbered_menus_take_their_number_and_title(database: Database) -> None:
    buttons = [{"title": f"Option {number}", "payload": f"/pick{{\"n\":{number}}}"} for number in range(1, 13)]
    _send(database, {"text": "Pick one", "buttons": buttons})
    assert resolve_typed_choice(database, KERRY, "12") == '/pick{"n":12}'
    assert resolve_typed_choice(database, KERRY, "option 3") == '/pick{"n":3}'


def test_only_the_last_message_we_sent_counts(database: Database) -> None:
    _send(database, {"text": "Posso enviar?", "buttons": YES_NO}, answers="wamid.1")
    _send(database, {"text": "Pronto ✅"}, answers="wamid.2")
    assert resolve_typed_choice(database, KERRY, "1") == "1"
    assert resolve_typed_choice(database, KERRY, "sim") == "sim"


def test_a_message_the_customer_never_received_offers_nothing(database: Database) -> None:
    _send(database, {"text": "Oi"}, answers="wamid.1")
    _send(database, {"text": "Posso enviar?", "buttons": YES_NO}, answers="wamid.2", state="suppressed")
    assert resolve_typed_choice(database, KERRY, "1") == "1"


def test_an_attendant_message_after_the_buttons_ends_them(database: Database) -> None:
    _send(database, {"text": "Posso enviar?", "buttons": YES_NO})
    attendant = outbox.OutboxDraft(KERRY, {"type": "text", "text": {"body": "Olá, aqui é a Ana"}}, "attendant")
    with database.transaction() as cursor:
        outbox.enqueue(cursor, [attendant], time.time())
    assert resolve_typed_choice(database, KERRY, "sim") == "sim"


def test_no_message_yet_leaves_the_text(database: Database) -> None:
    assert resolve_typed_choice(database, KERRY, "1") == "1"


def test_two_options_with_the_same_words_are_not_guessed() -> None:
    options = offered_options(
        {"type": "interactive", "interactive": {"type": "button", "action": {"buttons": [
            {"type": "reply", "reply": {"id": "/a", "title": "Café"}},
            {"type": "reply", "reply": {"id": "/b", "title": "cafe"}},
        ]}}},
        None,
    )
    assert choice_typed("cafe", options) is None
    assert choice_typed("2", options) == "/b"


def test_comparable_drops_case_accents_punctuation_and_emoji() -> None:
    assert comparable("  Não, obrigado! 👍 ") == "nao obrigado"
    assert comparable("Blow-dry") == "blow dry"


def _rendered_types(replies: List[Dict[str, Any]]) -> List[str]:
    return [draft.message["interactive"]["type"] for draft in drafts_for_replies(KERRY, "w", replies)]


def test_the_cases_above_are_buttons_and_a_list() -> None:
    assert _rendered_types([{"text": "Posso enviar?", "buttons": YES_NO}, {"text": "Which?", "buttons": SERVICES}]) == [
        "button", "list",
    ]


def test_options_named_by_numbers_take_the_number_as_their_name(database: Database) -> None:
    """The free hours offered: "10" is ten o'clock (left for the form to read), not the tenth option."""
    hours = [{"title": f"{hour:02d}:00", "payload": f"{hour:02d}:00"} for hour in range(9, 18)]
    _send(database, {"text": "At what time?", "buttons": hours})
    assert resolve_typed_choice(database, KERRY, "9") == "9"
    assert resolve_typed_choice(database, KERRY, "10") == "10"
    assert resolve_typed_choice(database, KERRY, "10:00") == "10:00"
    assert resolve_typed_choice(database, KERRY, "09 00") == "09:00"


async def test_the_turn_hands_rasa_the_payload_of_the_typed_choice(database: Database) -> None:
    _send(database, {"text": "Posso enviar?", "buttons": YES_NO})
    store_delivery(database, parse_webhook(text_delivery(KERRY, "wamid.typed", "Sim!")))
    [row] = pending_rows(database, KERRY)
    handed: List[str] = []

    async def handle_message(message: Any) -> None:
        handed.append(message.text)

    async def no_events(conversation_id: str) -> List[Any]:
        return []

    await TurnProcessor(database, handle_message, no_events, no_events, None, lambda: None).process(row)
    assert handed == ["/affirm"]
