"""Rasa bot messages become WhatsApp message objects within the Cloud API limits."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List

import pytest

from supportdesk.platform.responses import get_responses
from supportdesk.whatsapp.rendering import (
    RenderedMessage,
    choice_from_number,
    render_bot_message,
    split_text,
)
from supportdesk.whatsapp.rendering import text_message as build_text_message
from tests.fixture_files import fixture_bytes

ENVELOPE_KEYS = ("messaging_product", "recipient_type", "to", "context")


def request_fixture(name: str) -> Dict[str, Any]:
    """A send-request fixture reduced to the message object (no envelope, no header or footer)."""
    request = json.loads(fixture_bytes(name))
    for key in ENVELOPE_KEYS:
        request.pop(key, None)
    if "interactive" in request:
        request["interactive"].pop("header", None)
        request["interactive"].pop("footer", None)
    return request


def messages(rendered: List[RenderedMessage]) -> List[Dict[str, Any]]:
    return [item.message for item in rendered]


def text_message(body: str, preview_url: bool = False) -> Dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": preview_url}}


def buttons(*titles: str) -> List[Dict[str, str]]:
    return [{"title": title, "payload": f"/choose{{\"n\":{number}}}"} for number, title in enumerate(titles)]


def paragraph(seed: int, length: int) -> str:
    """A paragraph of exactly `length` characters made of sentences."""
    sentence = f"Sentence {seed} about our salon opening hours and services. "
    body = (sentence * (length // len(sentence) + 1))[: length - 1]
    return body[:-1] + "s." if body.endswith(" ") else body + "."


# ---------------------------------------------------------------- text


def test_text_matches_the_fixture_shape() -> None:
    expected = request_fixture("send_text_request.json")
    reply = {"recipient_id": "16315551181", "text": expected["text"]["body"], "utter_action": "utter_slots"}
    assert render_bot_message(reply) == [RenderedMessage(expected)]


def test_preview_url_only_when_the_text_has_a_link() -> None:
    assert messages(render_bot_message({"text": "See https://example.com/menu"})) == [
        text_message("See https://example.com/menu", preview_url=True)
    ]
    assert messages(render_bot_message({"text": "See http://example.com"})) == [
        text_message("See http://example.com", preview_url=True)
    ]
    assert messages(render_bot_message({"text": "See example.com or ftp://x"})) == [
        text_message("See example.com or ftp://x")
    ]


@pytest.mark.parametrize(
    "body, preview",
    [
        ("See https://example.com/menu", True),
        ("See HTTPS://EXAMPLE.COM", True),  # schemes are case-insensitive (the desk's old copy said no)
        ("Type https:// and then the address", False),  # no URL after the scheme (the desk's old copy said yes)
        ("See example.com or ftp://x", False),
    ],
)
def test_the_one_text_builder_previews_a_link_exactly_when_there_is_a_url(body: str, preview: bool) -> None:
    assert build_text_message(body) == {"type": "text", "text": {"body": body, "preview_url": preview}}


def test_text_of_exactly_4096_characters_is_one_message() -> None:
    text = "a" * 4096
    assert messages(render_bot_message({"text": text})) == [text_message(text)]


def test_ten_thousand_characters_of_paragraphs_become_three_messages() -> None:
    paragraphs = [paragraph(number, 1500) for number in range(6)] + [paragraph(6, 988)]
    text = "\n\n".join(paragraphs)
    assert len(text) == 10_000
    rendered = render_bot_message({"text": text})
    bodies = [message["text"]["body"] for message in messages(rendered)]
    assert len(bodies) == 3
    assert all(len(body) <= 4096 for body in bodies)
    assert "\n\n".join(bodies) == text
    assert all(not body.startswith(("\n", " ")) and not body.endswith(("\n", " ")) for body in bodies)


def test_paragraph_split_is_greedy_and_exact() -> None:
    paragraphs = [paragraph(number, 1500) for number in range(6)] + [paragraph(6, 988)]
    text = "\n\n".join(paragraphs)
    assert split_text(text) == ["\n\n".join(paragraphs[0:2]), "\n\n".join(paragraphs[2:4]), "\n\n".join(paragraphs[4:])]


def test_without_paragraphs_the_split_is_at_a_sentence_end() -> None:
    first = "First sentence here. " * 190  # 3990 characters
    text = first + "Second part without a full stop before the limit " + "x" * 200
    parts = split_text(text)
    assert parts == [first.rstrip(), "Second part without a full stop before the limit " + "x" * 200]


def test_sentence_end_inside_closing_quotes_counts() -> None:
    text = "a" * 4000 + ' she said "done." then ' + "b" * 200
    assert split_text(text) == ["a" * 4000 + ' she said "done."', "then " + "b" * 200]


def test_without_sentences_the_split_is_at_whitespace() -> None:
    words = ("word " * 1000).strip()  # 4999 characters, no sentence ends
    parts = split_text(words)
    assert [len(part) for part in parts] == [4094, 904]
    assert " ".join(parts) == words


def test_an_unbroken_word_is_cut_hard() -> None:
    word = "x" * 9000
    bodies = [message["text"]["body"] for message in messages(render_bot_message({"text": word}))]
    assert [len(body) for body in bodies] == [4096, 4096, 808]
    assert "".join(bodies) == word


def test_no_break_spaces_are_not_split_points() -> None:
    text = "x" * 4000 + "\u00a0" + "y" * 200
    assert split_text(text) == [text[:4096], text[4096:]]


def test_emoji_count_as_one_character_each() -> None:
    text = "\U0001f600" * 4096
    assert messages(render_bot_message({"text": text})) == [text_message(text)]
    longer = "\U0001f600" * 4097
    assert [len(message["text"]["body"]) for message in messages(render_bot_message({"text": longer}))] == [4096, 1]


def test_hard_cut_keeps_zwj_sequences_and_accents_together() -> None:
    woman_haircut = "\U0001f487\u200d\u2640\ufe0f"  # four code points, one picture
    text = "x" * 4094 + woman_haircut + "y" * 10
    parts = split_text(text)
    assert parts == ["x" * 4094, woman_haircut + "y" * 10]
    accented = "x" * 4095 + "e\u0301" + "y"
    assert split_text(accented) == ["x" * 4095, "e\u0301y"]


def test_outer_whitespace_is_trimmed_and_blank_text_renders_nothing() -> None:
    assert messages(render_bot_message({"text": "  Hello!\n"})) == [text_message("Hello!")]
    assert render_bot_message({"text": "   \n "}) == []
    assert render_bot_message({"text": None, "buttons": None, "image": None, "custom": None}) == []
    assert render_bot_message({}) == []


# ---------------------------------------------------------------- buttons


def test_three_short_buttons_match_the_fixture_shape() -> None:
    expected = request_fixture("send_interactive_buttons_request.json")
    reply = {
        "text": expected["interactive"]["body"]["text"],
        "buttons": [
            {"title": button["reply"]["title"], "payload": button["reply"]["id"]}
            for button in expected["interactive"]["action"]["buttons"]
        ],
        "utter_action": "utter_greet",
    }
    assert render_bot_message(reply) == [RenderedMessage(expected)]


def test_button_ids_are_the_rasa_payloads() -> None:
    reply = {
        "text": "Which service?",
        "buttons": [
            {"title": "Yes", "payload": "/affirm"},
            {"title": "Haircut \u2702\ufe0f", "payload": '/choose_service{"service":"haircut"}'},
        ],
    }
    assert messages(render_bot_message(reply)) == [
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Which service?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "/affirm", "title": "Yes"}},
                        {
                            "type": "reply",
                            "reply": {"id": '/choose_service{"service":"haircut"}', "title": "Haircut \u2702\ufe0f"},
                        },
                    ]
                },
            },
        }
    ]


def test_quick_replies_render_like_buttons() -> None:
    reply = {"text": "Ok?", "quick_replies": [{"title": "Yes", "payload": "/affirm"}]}
    assert messages(render_bot_message(reply)) == messages(
        render_bot_message({"text": "Ok?", "buttons": [{"title": "Yes", "payload": "/affirm"}]})
    )


def test_button_without_payload_uses_its_title() -> None:
    rendered = messages(render_bot_message({"text": "Pick", "buttons": [{"title": "Monday"}]}))
    assert rendered[0]["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "Monday", "title": "Monday"}}
    ]


def test_empty_text_with_buttons_gets_a_default_body() -> None:
    rendered = messages(render_bot_message({"text": "", "buttons": buttons("Yes", "No")}))
    assert rendered[0]["interactive"]["body"] == {"text": "Please choose:"}


def test_button_title_of_20_characters_with_emoji_stays_a_button() -> None:
    title = "\U0001f487" * 20
    rendered = messages(render_bot_message({"text": "Pick", "buttons": buttons(title)}))
    assert rendered[0]["interactive"]["type"] == "button"
    assert rendered[0]["interactive"]["action"]["buttons"][0]["reply"]["title"] == title


def test_long_body_sends_the_overflow_first() -> None:
    intro = "Intro sentence. " * 100  # 1600 characters
    tail = "Please pick one of the options below."
    text = intro + "\n\n" + tail
    rendered = render_bot_message({"text": text, "buttons": buttons("Yes", "No")})
    assert messages(rendered)[0] == text_message(intro.rstrip())
    interactive = messages(rendered)[1]["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": tail}
    assert len(rendered) == 2


def test_long_body_without_paragraphs_keeps_the_longest_tail() -> None:
    text = "Sentence number one. " * 100  # 2100 characters
    rendered = messages(render_bot_message({"text": text, "buttons": buttons("Yes")}))
    overflow, body = rendered[0]["text"]["body"], rendered[1]["interactive"]["body"]["text"]
    assert len(body) <= 1024 and len(body) > 1000
    assert overflow + " " + body == text.strip()


def test_overflow_beyond_4096_is_split_into_several_texts() -> None:
    text = "x" * 6000
    rendered = messages(render_bot_message({"text": text, "buttons": buttons("Yes")}))
    assert [message["type"] for message in rendered] == ["text", "text", "interactive"]
    pieces = [rendered[0]["text"]["body"], rendered[1]["text"]["body"], rendered[2]["interactive"]["body"]["text"]]
    assert "".join(pieces) == text
    assert [len(piece) for piece in pieces] == [4096, 880, 1024]


# ---------------------------------------------------------------- lists


def test_four_buttons_become_a_list_in_the_fixture_shape() -> None:
    fixture = request_fixture("send_list_request.json")
    rows = [row for section in fixture["interactive"]["action"]["sections"] for row in section["rows"]]
    reply = {
        "text": fixture["interactive"]["body"]["text"],
        "buttons": [{"title": row["title"], "payload": row["id"]} for row in rows],
    }
    expected = fixture
    expected["interactive"]["action"] = {
        "button": "Options",
        "sections": [{"title": "Options", "rows": [{"id": row["id"], "title": row["title"]} for row in rows]}],
    }
    assert render_bot_message(reply) == [RenderedMessage(expected)]


def test_ten_buttons_are_a_list_and_eleven_a_numbered_menu() -> None:
    ten = messages(render_bot_message({"text": "Pick", "buttons": buttons(*[f"Slot {n}" for n in range(10)])}))
    assert ten[0]["interactive"]["type"] == "list"
    assert len(ten[0]["interactive"]["action"]["sections"][0]["rows"]) == 10
    eleven = messages(render_bot_message({"text": "Pick", "buttons": buttons(*[f"Slot {n}" for n in range(11)])}))
    assert eleven[0]["type"] == "text"


def test_titles_over_20_characters_make_a_list() -> None:
    title = "Corte e escova com Ana"  # 22 characters
    rendered = messages(render_bot_message({"text": "Pick", "buttons": [{"title": title, "payload": "/a"}]}))
    assert rendered == [
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Pick"},
                "action": {
                    "button": "Options",
                    "sections": [{"title": "Options", "rows": [{"id": "/a", "title": title}]}],
                },
            },
        }
    ]


def test_titles_over_24_characters_are_truncated_with_the_full_title_as_description() -> None:
    title = "Hidrata\u00e7\u00e3o profunda com argila verde"
    rendered = messages(render_bot_message({"text": "Pick", "buttons": [{"title": title, "payload": "/c"}]}))
    row = rendered[0]["interactive"]["action"]["sections"][0]["rows"][0]
    assert row == {"id": "/c", "title": "Hidrata\u00e7\u00e3o profunda com\u2026", "description": title}
    assert len(row["title"]) == 24


def test_truncation_drops_a_trailing_space_before_the_ellipsis() -> None:
    title = "Colora\u00e7\u00e3o completa com Carla e hidrata\u00e7\u00e3o"
    rendered = messages(render_bot_message({"text": "Pick", "buttons": [{"title": title, "payload": "/c"}]}))
    row = rendered[0]["interactive"]["action"]["sections"][0]["rows"][0]
    assert row == {"id": "/c", "title": "Colora\u00e7\u00e3o completa com\u2026", "description": title}


def test_duplicate_titles_make_a_list_because_buttons_must_differ() -> None:
    reply = {"text": "Pick", "buttons": [{"title": "Ana", "payload": "/a1"}, {"title": "Ana", "payload": "/a2"}]}
    assert messages(render_bot_message(reply))[0]["interactive"]["type"] == "list"


def test_every_interactive_message_stays_within_the_limits() -> None:
    for count in range(1, 11):
        for title_length in (1, 20, 21, 24, 25, 72):
            reply = {"text": "t" * 1500, "buttons": buttons(*[f"{n}" + "z" * (title_length - 1) for n in range(count)])}
            for message in messages(render_bot_message(reply)):
                if message["type"] == "text":
                    assert 1 <= len(message["text"]["body"]) <= 4096
                    continue
                interactive = message["interactive"]
                assert len(interactive["body"]["text"]) <= 1024
                if interactive["type"] == "button":
                    assert 1 <= len(interactive["action"]["buttons"]) <= 3
                    assert all(len(b["reply"]["title"]) <= 20 for b in interactive["action"]["buttons"])
                else:
                    rows = interactive["action"]["sections"][0]["rows"]
                    assert len(rows) <= 10 and len(interactive["action"]["button"]) <= 20
                    assert all(len(row["title"]) <= 24 and len(row.get("description", "")) <= 72 for row in rows)


# ---------------------------------------------------------------- numbered menus


def test_more_than_ten_buttons_become_a_numbered_menu() -> None:
    titles = [f"Slot {n}" for n in range(1, 13)]
    choices = [{"title": t, "payload": f"/pick{{\"slot\":{n}}}"} for n, t in enumerate(titles, 1)]
    reply = {"text": "Which time?", "buttons": choices}
    rendered = render_bot_message(reply)
    menu = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, 1))
    assert rendered == [
        RenderedMessage(
            text_message(f"Which time?\n\n{menu}"),
            tuple(f"/pick{{\"slot\":{n}}}" for n in range(1, 13)),
        )
    ]


def test_titles_longer_than_72_characters_become_a_numbered_menu() -> None:
    long_title = "A" * 73
    rendered = render_bot_message({"text": "Pick", "buttons": [{"title": long_title, "payload": "/long"}]})
    assert rendered == [RenderedMessage(text_message(f"Pick\n\n1. {long_title}"), ("/long",))]


def test_payload_longer_than_256_characters_becomes_a_numbered_menu() -> None:
    payload = "/choose" + "x" * 250
    rendered = render_bot_message({"text": "Pick", "buttons": [{"title": "Ok", "payload": payload}]})
    assert rendered == [RenderedMessage(text_message("Pick\n\n1. Ok"), (payload,))]


def test_payload_of_256_characters_is_still_a_button_id() -> None:
    payload = "/" + "x" * 255
    rendered = messages(render_bot_message({"text": "Pick", "buttons": [{"title": "Ok", "payload": payload}]}))
    assert rendered[0]["interactive"]["action"]["buttons"][0]["reply"]["id"] == payload


def test_duplicate_payloads_become_a_numbered_menu() -> None:
    reply = {"text": "Pick", "buttons": [{"title": "A", "payload": "/same"}, {"title": "B", "payload": "/same"}]}
    assert render_bot_message(reply) == [RenderedMessage(text_message("Pick\n\n1. A\n2. B"), ("/same", "/same"))]


def test_numbered_menu_without_text_gets_the_default_prompt() -> None:
    rendered = render_bot_message({"buttons": buttons(*[str(n) for n in range(11)])})
    assert rendered[0].message["text"]["body"].startswith("Please choose:\n\n1. 0\n2. 1\n")


def test_numbered_menu_round_trips_through_choice_from_number() -> None:
    payloads = [f"/choose_service{{\"service\":\"s{n}\"}}" for n in range(1, 16)]
    choices = [{"title": f"Service {n}", "payload": p} for n, p in enumerate(payloads, 1)]
    reply = {"text": "Services", "buttons": choices}
    (rendered,) = render_bot_message(reply)
    choices = rendered.numbered_choices
    assert choices is not None
    for line in rendered.message["text"]["body"].splitlines()[2:]:
        number, title = line.split(". ", 1)
        assert choice_from_number(number, choices) == payloads[int(title.split()[-1]) - 1]
    assert choice_from_number("2", choices) == payloads[1]


def test_long_numbered_menu_keeps_the_choices_on_the_last_part() -> None:
    reply = {"text": "x" * 4090, "buttons": buttons(*[f"Option {n}" for n in range(12)])}
    rendered = render_bot_message(reply)
    assert [item.numbered_choices is None for item in rendered] == [True, False]
    assert rendered[0].message["text"]["body"] == "x" * 4090
    assert rendered[1].message["text"]["body"].startswith("1. Option 0\n")


def test_media_after_a_numbered_menu_keeps_the_choices() -> None:
    reply = {"text": "Pick", "buttons": buttons(*[str(n) for n in range(11)]), "image": "https://x.test/a.png"}
    rendered = render_bot_message(reply)
    assert [item.message["type"] for item in rendered] == ["text", "image"]
    assert rendered[1].numbered_choices == rendered[0].numbered_choices is not None


@pytest.mark.parametrize("typed", ["2", " 2 ", "2.", "2)", "02", "2 .", "\u0662"])
def test_choice_from_number_accepts_a_typed_number(typed: str) -> None:
    assert choice_from_number(typed, ("/a", "/b", "/c")) == "/b"


@pytest.mark.parametrize("typed", ["0", "4", "-1", "two", "", "2 3", "2.5", "#2", "\u00b2", "2!"])
def test_choice_from_number_rejects_anything_else(typed: str) -> None:
    assert choice_from_number(typed, ("/a", "/b", "/c")) is None


def test_choice_from_number_with_no_choices() -> None:
    assert choice_from_number("1", ()) is None


# ---------------------------------------------------------------- media


def test_image_carries_the_text_as_caption() -> None:
    reply = {"text": "Our new salon", "image": "https://x.test/salon.jpg", "attachment": "https://x.test/salon.jpg"}
    assert render_bot_message(reply) == [
        RenderedMessage({"type": "image", "image": {"link": "https://x.test/salon.jpg", "caption": "Our new salon"}})
    ]


def test_image_without_text_has_no_caption() -> None:
    assert messages(render_bot_message({"image": "https://x.test/a.jpg"})) == [
        {"type": "image", "image": {"link": "https://x.test/a.jpg"}}
    ]


def test_long_text_goes_before_an_image_without_caption() -> None:
    text = "y" * 1025
    assert messages(render_bot_message({"text": text, "image": "https://x.test/a.jpg"})) == [
        text_message(text),
        {"type": "image", "image": {"link": "https://x.test/a.jpg"}},
    ]


def test_caption_of_exactly_1024_characters_stays_a_caption() -> None:
    text = "\u00e9" * 1024
    assert messages(render_bot_message({"text": text, "image": "https://x.test/a.jpg"})) == [
        {"type": "image", "image": {"link": "https://x.test/a.jpg", "caption": text}}
    ]


def test_buttons_with_an_image_send_the_image_after_without_caption() -> None:
    reply = {"text": "Like it?", "buttons": buttons("Yes"), "image": "https://x.test/a.jpg"}
    rendered = messages(render_bot_message(reply))
    assert [message["type"] for message in rendered] == ["interactive", "image"]
    assert rendered[0]["interactive"]["body"] == {"text": "Like it?"}
    assert rendered[1] == {"type": "image", "image": {"link": "https://x.test/a.jpg"}}


def test_attachment_url_becomes_a_document() -> None:
    assert messages(render_bot_message({"attachment": "https://x.test/prices.pdf"})) == [
        {"type": "document", "document": {"link": "https://x.test/prices.pdf"}}
    ]


@pytest.mark.parametrize("key", ["url", "link"])
def test_attachment_dict_becomes_a_document_with_filename_and_caption(key: str) -> None:
    reply = {
        "text": "Here are our prices.",
        "attachment": {key: "https://x.test/p.pdf", "filename": "prices.pdf", "caption": "Prices 2026"},
    }
    assert messages(render_bot_message(reply)) == [
        text_message("Here are our prices."),
        {
            "type": "document",
            "document": {"link": "https://x.test/p.pdf", "caption": "Prices 2026", "filename": "prices.pdf"},
        },
    ]


def test_attachment_with_a_long_caption_sends_it_as_text_first() -> None:
    caption = "c" * 1100
    reply = {"attachment": {"url": "https://x.test/p.pdf", "caption": caption}}
    assert messages(render_bot_message(reply)) == [
        text_message(caption),
        {"type": "document", "document": {"link": "https://x.test/p.pdf"}},
    ]


def test_attachment_without_a_link_renders_nothing() -> None:
    assert render_bot_message({"attachment": {"filename": "x.pdf"}}) == []


# ---------------------------------------------------------------- custom


def test_custom_whatsapp_object_is_passed_through_unchanged() -> None:
    template = request_fixture("send_template_request.json")
    reply = {"text": None, "custom": {"whatsapp": template}}
    rendered = render_bot_message(reply)
    assert rendered == [RenderedMessage(template)]
    assert rendered[0].message is not template  # the tracker's data is not shared


def test_custom_comes_after_the_text_as_in_rasa() -> None:
    location = {"type": "location", "location": {"latitude": -23.56, "longitude": -46.65, "name": "Sal\u00e3o"}}
    rendered = messages(render_bot_message({"text": "We are here:", "custom": {"whatsapp": location}}))
    assert rendered == [text_message("We are here:"), location]


def test_other_custom_payloads_render_nothing_and_log_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="supportdesk.whatsapp.rendering"):
        assert render_bot_message({"custom": {"blocks": [{"type": "section"}]}}) == []
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.DEBUG, "whatsapp.render.custom_ignored")
    ]


def test_elements_alone_render_nothing() -> None:
    assert render_bot_message({"elements": [{"title": "Card"}], "utter_action": "utter_cards"}) == []


def test_rendered_message_is_frozen() -> None:
    rendered = RenderedMessage(text_message("hi"))
    with pytest.raises(AttributeError):
        rendered.numbered_choices = ("/a",)  # type: ignore[misc]


def test_the_words_the_renderer_adds_follow_the_conversations_language():
    buttons = [{"title": f"Opção {n}", "payload": f"/choose{{\"n\": {n}}}"} for n in range(1, 5)]
    english = render_bot_message({"buttons": buttons})
    portuguese = render_bot_message({"buttons": buttons}, {"language": "pt-BR"})
    assert english[0].message["interactive"]["body"]["text"] == get_responses().text("utter_choice_prompt")
    assert portuguese[0].message["interactive"]["body"]["text"] == get_responses().text(
        "utter_choice_prompt", {"language": "pt-BR"}
    )
    assert portuguese[0].message["interactive"]["action"]["button"] == get_responses().text(
        "utter_choice_list_button", {"language": "pt-BR"}
    )
    assert portuguese[0].message != english[0].message
