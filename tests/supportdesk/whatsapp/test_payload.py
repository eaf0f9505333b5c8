"""Webhook bodies (the shared fixtures, byte for byte) parse into the exact dataclasses."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

from supportdesk.whatsapp.payload import (
    DELIVERY_ORDER,
    Context,
    InboundMessage,
    Location,
    MalformedPayload,
    Media,
    MessageKind,
    Reaction,
    Reply,
    SystemChange,
    WebhookError,
    delivery_state,
    parse_webhook,
    states_before,
    status_rank,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp"
PHONE_NUMBER_ID = "106540352242922"
KERRY, KERRY_BSUID = "16315551181", "US.11740928365512097"
JOAO, JOAO_BSUID = "5511987654321", "BR.5930172846601935"
RECEIVED_AT = 1795529400.75  # a few minutes after the fixtures' messages were sent
OUR_REPLY_WAMID = "wamid.HBgLMTYzMTU1NTExODEVAgARGBI1NkFEQ0RGRkRFQTAzQjMwQjEA"
UNICODE_BODY = (
    "Ol\u00e1! Voc\u00eas t\u00eam hor\u00e1rio amanh\u00e3 \u00e0s 9h? Preciso de uma manuten\u00e7\u00e3o "
    "\U0001f487\u200d\u2640\ufe0f e depois um caf\u00e9 \u2615 \u2014 obrigado! \U0001f60a"
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def only_message(name: str) -> InboundMessage:
    delivery = parse_webhook(fixture_bytes(name))
    assert (len(delivery.messages), delivery.statuses, delivery.errors, delivery.ignored_fields) == (1, (), (), ())
    return delivery.messages[0]


def body_with_message(message: Dict[str, Any], contacts: Optional[list] = None) -> bytes:
    value: Dict[str, Any] = {"metadata": {"phone_number_id": PHONE_NUMBER_ID}, "messages": [message]}
    if contacts is not None:
        value["contacts"] = contacts
    return json.dumps({"entry": [{"changes": [{"field": "messages", "value": value}]}]}).encode()


# file: (wamid, customer_id, profile_name, timestamp, type, kind, user_text, preview)
SINGLE_MESSAGE_FIXTURES = {
    "inbound_audio_voice.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFEJCNTFENUY4MTg5NEY3NzVGQ0U5AA==", JOAO, "Jo\u00e3o Silva", 1795529230,
        "audio", MessageKind.AUDIO, "/share_media", "🎤 Voice message"),
    "inbound_button_template_reply.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ0NjhDREFGMzY0RUUzOEFDMTRCMAA=", KERRY, "Kerry Fisher", 1795529550,
        "button", MessageKind.BUTTON, "Confirm", "🔘 Confirm"),
    "inbound_contacts.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBRBRkE0MzEyQzgzMTBDRTg0ODVCNwA=", KERRY, "Kerry Fisher", 1795529430,
        "contacts", MessageKind.CONTACTS, "/share_media", "👤 Contact: Maria Oliveira"),
    "inbound_document.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDJCN0M0MDQ0RDEwMTY1QUQ5RUY5AA==", JOAO, "Jo\u00e3o Silva", 1795529310,
        "document", MessageKind.DOCUMENT, "Segue o comprovante do Pix", "📄 Document: Segue o comprovante do Pix"),
    "inbound_image.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBRGODM5REVCNjI4QUJENDMyMUE2MAA=", KERRY, "Kerry Fisher", 1795529195,
        "image", MessageKind.IMAGE, "This is the style I'd like", "📷 Photo: This is the style I'd like"),
    "inbound_interactive_button_reply.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBREMjBEMkY5NkUzNkRBODkzNzVEOQA=", KERRY, "Kerry Fisher", 1795529470,
        "interactive", MessageKind.INTERACTIVE, "Talk to a person", "🔘 Talk to a person"),
    "inbound_interactive_list_reply.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDI0RkMzOUI0NDlDRDQxNEQ2OEE0AA==", JOAO, "Jo\u00e3o Silva", 1795529510,
        "interactive", MessageKind.INTERACTIVE, "Qui 26/11 \u00e0s 09:00", "🔘 Qui 26/11 \u00e0s 09:00"),
    "inbound_location.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFEQ4M0JGODE3NzQxRUQxNTU3RjMyAA==", JOAO, "Jo\u00e3o Silva", 1795529390,
        "location", MessageKind.LOCATION, "/share_location", "📍 Location: MASP - Museu de Arte de S\u00e3o Paulo"),
    "inbound_order.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFEJDOEJBNzMwRDUyQTYyOUU4MUYyAA==", JOAO, "Jo\u00e3o Silva", 1795529630,
        "order", MessageKind.ORDER, "/place_order", "🛒 Order (2 items)"),
    "inbound_reaction.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDMxNTA3MkU1OEY3NDhFRDA2ODI3AA==", JOAO, "Jo\u00e3o Silva", 1795529590,
        "reaction", MessageKind.REACTION, None, "Reacted \u2764\ufe0f"),
    "inbound_referral_ad.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDI2ODkwQ0EwNThFOEE2NzZDQzQwAA==", JOAO, "Jo\u00e3o Silva", 1795529750,
        "text", MessageKind.TEXT, "Oi! Vi o an\u00fancio da escova progressiva. Ainda est\u00e1 com desconto?",
        "Oi! Vi o an\u00fancio da escova progressiva. Ainda est\u00e1 com desconto?"),
    "inbound_sticker.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ2RkZBOUI1OEJGMDQ5OEI4MTJENgA=", KERRY, "Kerry Fisher", 1795529350,
        "sticker", MessageKind.STICKER, "/share_media", "💟 Sticker"),
    "inbound_system_number_change.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDgxNDc2MjRBMkVCQzFGQkZFMjM1AA==", JOAO, None, 1795529670,
        "system", MessageKind.SYSTEM, None, "⚙️ Customer changed phone number"),
    "inbound_text.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", KERRY, "Kerry Fisher", 1795529100,
        "text", MessageKind.TEXT, "Hi! Do you have any openings for a haircut this Thursday afternoon?",
        "Hi! Do you have any openings for a haircut this Thursday afternoon?"),
    "inbound_text_forwarded.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBQ2QzA1MzhDQTkyNkU0QTc1NTRGMAA=", KERRY, "Kerry Fisher", 1795529790,
        "text", MessageKind.TEXT, "My friend sent me this, is the offer still valid? 20% off color on weekdays",
        "My friend sent me this, is the offer still valid? 20% off color on weekdays"),
    "inbound_text_unicode.json": (
        "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFEVDQUU2QTBBRTAzNDhGOTJDMTQwAA==", JOAO, "Jo\u00e3o Silva", 1795529140,
        "text", MessageKind.TEXT, UNICODE_BODY, UNICODE_BODY[:79] + "…"),
    "inbound_unsupported.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBREQ0ZCNjkyRDI5QUZCMEQ5MTVCNgA=", KERRY, "Kerry Fisher", 1795529710,
        "unsupported", MessageKind.UNSUPPORTED, "/share_media", "❓ Unsupported message (poll)"),
    "inbound_video.json": (
        "wamid.HBgLMTYzMTU1NTExODEVAgASGBREOENDRUJGQTdEOTMxQjgxOTc2OQA=", KERRY, "Kerry Fisher", 1795529270,
        "video", MessageKind.VIDEO, "Short clip of the curls I want", "🎥 Video: Short clip of the curls I want"),
}  # fmt: skip


def test_every_inbound_fixture_has_a_parsing_test() -> None:
    covered = set(SINGLE_MESSAGE_FIXTURES) | {"inbound_batch_three_messages.json"}
    assert {path.name for path in FIXTURES.glob("inbound_*.json")} == covered


@pytest.mark.parametrize("name", sorted(SINGLE_MESSAGE_FIXTURES))
def test_fixture_parses_into_its_message(name: str) -> None:
    wamid, customer_id, profile_name, timestamp, type_, kind, user_text, preview = SINGLE_MESSAGE_FIXTURES[name]
    message = only_message(name)
    assert (message.wamid, message.phone_number_id, message.customer_id, message.wa_id) == (
        wamid, PHONE_NUMBER_ID, customer_id, customer_id,
    )  # fmt: skip
    assert (message.profile_name, message.timestamp) == (profile_name, timestamp)
    assert (message.type, message.kind) == (type_, kind)
    assert (message.user_text, message.needs_reply, message.preview) == (user_text, user_text is not None, preview)
    assert message.raw == json.loads(fixture_bytes(name))["entry"][0]["changes"][0]["value"]["messages"][0]
    assert len(message.preview) <= 80


@pytest.mark.parametrize(
    "name, media",
    [
        ("inbound_image.json", Media("1066183251789124", "image/jpeg", "nfO/rx4tuaxgh/5FZtQgxkE3+fVryyVMcHKoYjIuaqo=",
                                     "This is the style I'd like")),
        ("inbound_audio_voice.json", Media("7651124751718884", "audio/ogg; codecs=opus",
                                           "d7scggeebOL9uQdRH7UwqigVsjLbb6/sUHvGSfJxG8Q=", voice=True)),
        ("inbound_video.json", Media("6931919991635894", "video/mp4", "f9O19jsFha4//pz1nYkFucmc+F/vQ64MscZXsq5XZyM=",
                                     "Short clip of the curls I want")),
        ("inbound_document.json", Media("4052838536698256", "application/pdf",
                                        "4xO8VDKYbHva5LkfExEhl4JKzUOBUmSc88a0YMTMJg4=", "Segue o comprovante do Pix",
                                        "comprovante_pix_24-11.pdf")),
        ("inbound_sticker.json", Media("9112239609719962", "image/webp",
                                       "TThZ1rlcDtQh+dMK0z6O3RGB7bGKvWFoAIBDDsYZHMo=")),
    ],
)  # fmt: skip
def test_media_fields(name: str, media: Media) -> None:
    message = only_message(name)
    assert message.media == media
    assert (message.text, message.location, message.reply, message.context) == (None, None, None, None)
    assert message.metadata()["media"] == {
        "media_id": media.media_id, "mime_type": media.mime_type, "sha256": media.sha256, "caption": media.caption,
        "filename": media.filename, "voice": media.voice, "animated": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    "name, reply, replied_to",
    [
        ("inbound_interactive_button_reply.json", Reply("button_reply", "talk_to_human", "Talk to a person"),
         "wamid.HBgLMTYzMTU1NTExODEVAgARGBIwQUU3MUM1RjM5RTE5MTA5NTIA"),
        ("inbound_interactive_list_reply.json", Reply("list_reply", "slot_2026-11-26T09:00",
                                                      "Qui 26/11 \u00e0s 09:00", "Corte e escova com Ana"),
         "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjAwNTJBMzhCOEREMjc3QkRFRgA="),
        ("inbound_button_template_reply.json", Reply("button", "CONFIRM_APPOINTMENT_8841", "Confirm"),
         "wamid.HBgLMTYzMTU1NTExODEVAgARGBI3OERBN0JCOEEwQUVDRTNFNDcA"),
    ],
)  # fmt: skip
def test_replies_and_the_message_they_answer(name: str, reply: Reply, replied_to: str) -> None:
    message = only_message(name)
    assert (message.reply, message.context) == (reply, Context(replied_to))
    assert (message.metadata()["reply_to"], message.metadata()["forwarded"]) == (replied_to, False)


@pytest.mark.parametrize(
    "interactive, user_text",
    [
        ({"type": "button_reply", "button_reply": {"id": "/request_human", "title": "Talk to a person"}},
         "/request_human"),
        ({"type": "list_reply", "list_reply": {"id": "slot_1", "title": "Thursday 9:00"}}, "Thursday 9:00"),
        ({"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{\"a\": 1}"}}, "Sent"),
        ({"type": "button_reply"}, "/share_media"),
    ],
)  # fmt: skip
def test_a_designer_payload_id_starting_with_slash_reaches_rasa(interactive: dict, user_text: str) -> None:
    message = {"from": KERRY, "id": "wamid.X", "timestamp": "1", "type": "interactive", "interactive": interactive}
    assert parse_webhook(body_with_message(message)).messages[0].user_text == user_text


def test_template_button_payload_starting_with_slash_reaches_rasa() -> None:
    message = {"from": KERRY, "id": "wamid.X", "type": "button", "button": {"payload": "/confirm", "text": "Yes"}}
    assert parse_webhook(body_with_message(message)).messages[0].user_text == "/confirm"


@pytest.mark.parametrize("typed, user_text", [("/restart", "restart"), ("  //request_human now", "request_human now"),
                                              ("/", None), ("a/b", "a/b")])  # fmt: skip
def test_customer_typed_text_never_becomes_a_rasa_intent_payload(typed: str, user_text: Optional[str]) -> None:
    message = {"from": KERRY, "id": "wamid.X", "type": "text", "text": {"body": typed}}
    parsed = parse_webhook(body_with_message(message)).messages[0]
    assert (parsed.text, parsed.user_text) == (typed, user_text)


def test_location() -> None:
    message = only_message("inbound_location.json")
    place = "Av. Paulista, 1578 - Bela Vista, S\u00e3o Paulo - SP, 01310-200"
    assert message.location == Location(-23.561414, -46.655881, "MASP - Museu de Arte de S\u00e3o Paulo", place)
    assert message.metadata()["location"] == {
        "latitude": -23.561414, "longitude": -46.655881, "name": "MASP - Museu de Arte de S\u00e3o Paulo",
        "address": place,
    }  # fmt: skip


def test_shared_contact_cards_stay_raw() -> None:
    message = only_message("inbound_contacts.json")
    assert len(message.contacts) == 1
    assert message.contacts[0]["name"]["formatted_name"] == "Maria Oliveira"
    assert message.contacts[0]["phones"] == [{"phone": "+1 631-555-0143", "wa_id": "16315550143", "type": "CELL"}]


def test_order() -> None:
    message = only_message("inbound_order.json")
    assert message.order is not None
    assert (message.order["catalog_id"], len(message.order["product_items"])) == ("194836987003835", 2)
    assert message.metadata()["order"] == message.order
    assert message.metadata()["order"] is not message.order


def test_reaction_to_our_message() -> None:
    reaction = only_message("inbound_reaction.json").reaction
    assert reaction == Reaction("wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjExMzU3RjhBMzBENzc2MUExMQA=", "\u2764\ufe0f", False)


@pytest.mark.parametrize("reaction", [{"message_id": "wamid.OURS", "emoji": ""}, {"message_id": "wamid.OURS"}])
def test_reaction_removed_when_emoji_is_empty_or_absent(reaction: dict) -> None:
    item = {"from": JOAO, "id": "wamid.R", "timestamp": "5", "type": "reaction", "reaction": reaction}
    body = body_with_message(item)
    message = parse_webhook(body).messages[0]
    assert (message.reaction, message.user_text, message.preview) == (
        Reaction("wamid.OURS", None, True), None, "Removed a reaction",
    )  # fmt: skip


def test_system_number_change_without_contacts() -> None:
    message = only_message("inbound_system_number_change.json")
    assert message.system == SystemChange(
        "user_changed_number", "User Jo\u00e3o Silva changed from 5511987654321 to 5511912345678",
        "5511912345678", "BR.7719304468251106",
    )  # fmt: skip
    assert (message.bsuid, message.needs_reply) == (None, False)
    assert "5511912345678" not in message.preview


def test_unsupported_carries_its_errors() -> None:
    message = only_message("inbound_unsupported.json")
    assert message.errors == (
        WebhookError(
            131051, "Message type unknown", "Message type unknown", "Message type is currently not supported."
        ),
    )
    assert message.unsupported_type == "poll"


def test_unknown_type_becomes_unsupported_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    item = {"from": KERRY, "id": "wamid.P2", "timestamp": "1795529107", "type": "poll_v2", "poll_v2": {"question": "secret?"}}
    with caplog.at_level(logging.WARNING, logger="supportdesk.whatsapp.payload"):
        message = parse_webhook(body_with_message(item)).messages[0]
    assert (message.type, message.kind, message.user_text) == ("poll_v2", MessageKind.UNSUPPORTED, "/share_media")
    assert (message.preview, message.raw) == ("❓ Unsupported message (poll_v2)", item)
    assert [(record.getMessage(), record.type) for record in caplog.records] == [
        ("whatsapp.payload.unknown_type", "poll_v2")
    ]
    assert "secret" not in caplog.text


def test_referral_from_a_click_to_whatsapp_ad() -> None:
    message = only_message("inbound_referral_ad.json")
    assert message.referral is not None
    assert message.referral["ctwa_clid"] == (
        "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
    )
    assert (message.referral["source_type"], message.metadata()["referral"]) == ("ad", message.referral)


def test_forwarded_context() -> None:
    message = only_message("inbound_text_forwarded.json")
    assert message.context == Context(None, forwarded=True)
    assert (message.metadata()["forwarded"], message.metadata()["reply_to"]) == (True, None)


def test_unicode_text_decoded_from_escapes() -> None:
    message = only_message("inbound_text_unicode.json")
    assert message.text == UNICODE_BODY
    assert message.profile_name == "Jo\u00e3o Silva"


def test_metadata_of_a_text_message_is_exact_and_json_serialisable() -> None:
    metadata = only_message("inbound_text.json").metadata()
    assert metadata == {
        "profile_name": "Kerry Fisher", "message_type": "text", "timestamp": 1795529100, "wa_id": KERRY,
        "bsuid": KERRY_BSUID, "reply_to": None, "forwarded": False, "location": None, "media": None, "reply": None,
        "referral": None, "order": None,
    }  # fmt: skip
    assert json.loads(json.dumps(metadata)) == metadata


def test_batch_matches_contacts_by_wa_id_not_position() -> None:
    document = json.loads(fixture_bytes("inbound_batch_three_messages.json"))
    reordered = json.loads(fixture_bytes("inbound_batch_three_messages.json"))
    reordered["entry"][0]["changes"][0]["value"]["contacts"].reverse()
    for body in (fixture_bytes("inbound_batch_three_messages.json"), json.dumps(reordered).encode()):
        messages = parse_webhook(body).messages
        assert [(m.customer_id, m.bsuid, m.profile_name, m.timestamp, m.text) for m in messages] == [
            (KERRY, KERRY_BSUID, "Kerry Fisher", 1795529830, "Also, how much is a trim?"),
            (JOAO, JOAO_BSUID, "Jo\u00e3o Silva", 1795529831, "Boa tarde, voc\u00eas abrem no feriado?"),
            (KERRY, KERRY_BSUID, "Kerry Fisher", 1795529833, "And do you take walk-ins?"),
        ]
    assert [m.raw for m in parse_webhook(fixture_bytes("inbound_batch_three_messages.json")).messages] == (
        document["entry"][0]["changes"][0]["value"]["messages"]
    )


def test_message_without_phone_is_keyed_by_bsuid() -> None:
    item = {"from_user_id": KERRY_BSUID, "id": "wamid.B", "timestamp": "9", "type": "text", "text": {"body": "hi"}}
    contacts = [
        {"profile": {"name": "Someone Else"}, "wa_id": JOAO},
        {"profile": {"name": "Kerry"}, "user_id": KERRY_BSUID},
    ]
    message = parse_webhook(body_with_message(item, contacts)).messages[0]
    assert (message.customer_id, message.wa_id, message.bsuid) == (KERRY_BSUID, None, KERRY_BSUID)
    assert message.profile_name == "Kerry"


def test_message_without_bsuid_is_matched_to_its_contact_by_wa_id() -> None:
    item = {"from": KERRY, "id": "wamid.A", "timestamp": "9", "type": "text", "text": {"body": "hi"}}
    contacts = [
        {"profile": {"name": "Jo\u00e3o"}, "wa_id": JOAO, "user_id": JOAO_BSUID},
        {"profile": {"name": "Kerry"}, "wa_id": KERRY, "user_id": KERRY_BSUID},
    ]
    message = parse_webhook(body_with_message(item, contacts)).messages[0]
    assert (message.customer_id, message.wa_id, message.bsuid) == (KERRY, KERRY, KERRY_BSUID)
    assert message.profile_name == "Kerry"


def test_legacy_unknown_type_is_unsupported_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    item = {"from": KERRY, "id": "wamid.U", "timestamp": "1795529109", "type": "unknown", "errors": [{"code": 131051}]}
    with caplog.at_level(logging.WARNING, logger="supportdesk.whatsapp.payload"):
        message = parse_webhook(body_with_message(item)).messages[0]
    assert (message.kind, message.user_text, message.errors) == (
        MessageKind.UNSUPPORTED, "/share_media", (WebhookError(131051),),
    )  # fmt: skip
    assert (message.preview, caplog.records) == ("❓ Unsupported message", [])


def test_missing_optional_keys_never_crash() -> None:
    item = {"from": KERRY, "id": "wamid.M", "type": "image", "image": {}, "context": {"id": 5}}
    message = parse_webhook(body_with_message(item, contacts=[{"wa_id": KERRY}]), received_at=RECEIVED_AT).messages[0]
    assert (message.profile_name, message.timestamp, message.media, message.user_text, message.preview) == (
        None, int(RECEIVED_AT), Media(None), "/share_media", "📷 Photo",
    )  # fmt: skip
    assert message.context == Context("5")


def test_messages_without_id_or_sender_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    body = body_with_message({"id": "wamid.NOBODY", "type": "text", "text": {"body": "hi"}})
    with caplog.at_level(logging.WARNING, logger="supportdesk.whatsapp.payload"):
        assert parse_webhook(body).messages == ()
    assert [(record.getMessage(), record.reason) for record in caplog.records] == [
        ("whatsapp.payload.message_skipped", "no_sender")
    ]


def test_parsing_is_stable_and_raw_is_not_compared() -> None:
    first, second = only_message("inbound_image.json"), only_message("inbound_image.json")
    assert first == second and hash(first) == hash(second)
    assert "raw" not in repr(first)


# file: (status, timestamp, recipient_user_id, errors)
STATUS_FIXTURES = {
    "status_sent.json": ("sent", 1795529161, KERRY_BSUID, ()),
    "status_delivered.json": ("delivered", 1795529162, KERRY_BSUID, ()),
    "status_read.json": ("read", 1795529190, KERRY_BSUID, ()),
    "status_failed_131047.json": ("failed", 1795788300, None, (WebhookError(
        131047, "Re-engagement message", "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"),)),
}  # fmt: skip


def test_every_status_fixture_has_a_parsing_test() -> None:
    assert {path.name for path in FIXTURES.glob("status_*.json")} == set(STATUS_FIXTURES)


@pytest.mark.parametrize("name", sorted(STATUS_FIXTURES))
def test_status_fixture(name: str) -> None:
    status_name, timestamp, recipient_user_id, errors = STATUS_FIXTURES[name]
    delivery = parse_webhook(fixture_bytes(name))
    assert (delivery.messages, delivery.errors, delivery.ignored_fields, len(delivery.statuses)) == ((), (), (), 1)
    status = delivery.statuses[0]
    failed = status_name == "failed"
    failed_wamid = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEkNFNUQ1QzhCNTc0RjhBMUM3RgA="
    assert status.wamid == (failed_wamid if failed else OUR_REPLY_WAMID)
    assert (status.status, status.timestamp, status.recipient_id) == (status_name, timestamp, JOAO if failed else KERRY)
    assert (status.recipient_user_id, status.errors, status.callback_data) == (recipient_user_id, errors, None)
    assert status.phone_number_id == PHONE_NUMBER_ID
    if failed:
        assert (status.pricing, status.conversation) == (None, None)
    else:
        assert status.pricing == {"billable": False, "pricing_model": "PMP", "category": "service",
                                  "type": "free_customer_service"}  # fmt: skip
        assert status.conversation is not None and status.conversation["id"] == "3c5e1f7a9b2d4e6f8a0b1c2d3e4f5a6b"


def test_status_callback_data() -> None:
    status = {"id": "wamid.S", "status": "played", "timestamp": "1795529103", "biz_opaque_callback_data": "inbox:42"}
    body = json.dumps({"entry": [{"changes": [{"field": "messages", "value": {"statuses": [status]}}]}]}).encode()
    parsed = parse_webhook(body).statuses[0]
    assert (parsed.status, parsed.timestamp) == ("played", 1795529103)
    assert (parsed.callback_data, parsed.recipient_id) == ("inbox:42", None)


@pytest.mark.parametrize(
    "status, rank", [("sent", 1), ("delivered", 2), ("read", 3), ("played", 3), ("failed", 0), ("deleted", 0)]
)
def test_status_rank(status: str, rank: int) -> None:
    assert status_rank(status) == rank


@pytest.mark.parametrize(
    "status, state, before",
    [
        ("sent", "sent", ()),
        ("delivered", "delivered", ("sent",)),
        ("read", "read", ("sent", "delivered")),
        ("played", "read", ("sent", "delivered")),
        ("failed", None, ()),
        ("deleted", None, ()),
    ],
)
def test_the_one_delivery_order(status: str, state: Optional[str], before: Tuple[str, ...]) -> None:
    assert DELIVERY_ORDER == ("sent", "delivered", "read")
    assert (delivery_state(status), states_before(status)) == (state, before)


def test_value_errors_and_other_fields_in_one_delivery() -> None:
    error = {"code": 130429, "title": "Rate limit hit", "message": "Rate limit hit", "error_data": {"details": "slow"}}
    changes = [
        {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID}, "errors": [error]}},
        {"field": "message_template_status_update", "value": {}},
    ]
    delivery = parse_webhook(json.dumps({"entry": [{"id": "1", "changes": changes}, {"id": "2"}]}).encode())
    assert delivery.errors == (WebhookError(130429, "Rate limit hit", "Rate limit hit", "slow"),)
    assert delivery.ignored_fields == ("account_update", "message_template_status_update")
    assert (delivery.messages, delivery.statuses) == ((), ())


def test_entries_and_changes_are_all_read() -> None:
    first = json.loads(fixture_bytes("inbound_text.json"))
    first["entry"].append(json.loads(fixture_bytes("status_read.json"))["entry"][0])
    first["entry"][0]["changes"].append(json.loads(fixture_bytes("inbound_image.json"))["entry"][0]["changes"][0])
    delivery = parse_webhook(json.dumps(first).encode())
    assert [message.type for message in delivery.messages] == ["text", "image"]
    assert [status.status for status in delivery.statuses] == ["read"]


def test_lone_surrogate_escape_is_replaced() -> None:
    body = b'{"entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "id": "w", ' \
           b'"type": "text", "text": {"body": "cut \\ud83d"}}]}}]}]}'  # fmt: skip
    message = parse_webhook(body).messages[0]
    assert message.text == "cut \ufffd"
    assert message.raw["text"]["body"].encode("utf-8") == "cut \ufffd".encode("utf-8")


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b"[]", "body is not a JSON object"),
        (b'"entry"', "body is not a JSON object"),
        (b"{}", "body has no entry list"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "body has no entry list"),
        (b'{"entry": null}', "body has no entry list"),
        (b'{"entry": [], "x": "\xff\xfe"}', "body is not UTF-8"),
        (b'{"entry": [], "n": NaN}', "body is not valid JSON"),
        (b"[" * 100_000, "body is not valid JSON"),
        (b'{"entry": [], "x": ' + b"[" * 64 + b"]" * 64 + b"}", "body is nested too deeply"),  # 65 levels
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as raised:
        parse_webhook(body)
    assert str(raised.value) == reason
    assert isinstance(raised.value, ValueError)


def test_empty_entry_list_is_an_empty_delivery() -> None:
    delivery = parse_webhook(b'{"object": "whatsapp_business_account", "entry": []}')
    assert (delivery.messages, delivery.statuses, delivery.errors, delivery.ignored_fields) == ((), (), (), ())


@pytest.mark.parametrize(
    "timestamp, kept",
    [
        ("1230768000", True),  # 2009-01-01, the earliest plausible time
        ("1230767999", False),
        (1795529100, True),
        (1795529100.0, True),
        (str(int(RECEIVED_AT) + 86400), True),  # Meta's clock a day ahead at most
        (str(int(RECEIVED_AT) + 86401), False),
        (str(2**63), False),
        ("253402300800", False),  # year 10000: datetime cannot show it
        ("-5", False),
        ("1795529100.5", False),
        (1795529100.5, False),
        ("1e9", False),
        ("", False),
        (None, False),
        (False, False),
        ({"seconds": 1795529100}, False),
        ("9" * 5000, False),
    ],
)
def test_an_impossible_message_timestamp_becomes_the_time_of_receipt(
    timestamp: Any, kept: bool, caplog: pytest.LogCaptureFixture
) -> None:
    item = {"from": KERRY, "id": "wamid.T", "timestamp": timestamp, "type": "text", "text": {"body": "hi"}}
    with caplog.at_level(logging.WARNING, logger="supportdesk.whatsapp.payload"):
        message = parse_webhook(body_with_message(item), received_at=RECEIVED_AT).messages[0]
    if kept:
        assert (message.timestamp, message.raw, caplog.records) == (int(float(timestamp)), item, [])
    else:
        assert (message.timestamp, message.raw) == (int(RECEIVED_AT), {**item, "timestamp": str(int(RECEIVED_AT))})
        assert [(record.getMessage(), record.wamid) for record in caplog.records] == [
            ("whatsapp.payload.timestamp_replaced", "wamid.T")
        ]


def test_a_status_with_an_impossible_timestamp_is_skipped_and_the_next_kept(caplog: pytest.LogCaptureFixture) -> None:
    statuses = [
        {"id": "wamid.S1", "status": "read", "timestamp": str(2**63), "recipient_id": KERRY},
        {"id": "wamid.S2", "status": "read", "timestamp": "1795529103", "recipient_id": KERRY},
    ]
    body = json.dumps({"entry": [{"changes": [{"field": "messages", "value": {"statuses": statuses}}]}]}).encode()
    with caplog.at_level(logging.WARNING, logger="supportdesk.whatsapp.payload"):
        parsed = parse_webhook(body, received_at=RECEIVED_AT).statuses
    assert [(status.wamid, status.timestamp) for status in parsed] == [("wamid.S2", 1795529103)]
    assert [(r.getMessage(), r.wamid, r.reason, r.problem) for r in caplog.records] == [
        ("whatsapp.payload.status_skipped", "wamid.S1", "timestamp_unusable", "out_of_range")
    ]
    assert KERRY not in caplog.text


@pytest.mark.parametrize(
    "code, parsed, problem",
    [
        (131047, 131047, None),
        ("131047", 131047, None),
        (None, None, None),
        (2**31 - 1, 2**31 - 1, None),
        (2**31, None, "out_of_range"),  # PostgreSQL's INTEGER stops at 2^31 - 1
        (2**63, None, "out_of_range"),
        (-1, None, "out_of_range"),
        (1e300, None, "out_of_range"),
        ("131047x", None, "not_a_whole_number"),
        ([131047], None, "not_a_whole_number"),
        (True, None, "not_a_whole_number"),
    ],
)
def test_an_impossible_error_code_becomes_unknown(
    code: Any, parsed: Optional[int], problem: Optional[str], caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"entry": [{"changes": [{"field": "messages", "value": {"errors": [{"code": code, "title": "t"}, 7]}}]}]})
    with caplog.at_level(logging.WARNING, logger="supportdesk.whatsapp.payload"):
        delivery = parse_webhook(body.encode())
    assert delivery.errors == (WebhookError(parsed, "t"),)
    expected = [("whatsapp.payload.error_code_unusable", problem)] if problem else []
    records = [(r.getMessage(), getattr(r, "problem", getattr(r, "reason", None))) for r in caplog.records]
    assert records == [*expected, ("whatsapp.payload.error_skipped", "not an object")]


def test_sixty_four_levels_are_fine_and_nul_escapes_become_replacement_characters() -> None:
    body = b'{"entry": [], "x": ' + b"[" * 63 + b'"\\u0000"' + b"]" * 63 + b"}"  # 64 levels
    assert parse_webhook(body).messages == ()
    item = {"from": KERRY, "id": "wamid.N\x00", "timestamp": "1795529100", "type": "text", "text": {"body": "a\x00b"}}
    message = parse_webhook(body_with_message(item, contacts=[{"wa_id": KERRY, "profile": {"name": "K\x00"}}])).messages[0]
    assert (message.wamid, message.text, message.profile_name) == ("wamid.N\ufffd", "a\ufffdb", "K\ufffd")
