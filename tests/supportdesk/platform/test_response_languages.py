"""`make validate`'s language check, on small made-up domains and on the project's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

from supportdesk.platform.response_languages import check_domain, domain_problems, main, response_problems

LANGUAGES = ("en", "pt-BR")
PORTUGUESE = [{"type": "slot", "name": "language", "value": "pt-BR"}]


def messages(problems: List[Any]) -> List[str]:
    """The problems as `make validate` prints them."""
    return [str(problem) for problem in problems]


def offer(english_payloads: List[str], portuguese_payloads: List[str]) -> List[Dict[str, Any]]:
    """A yes/no question in both languages with the given button payloads."""
    return [
        {"text": "Talk to a person?", "buttons": [{"title": "Yes", "payload": p} for p in english_payloads]},
        {"condition": PORTUGUESE, "text": "Falar com uma pessoa?",
         "buttons": [{"title": "Sim", "payload": p} for p in portuguese_payloads]},
    ]


def test_a_response_in_both_languages_passes() -> None:
    variations = [{"text": "Hi {name}!"}, {"condition": PORTUGUESE, "text": "Oi {name}!"}]
    assert response_problems("utter_greet", variations, LANGUAGES) == []


def test_a_missing_language_is_named() -> None:
    assert messages(response_problems("utter_greet", [{"text": "Hi!"}], LANGUAGES)) == [
        "utter_greet: no variation in pt-BR"
    ]


def test_a_response_without_the_default_variation_is_named() -> None:
    assert messages(response_problems("utter_greet", [{"condition": PORTUGUESE, "text": "Oi!"}], LANGUAGES)) == [
        "utter_greet: no unconditioned variation (the en one)"
    ]


def test_a_placeholder_mismatch_is_named() -> None:
    variations = [{"text": "Back at {opening_time}"}, {"condition": PORTUGUESE, "text": "Volta às {opening_day}"}]
    assert messages(response_problems("utter_back", variations, LANGUAGES)) == [
        "utter_back: placeholders differ: en ['opening_time'], pt-BR ['opening_day']"
    ]


def test_a_payload_mismatch_is_named() -> None:
    assert messages(response_problems("utter_offer", offer(["/request_human", "/deny"], ["/request_human"]), LANGUAGES)) == [
        "utter_offer: button payloads differ: en [('/request_human', '/deny')], pt-BR [('/request_human',)]"
    ]


def test_buttons_in_another_order_are_a_mismatch() -> None:
    assert len(response_problems("utter_offer", offer(["/affirm", "/deny"], ["/deny", "/affirm"]), LANGUAGES)) == 1


def test_a_condition_without_the_language_would_reach_every_customer() -> None:
    variations = [
        {"text": "Send it? {when}, for: {service}"},
        {"condition": [{"type": "slot", "name": "service", "value": ""}], "text": "Send it? {when}"},
        {"condition": PORTUGUESE, "text": "Envio? {when}\n{service}"},
    ]
    assert messages(response_problems("utter_confirm", variations, LANGUAGES)) == [
        "utter_confirm: a variation conditioned on [('service', '')] without the language slot is sent whatever"
        " the customer's language",
        "utter_confirm: conditions [('language', 'pt-br')] and [('service', '')] can both match; Rasa then picks"
        " at random",
    ]


def test_a_narrower_condition_of_one_language_is_ambiguous_but_another_value_is_not() -> None:
    skipped = PORTUGUESE + [{"type": "slot", "name": "service", "value": ""}]
    english_skipped = [{"type": "slot", "name": "language", "value": "en"}, {"type": "slot", "name": "service", "value": ""}]
    variations = [
        {"text": "Send it? {when}"},
        {"condition": english_skipped, "text": "Send it? {when}"},
        {"condition": PORTUGUESE, "text": "Envio? {when}"},
        {"condition": skipped, "text": "Envio? {when}"},
    ]
    assert messages(response_problems("utter_confirm", variations, LANGUAGES)) == [
        "utter_confirm: conditions [('language', 'pt-br')] and [('language', 'pt-br'), ('service', '')] can both"
        " match; Rasa then picks at random"
    ]


def test_an_unsupported_language_value_is_named() -> None:
    variations = [{"text": "Hi!"}, {"condition": [{"type": "slot", "name": "language", "value": "pt"}], "text": "Oi!"}]
    assert messages(response_problems("utter_greet", variations, LANGUAGES)) == [
        "utter_greet: language 'pt' is not one of ['en', 'pt-BR']",
        "utter_greet: no variation in pt-BR",
    ]


def test_a_third_language_is_required_of_every_response_once_supported() -> None:
    variations = [{"text": "Hi!"}, {"condition": PORTUGUESE, "text": "Oi!"}]
    assert messages(response_problems("utter_greet", variations, ("en", "pt-BR", "es"))) == [
        "utter_greet: no variation in es"
    ]


def test_the_language_slot_must_offer_the_supported_languages() -> None:
    responses = {"utter_greet": [{"text": "Hi!"}, {"condition": PORTUGUESE, "text": "Oi!"}]}
    assert domain_problems(responses, ["en", "pt-br"], LANGUAGES) == []
    assert messages(domain_problems(responses, ["en"], LANGUAGES)) == [
        "slot language: values ['en'] are not SUPPORTED_LANGUAGES ['en', 'pt-BR']"
    ]
    assert len(domain_problems(responses, None, LANGUAGES)) == 1


SYNTHETIC_DOMAIN = """version: "3.1"
slots:
  language:
    type: categorical
    values:
      - en
      - pt-BR
    influence_conversation: false
    mappings:
      - type: custom
responses:
  utter_greet:
    - text: Hi!
    - condition:
        - type: slot
          name: language
          value: pt-BR
      text: Oi!
"""
FEATURE_DOMAIN = """version: "3.1"
responses:
  utter_goodbye:
    - text: Bye!
"""


def synthetic_domain(tmp_path: Path) -> Path:
    """A shared domain file and a `domain/` folder beside it, merged as the project's are."""
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain.yml").write_text(SYNTHETIC_DOMAIN, encoding="utf-8")
    (tmp_path / "domain" / "smalltalk.yml").write_text(FEATURE_DOMAIN, encoding="utf-8")
    return tmp_path / "domain.yml"


def test_the_merged_domain_files_are_checked(tmp_path: Path) -> None:
    assert messages(check_domain(synthetic_domain(tmp_path), LANGUAGES)) == ["utter_goodbye: no variation in pt-BR"]


def test_the_command_lists_each_offender_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(synthetic_domain(tmp_path))]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "utter_goodbye: no variation in pt-BR"


def test_every_response_of_the_project_exists_in_every_language(capsys: pytest.CaptureFixture) -> None:
    assert messages(check_domain()) == []
    assert main([]) == 0
    assert capsys.readouterr().out == "every response exists in en, pt-BR\n"
