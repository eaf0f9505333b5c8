"""Customers' spellings rewritten before a time is read, and each conversation language's reading."""

import datetime as dt
from typing import Optional

import pytest

from supportdesk.platform.settings import SUPPORTED_LANGUAGES
from supportdesk.scheduling.time_phrases import READINGS, TimeReading, normalise, reading_for

WEDNESDAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    "text, normalised",
    [
        ("Amanhã  ÀS 15h", "amanhã às 15h"),
        ("amnh as 15h", "amanhã as 15h"),
        ("hj a tarde", "hoje a tarde"),
        ("dps de amanha as 9", "em 2 dias as 9"),
        ("depois de amanhã", "em 2 dias"),
        ("daqui a 2 dias", "em 2 dias"),
        ("seg q vem de manha", "segunda de manha"),
        ("prox terça", "terça"),
        ("sexta-feira às 14h30", "sexta às 14h30"),
        ("ás 3 e meia", "às 3:30"),
        ("às 14 e 15", "às 14:15"),
        ("meio dia e meia", "12:30"),
        ("amanhã á tarde", "amanhã à tarde"),
        ("1º de dezembro", "1 de dezembro"),
        ("dia primeiro às 10", "dia 1 às 10"),
        ("primeiro de dezembro", "dia 1 de dezembro"),
        ("o primeiro horário", "o primeiro horário"),
        ("sexta da semana que vem", "2026-12-04"),
        ("domingo da próxima semana", "2026-12-06"),
        ("2024-05-17T10:00", "2024-05-17 10:00"),
        ("2024-05-17T10:00:00", "2024-05-17 10:00"),
        ("2024-05-17T10:00:00+01:00", "2024-05-17t10:00:00+01:00"),  # an offset is not ours to drop
        ("às três da tarde", "às 3 da tarde"),
        ("dez da manhã", "10 da manhã"),
        ("duas horas da tarde", "2 horas da tarde"),
        ("às onze e meia", "às 11:30"),
        ("às 3 e quinze", "às 3:15"),
        ("dia dez", "dia 10"),
        ("10 de dez", "10 de dez"),
        ("dez", "dez"),
        ("tmrw at 3", "tomorrow at 3"),
        ("day after tomorrow", "in 2 days"),
    ],
)
def test_spellings_are_rewritten_into_what_the_parser_reads(text: str, normalised: str) -> None:
    assert normalise(text, WEDNESDAY) == normalised


@pytest.mark.parametrize(
    "language, reading",
    [
        ("en", TimeReading(languages=("en", "pt"))),
        ("pt-BR", TimeReading(languages=("pt", "en"))),
        (None, TimeReading(languages=("en", "pt"))),
        ("fr", TimeReading(languages=("en", "pt"))),
    ],
)
def test_each_conversation_language_has_its_reading(language: Optional[str], reading: TimeReading) -> None:
    assert reading_for(language) == reading
    assert reading.date_order == "DMY"


def test_every_supported_language_has_a_reading() -> None:
    assert set(READINGS) == set(SUPPORTED_LANGUAGES)
