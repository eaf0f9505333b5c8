"""Which language a customer writes in: English (`en`) or Brazilian Portuguese (`pt-BR`).

Statistical detection (lingua, with only the two languages loaded) is reliable on a sentence
and unreliable on the two-to-four letter messages WhatsApp is full of ("oi", "ok", "obg"), so
short messages are decided by the words people really type in each language, and a message
that neither settles counts as no evidence. A conversation keeps its language; it changes
only on clear evidence (`language_after`).
"""

from __future__ import annotations

import dataclasses
import re
import threading
import unicodedata
from typing import Any, Optional

from supportdesk.messaging.conversations import publish_conversation
from supportdesk.platform.database import Cursor
from supportdesk.platform.settings import SUPPORTED_LANGUAGES

LANGUAGES = SUPPORTED_LANGUAGES
ENGLISH, PORTUGUESE = "en", "pt-BR"  # the two this module recognises; a third needs its word list

# Typed on WhatsApp, unambiguous: seen in one language's chats, not the other's. Words both
# languages use ("ok", "no", "a", "me", "so", "hi"... yes, "oi" is not English) are left out.
_PORTUGUESE_WORDS = frozenset(
    {
        "oi", "ola", "olá", "tudo", "bem", "bom", "boa", "dia", "tarde", "noite", "obrigado", "obrigada", "obg",
        "brigado", "brigada", "vlw", "valeu", "blz", "beleza", "vc", "vcs", "voce", "você", "voces", "vocês", "pfv",
        "pf", "pfvr", "favor", "por", "quero", "queria", "qro", "gostaria", "preciso", "precisava", "falar", "com",
        "pessoa", "atendente", "humano", "nao", "não", "sim", "tb", "tbm", "também", "tambem", "pra", "para", "uma",
        "que", "qual", "quando", "onde", "como", "porque", "pq", "horario", "horário", "amanha", "amanhã", "hoje",
        "ontem", "segunda", "terça", "terca", "quarta", "quinta", "sexta", "sábado", "sabado", "domingo", "marcar",
        "agendar", "remarcar", "desmarcar", "cancelar", "pedido", "ajuda", "ajudar", "isso", "pode", "ser", "bora",
        "tchau", "até", "mais", "meu", "minha", "estou", "está", "esta", "tô", "tá", "ta", "né", "eu", "aqui", "aí",
        "kkk", "kkkk", "rs", "flw", "manhã", "manha", "às", "depois", "semana", "próxima", "proxima", "vem", "dias",
        "hora", "horas", "certo", "claro"
    }
)
_ENGLISH_WORDS = frozenset(
    {
        "hello", "hey", "thanks", "thank", "thx", "ty", "you", "your", "please", "pls", "plz", "want", "need", "talk",
        "the", "person", "human", "agent", "yes", "yeah", "yep", "nope", "what", "when", "where", "how", "open", "book",
        "appointment", "tomorrow", "tmrw", "today", "tonight", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday", "i'm", "im", "my", "is", "are", "can", "could", "would", "help", "bye", "goodbye", "good",
        "morning", "evening", "afternoon", "cancel", "order", "sure", "u", "r", "ur", "wanna", "gonna", "with", "for",
        "at", "it", "this", "that", "there", "someone", "anyone", "speak"
    }
)
_LETTERS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_PORTUGUESE_MARKS = set("ãõç")  # English does not write these
_SHORT_WORDS = 3  # up to this many words, only the word lists decide
_CLEAR_CONFIDENCE = 0.85  # lingua's confidence that counts as evidence for a longer message


@dataclasses.dataclass(frozen=True)
class LanguageGuess:
    """The language a message is in, and how strong the evidence is (0 = none)."""

    language: Optional[str]
    strength: int


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _lexicon_votes(words: list) -> tuple:
    portuguese = sum(1 for w in words if w in _PORTUGUESE_WORDS or _fold(w) in _PORTUGUESE_WORDS)
    english = sum(1 for w in words if w in _ENGLISH_WORDS)
    portuguese += sum(1 for w in words if _PORTUGUESE_MARKS & set(w))
    return portuguese, english


_detector: Any = None
_detector_lock = threading.Lock()


def _statistical(text: str) -> Optional[str]:
    """lingua's answer when it is confident; None otherwise (or when lingua is not installed)."""
    global _detector
    with _detector_lock:
        if _detector is None:
            from lingua import Language, LanguageDetectorBuilder

            _detector = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.PORTUGUESE).build()
    values = _detector.compute_language_confidence_values(text)
    if not values or values[0].value < _CLEAR_CONFIDENCE:
        return None
    return PORTUGUESE if values[0].language.name == "PORTUGUESE" else ENGLISH


def guess_language(text: str) -> LanguageGuess:
    """The language of one message; strength 0 when the message does not tell (digits, emoji, "ok")."""
    words = [word.lower() for word in _LETTERS.findall(text or "")]
    if not words:
        return LanguageGuess(None, 0)
    portuguese, english = _lexicon_votes(words)
    if portuguese != english:
        winner = PORTUGUESE if portuguese > english else ENGLISH
        return LanguageGuess(winner, abs(portuguese - english) + (1 if len(words) > _SHORT_WORDS else 0))
    if len(words) <= _SHORT_WORDS:
        return LanguageGuess(None, 0)
    detected = _statistical(text)
    return LanguageGuess(detected, 2 if detected else 0)


def language_after(current: Optional[str], text: str, default: str) -> str:
    """The conversation's language once `text` is read.

    The first message decides on any evidence (else `default`); later, the language changes only
    when a message is clearly in the other one (two or more points of evidence), so a stray "ok"
    or an English product name in a Portuguese chat changes nothing.
    """
    guess = guess_language(text)
    if current not in LANGUAGES:
        return guess.language if guess.language and guess.strength >= 1 else default
    if guess.language and guess.language != current and guess.strength >= 2:
        return guess.language
    return current


def remember_language(cursor: Cursor, for_update: str, conversation_id: str, text: str, default: str, now: float) -> str:
    """Read `text` into the conversation's language (stored, and streamed when it changes); returns it.

    Runs in the caller's transaction; `for_update` is the database's row-lock clause.
    """
    row = cursor.execute("SELECT language FROM conversations WHERE id = ?" + for_update, (conversation_id,)).fetchone()
    current = row["language"] if row else None
    language = language_after(current, text, default)
    if row is not None and language != current:
        cursor.execute(
            "UPDATE conversations SET language = ?, version = version + 1, updated_at = ? WHERE id = ?",
            (language, now, conversation_id),
        )
        publish_conversation(cursor, conversation_id)
    return language
