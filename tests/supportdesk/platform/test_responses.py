"""Every response of the domain renders in each language through `responses.py`, and fits WhatsApp."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

import pytest

from supportdesk.attendant.alerts import TEAM_SLOTS, team_text
from supportdesk.platform.response_languages import load_domain, placeholders
from supportdesk.platform.responses import get_responses, load_responses
from supportdesk.whatsapp.limits import BUTTON_TITLE_MAX, BUTTONS_MAX, LIST_BUTTON_MAX, TEXT_MAX

RAW, _ = load_domain()  # the variations as written, conditions included
NAMES = sorted(RAW)
PORTUGUESE = {"language": "pt-BR"}


def only_language(variations: List[Mapping[str, Any]], language: str) -> List[Mapping[str, Any]]:
    """The variations conditioned on `language` and nothing else."""
    wanted = [{"type": "slot", "name": "language", "value": language}]
    return [v for v in variations if v.get("condition") == wanted]


def values_for(name: str) -> Dict[str, str]:
    """A marked value for each placeholder of the response, in any language."""
    return {key: f"<{key}>" for variation in RAW[name] for key in placeholders(variation)}


def filled(text: str, values: Mapping[str, str]) -> str:
    """`text` with its placeholders replaced by `values`."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.mark.parametrize("name", NAMES)
def test_every_response_renders_its_portuguese_variation(name: str) -> None:
    values = values_for(name)
    (portuguese,) = only_language(RAW[name], "pt-BR")
    english = next(v for v in RAW[name] if not v.get("condition"))
    message = get_responses().render(name, PORTUGUESE, **values)
    assert message["text"] == filled(portuguese["text"], values)
    assert "{" not in message["text"]
    assert [b["payload"] for b in message.get("buttons") or []] == [b["payload"] for b in english.get("buttons") or []]


@pytest.mark.parametrize("name", NAMES)
def test_english_is_the_default_and_the_english_variation(name: str) -> None:
    values = values_for(name)
    english = next(v for v in RAW[name] if not v.get("condition"))
    for slots in ({}, {"language": "en"}, {"language": "es"}):
        assert get_responses().text(name, slots, **values) == filled(english["text"], values)


@pytest.mark.parametrize("name", NAMES)
def test_every_variation_fits_whatsapp(name: str) -> None:
    for variation in RAW[name]:
        assert 0 < len(variation["text"]) <= TEXT_MAX
        titles = [button["title"] for button in variation.get("buttons") or []]
        assert len(titles) <= BUTTONS_MAX
        assert all(0 < len(title) <= BUTTON_TITLE_MAX for title in titles), titles
        assert len(set(titles)) == len(titles)


def test_the_list_button_label_fits_in_every_language() -> None:
    assert [len(v["text"]) <= LIST_BUTTON_MAX for v in RAW["utter_choice_list_button"]] == [True, True]


def test_the_portuguese_confirmation_shows_the_service_or_leaves_it_out() -> None:
    asked = {"language": "pt-BR", "appointment_time_display": "terça-feira, 14 de maio às 15:00"}
    responses = load_responses()
    with_service = responses.render("utter_ask_appointment_confirmed", {**asked, "appointment_service": "corte"})
    assert with_service["text"] == "Posso enviar este pedido? 📅 terça-feira, 14 de maio às 15:00\ncorte"
    assert [(b["title"], b["payload"]) for b in with_service["buttons"]] == [("Sim", "/affirm"), ("Não", "/deny")]
    skipped = responses.text("utter_ask_appointment_confirmed", {**asked, "appointment_service": ""})
    assert skipped.rstrip() == "Posso enviar este pedido? 📅 terça-feira, 14 de maio às 15:00"


def test_the_team_reads_english_until_its_slots_name_another_language() -> None:
    assert TEAM_SLOTS == {}
    assert team_text("utter_push_message_title", customer="Joana") == "New message from Joana"
    assert get_responses().text("utter_push_message_title", PORTUGUESE, customer="Joana") == "Nova mensagem de Joana"
    assert get_responses().text("utter_preview_order", PORTUGUESE, count=3) == "🛒 Pedido (3 itens)"
