"""Language per message and per conversation, measured on the short messages WhatsApp is full of."""

from __future__ import annotations

import pytest

from supportdesk.messaging.language import ENGLISH, PORTUGUESE, guess_language, language_after

# (message, expected language or None when the message alone cannot tell)
LABELLED = [
    ("oi", PORTUGUESE), ("oi, tudo bem?", PORTUGUESE), ("bom dia", PORTUGUESE), ("boa tarde!", PORTUGUESE),
    ("obg", PORTUGUESE), ("vlw", PORTUGUESE), ("blz", PORTUGUESE), ("sim", PORTUGUESE), ("não", PORTUGUESE),
    ("nao", PORTUGUESE), ("pode ser", PORTUGUESE), ("bora", PORTUGUESE), ("isso", PORTUGUESE),
    ("qro falar c atendente", PORTUGUESE), ("vc pode me ajudar pfv", PORTUGUESE), ("preciso de ajuda", PORTUGUESE),
    ("amanhã às 15h", PORTUGUESE), ("segunda que vem de manhã", PORTUGUESE), ("dia 12 às 10", PORTUGUESE),
    ("quero marcar um horário", PORTUGUESE), ("qual o horário de vcs?", PORTUGUESE), ("kkkk", PORTUGUESE),
    ("depois de amanhã", PORTUGUESE), ("quero falar com uma pessoa", PORTUGUESE), ("tá bom", PORTUGUESE),
    ("meu pedido chegou quebrado", PORTUGUESE), ("vcs abrem no sábado?", PORTUGUESE), ("tchau", PORTUGUESE),
    ("hi", None), ("hello", ENGLISH), ("hey", ENGLISH), ("thanks", ENGLISH), ("thx", ENGLISH),
    ("yes", ENGLISH), ("yeah", ENGLISH), ("nope", ENGLISH), ("where r u", ENGLISH), ("can you help me", ENGLISH),
    ("tmrw 3pm", ENGLISH), ("book me for tomorrow at 3", ENGLISH), ("i want to talk to a person", ENGLISH),
    ("what time do you open?", ENGLISH), ("good morning", ENGLISH), ("cancel my order", ENGLISH),
    ("is anyone there", ENGLISH), ("bye", ENGLISH),
    ("ok", None), ("1", None), ("👍", None), ("", None), ("no", None), ("a", None), ("me", None),
]


@pytest.mark.parametrize("text, expected", LABELLED, ids=[text or "empty" for text, _ in LABELLED])
def test_each_short_message_is_read_right_or_left_undecided(text, expected):
    assert guess_language(text).language == expected


def test_accuracy_on_the_labelled_messages_is_reported():
    """Every message with a language is recognised; those without one are never guessed."""
    decided = [(text, expected) for text, expected in LABELLED if expected]
    right = sum(1 for text, expected in decided if guess_language(text).language == expected)
    assert right == len(decided)


def test_a_sentence_without_listed_words_is_decided_by_the_statistical_model():
    assert guess_language("o produto chegou danificado ontem à noite").language == PORTUGUESE
    assert guess_language("the parcel arrived damaged last night").language == ENGLISH


@pytest.mark.parametrize(
    "current, text, default, after",
    [
        (None, "oi", ENGLISH, PORTUGUESE),  # the first message decides on any evidence
        (None, "ok", ENGLISH, ENGLISH),  # ... or the default when it gives none
        (None, "ok", PORTUGUESE, PORTUGUESE),
        (None, "hello", PORTUGUESE, ENGLISH),
        (PORTUGUESE, "ok", ENGLISH, PORTUGUESE),  # no evidence: kept
        (PORTUGUESE, "thanks", ENGLISH, PORTUGUESE),  # one English word in a Portuguese chat: kept
        (PORTUGUESE, "can you help me in english please", ENGLISH, ENGLISH),  # clear evidence: changed
        (ENGLISH, "obg", ENGLISH, ENGLISH),
        (ENGLISH, "quero falar com uma pessoa", ENGLISH, PORTUGUESE),
    ],
)
def test_a_conversation_changes_language_only_on_clear_evidence(current, text, default, after):
    assert language_after(current, text, default) == after
