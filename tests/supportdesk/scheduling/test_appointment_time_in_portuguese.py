"""Appointment times from a Brazilian customer's words: phrasings × zones, each outcome, parts of the day.

The clock is fixed: Wednesday 25 November 2026, 10:00 in the business zone; the salon opens
Monday to Friday 09:00-18:00 and Saturday 09:00-13:00.
"""

import datetime as dt
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from supportdesk.scheduling.appointment_time import TimeOutcome, TimeParse, parse_appointment_time
from supportdesk.scheduling.business_hours import parse_business_hours

WEEKDAYS_AND_SATURDAY = "mon-fri 09:00-18:00; sat 09:00-13:00"
ZONES = ["America/Sao_Paulo", "UTC"]
NOW = dt.datetime(2026, 11, 25, 10, 0)  # a Wednesday, as wall time in each business zone
OK, NEEDS_TIME, INVALID = TimeOutcome.OK, TimeOutcome.NEEDS_TIME, TimeOutcome.INVALID
PAST, TOO_SOON, CLOSED, TOO_FAR = TimeOutcome.PAST, TimeOutcome.TOO_SOON, TimeOutcome.CLOSED, TimeOutcome.TOO_FAR


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute)


PHRASINGS = [
    # tomorrow
    ("amanhã às 15h", OK, at(11, 26, 15)),
    ("amanha 15h", OK, at(11, 26, 15)),
    ("amanha as 15h", OK, at(11, 26, 15)),
    ("amanhã ás 15h", OK, at(11, 26, 15)),
    ("amnh as 15h", OK, at(11, 26, 15)),
    ("amanhâ as 15", OK, at(11, 26, 15)),
    ("Amanhã às 15 horas", OK, at(11, 26, 15)),
    ("amanhã 15hs", OK, at(11, 26, 15)),
    ("amanhã às 15 hrs", OK, at(11, 26, 15)),
    ("amanhã, 15h", OK, at(11, 26, 15)),
    ("15h amanhã", OK, at(11, 26, 15)),
    ("amanhã às 15h30", OK, at(11, 26, 15, 30)),
    ("amanhã às 9 e meia", OK, at(11, 26, 9, 30)),
    ("amanhã 3 da tarde", OK, at(11, 26, 15)),
    ("amanhã 10 da manhã", OK, at(11, 26, 10)),
    ("amanhã ao meio-dia", OK, at(11, 26, 12)),
    ("amanha meio dia", OK, at(11, 26, 12)),
    ("amanhã por volta das 15h", OK, at(11, 26, 15)),
    ("pode ser amanhã às 15h?", OK, at(11, 26, 15)),
    ("oi, queria marcar pra amanha as 15h pfv", OK, at(11, 26, 15)),
    # the day after tomorrow, in some days
    ("depois de amanhã às 9", OK, at(11, 27, 9)),
    ("depois de amanha as 9", OK, at(11, 27, 9)),
    ("dps de amanha as 9h", OK, at(11, 27, 9)),
    ("depois d amanhã às 9", OK, at(11, 27, 9)),
    ("daqui 2 dias às 11h", OK, at(11, 27, 11)),
    ("daqui a 2 dias às 11h", OK, at(11, 27, 11)),
    ("daqui dois dias as 11", OK, at(11, 27, 11)),
    # weekdays: the next occurrence; "da semana que vem" is next week's
    ("sexta às 14:30", OK, at(11, 27, 14, 30)),
    ("sexta as 14h30", OK, at(11, 27, 14, 30)),
    ("sexta-feira às 14h30", OK, at(11, 27, 14, 30)),
    ("sex 14h30", OK, at(11, 27, 14, 30)),
    ("quinta às 16h", OK, at(11, 26, 16)),
    ("qui 10", OK, at(11, 26, 10)),
    ("segunda que vem às 10", OK, at(11, 30, 10)),
    ("seg q vem as 10", OK, at(11, 30, 10)),
    ("seg às 10", OK, at(11, 30, 10)),
    ("próxima terça às 10", OK, at(12, 1, 10)),
    ("prox terca as 10", OK, at(12, 1, 10)),
    ("ter 10h", OK, at(12, 1, 10)),
    ("quarta feira as 11", OK, at(12, 2, 11)),
    ("qua 10h", OK, at(12, 2, 10)),
    ("sáb às 10", OK, at(11, 28, 10)),
    ("sabado as 10", OK, at(11, 28, 10)),
    ("sexta da semana que vem às 10", OK, at(12, 4, 10)),
    ("sexta-feira da próxima semana às 10h", OK, at(12, 4, 10)),
    ("segunda da semana que vem às 10", OK, at(11, 30, 10)),
    # days of the month and numeric dates (day first)
    ("dia 12 às 10", OK, at(12, 12, 10)),
    ("dia 12 as 10h", OK, at(12, 12, 10)),
    ("às 10 do dia 12", OK, at(12, 12, 10)),
    ("dia 12 de dezembro às 10", OK, at(12, 12, 10)),
    ("12 de dezembro às 10h", OK, at(12, 12, 10)),
    ("primeiro de dezembro às 10", OK, at(12, 1, 10)),
    ("1º de dezembro às 10h", OK, at(12, 1, 10)),
    ("dia primeiro às 10", OK, at(12, 1, 10)),
    ("12/12 às 10h", OK, at(12, 12, 10)),
    ("12/03 às 10", OK, at(3, 12, 10, year=2027)),
    ("terça 01/12 às 10h", OK, at(12, 1, 10)),
    ("2026-12-01T10:00", OK, at(12, 1, 10)),  # what the model's schedule_appointment tool passes on
    # a time alone: today, or tomorrow once that moment has gone (as "at 3pm" in English)
    ("às 15h", OK, at(11, 25, 15)),
    ("as 15h", OK, at(11, 25, 15)),
    ("15h", OK, at(11, 25, 15)),
    ("15:00", OK, at(11, 25, 15)),
    ("3 da tarde", OK, at(11, 25, 15)),
    ("às 3 da tarde", OK, at(11, 25, 15)),
    ("às 3 e meia", OK, at(11, 25, 15, 30)),
    ("3 e meia da tarde", OK, at(11, 25, 15, 30)),
    ("10 da manhã", OK, at(11, 26, 10)),
    ("10 da manha", OK, at(11, 26, 10)),
    ("meio-dia", OK, at(11, 25, 12)),
    ("meio dia", OK, at(11, 25, 12)),
    ("ao meio dia", OK, at(11, 25, 12)),
    ("meio-dia e meia", OK, at(11, 25, 12, 30)),
    ("às três da tarde", OK, at(11, 25, 15)),
    ("dez da manhã", OK, at(11, 26, 10)),
    ("sexta às dez", OK, at(11, 27, 10)),
    ("amanhã às onze e meia", OK, at(11, 26, 11, 30)),
    ("uma da tarde", OK, at(11, 25, 13)),
    ("às 3 e quinze", OK, at(11, 25, 15, 15)),
    ("dia dez às 10h", OK, at(12, 10, 10)),
    ("hoje às 17h", OK, at(11, 25, 17)),
    ("hj às 15h", OK, at(11, 25, 15)),
    ("daqui 3 horas", OK, at(11, 25, 13)),
    ("daqui uma hora", OK, at(11, 25, 11)),
    ("daqui a meia hora", OK, at(11, 25, 10, 30)),
    # a part of the day alone is vague: ask the hour of that day (while it has open time left)
    ("segunda que vem de manhã", NEEDS_TIME, at(11, 30)),
    ("segunda que vem de manha", NEEDS_TIME, at(11, 30)),
    ("seg q vem de manha", NEEDS_TIME, at(11, 30)),
    ("hoje à tarde", NEEDS_TIME, at(11, 25)),
    ("hoje a tarde", NEEDS_TIME, at(11, 25)),
    ("hoje á tarde", NEEDS_TIME, at(11, 25)),
    ("hj de tarde", NEEDS_TIME, at(11, 25)),
    ("hoje de manhã", NEEDS_TIME, at(11, 25)),
    ("à tarde", NEEDS_TIME, at(11, 25)),
    ("amanhã de manhã", NEEDS_TIME, at(11, 26)),
    ("amanhã à tarde", NEEDS_TIME, at(11, 26)),
    ("quinta de tarde", NEEDS_TIME, at(11, 26)),
    ("sábado à tarde", NEEDS_TIME, at(11, 28)),  # open until 13:00
    # a day alone: ask the hour
    ("amanhã", NEEDS_TIME, at(11, 26)),
    ("depois de amanhã", NEEDS_TIME, at(11, 27)),
    ("daqui 2 dias", NEEDS_TIME, at(11, 27)),
    ("segunda que vem", NEEDS_TIME, at(11, 30)),
    ("sexta", NEEDS_TIME, at(11, 27)),
    ("sexta da semana que vem", NEEDS_TIME, at(12, 4)),
    ("dia 12", NEEDS_TIME, at(12, 12)),
    ("primeiro de dezembro", NEEDS_TIME, at(12, 1)),
    ("12/03", NEEDS_TIME, at(3, 12, year=2027)),
    ("quero marcar para quinta", NEEDS_TIME, at(11, 26)),
    # refusals
    ("amanhã à noite", CLOSED, at(11, 26, 18)),
    ("domingo de manhã", CLOSED, at(11, 29, 9)),
    ("domingo às 10", CLOSED, at(11, 29, 10)),
    ("dom 10h", CLOSED, at(11, 29, 10)),
    ("sabado as 15h", CLOSED, at(11, 28, 15)),
    ("domingo", CLOSED, at(11, 29)),
    ("8 da noite", CLOSED, at(11, 25, 20)),
    ("ontem às 15h", PAST, at(11, 24, 15)),
    ("hoje às 9h", PAST, at(11, 25, 9)),
    ("daqui 10 minutos", TOO_SOON, at(11, 25, 10, 10)),
    ("hoje às 10:20", TOO_SOON, at(11, 25, 10, 20)),
    ("10 de junho às 10", TOO_FAR, at(6, 10, 10, year=2027)),
    ("semana que vem", INVALID, None),
    ("próxima semana", INVALID, None),
    ("fim de semana", INVALID, None),
    ("daqui a pouco", INVALID, None),
    ("não sei", INVALID, None),
    ("amanhã às 25h", INVALID, None),
    ("dia 40", INVALID, None),
    ("31/11 às 10", INVALID, None),
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("text, outcome, local", PHRASINGS)
def test_portuguese_phrasing_is_read_in_the_business_zone(
    zone: str, text: str, outcome: TimeOutcome, local: Optional[dt.datetime]
) -> None:
    tz = ZoneInfo(zone)
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, zone)
    result = parse_appointment_time(text, NOW.replace(tzinfo=tz), hours, language="pt-BR")
    if local is None:
        assert result == TimeParse(INVALID, None)
    else:
        assert (result.outcome, result.when) == (outcome, local.replace(tzinfo=tz))
        assert result.when.tzinfo == tz


def test_tomorrow_at_15h_in_sao_paulo_is_18_utc() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "America/Sao_Paulo")
    now = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.timezone.utc)  # still Wednesday 25, 22:00 in São Paulo
    result = parse_appointment_time("amanhã às 15h", now, hours, language="pt-BR")
    assert result.outcome is OK
    assert result.when.astimezone(dt.timezone.utc) == dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("language", ["en", "pt-BR", None])
@pytest.mark.parametrize("text, local", [("12/03 at 10", at(3, 12, 10, year=2027)), ("03/12 at 10", at(12, 3, 10))])
def test_numeric_dates_are_day_first_in_every_language(language: Optional[str], text: str, local: dt.datetime) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time(text, NOW.replace(tzinfo=dt.timezone.utc), hours, language=language)
    assert (result.outcome, result.when) == (OK, local.replace(tzinfo=dt.timezone.utc))


@pytest.mark.parametrize(
    "language, outcome, local",
    [("pt-BR", TOO_FAR, at(8, 2, 10, year=2027)), ("en", INVALID, None), (None, INVALID, None)],
)
def test_dateparser_tries_the_conversation_language_first(
    language: Optional[str], outcome: TimeOutcome, local: Optional[dt.datetime]
) -> None:
    """In a chatty text "2 ago" is 2 August to Portuguese first, and nothing English can place."""
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time("pode ser 2 ago às 10", NOW.replace(tzinfo=dt.timezone.utc), hours, language=language)
    assert result == TimeParse(outcome, local.replace(tzinfo=dt.timezone.utc) if local else None)


@pytest.mark.parametrize(
    "text, english, portuguese",
    [
        ("amanhã de manhã", (NEEDS_TIME, at(11, 26)), (NEEDS_TIME, at(11, 26))),
        ("amanhã à tarde", (NEEDS_TIME, at(11, 26)), (NEEDS_TIME, at(11, 26))),
        ("tomorrow morning", (NEEDS_TIME, at(11, 26)), (NEEDS_TIME, at(11, 26))),
        ("amanhã às 15h", (OK, at(11, 26, 15)), (OK, at(11, 26, 15))),
    ],
)
def test_a_part_of_the_day_alone_asks_for_the_hour_in_both_languages(
    text: str, english: tuple, portuguese: tuple
) -> None:
    """"monday morning" once became 09:00 without a word; now every language asks for the hour."""
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    now = NOW.replace(tzinfo=dt.timezone.utc)
    for language, (outcome, local) in (("en", english), ("pt-BR", portuguese)):
        result = parse_appointment_time(text, now, hours, language=language)
        assert (result.outcome, result.when) == (outcome, local.replace(tzinfo=dt.timezone.utc)), language


@pytest.mark.parametrize(
    "now, text, outcome, local",
    [
        (at(11, 25, 12, 30), "hoje de manhã", PAST, at(11, 25, 9)),
        (at(11, 25, 11, 50), "hoje de manhã", TOO_SOON, at(11, 25, 9)),  # open until 12:00, less than 30 min
        (at(11, 25, 17, 45), "hoje à tarde", TOO_SOON, at(11, 25, 14)),
        (at(11, 25, 17, 0), "hoje à tarde", NEEDS_TIME, at(11, 25)),
        (at(11, 28, 13, 30), "hoje à tarde", CLOSED, at(11, 28, 14)),  # Saturday: closed since 13:00
        (at(11, 25, 18, 30), "à tarde", NEEDS_TIME, at(11, 26)),  # this afternoon is over: tomorrow's
        (at(11, 25, 18, 30), "de manhã", NEEDS_TIME, at(11, 26)),
        (at(11, 25, 10, 0), "10 de junho de tarde", TOO_FAR, at(6, 10, 14, year=2027)),
    ],
)
def test_a_part_of_the_day_is_asked_about_only_while_it_has_bookable_time(
    now: dt.datetime, text: str, outcome: TimeOutcome, local: dt.datetime
) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time(text, now.replace(tzinfo=dt.timezone.utc), hours, language="pt-BR")
    assert (result.outcome, result.when) == (outcome, local.replace(tzinfo=dt.timezone.utc))


@pytest.mark.parametrize(
    "text, language, outcome, local",
    [
        ("10", "pt-BR", OK, at(11, 27, 10)),
        ("10h", "pt-BR", OK, at(11, 27, 10)),
        ("às 15h", "pt-BR", OK, at(11, 27, 15)),
        ("3", "pt-BR", OK, at(11, 27, 15)),  # 03:00 is closed, 15:00 open
        ("15:30", "pt-BR", OK, at(11, 27, 15, 30)),
        ("de manhã", "pt-BR", NEEDS_TIME, at(11, 27)),
        ("amanhã às 10", "pt-BR", OK, at(11, 26, 10)),  # a day named again wins
        ("ok", "pt-BR", INVALID, None),
        ("10am", "en", OK, at(11, 27, 10)),
        ("at 3", "en", OK, at(11, 27, 15)),
        ("10", "en", OK, at(11, 27, 10)),
        ("in the morning", "en", NEEDS_TIME, at(11, 27)),
    ],
)
def test_an_hour_answering_needs_time_falls_on_the_day_asked_about(
    text: str, language: str, outcome: TimeOutcome, local: Optional[dt.datetime]
) -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    friday = dt.date(2026, 11, 27)
    result = parse_appointment_time(text, NOW.replace(tzinfo=dt.timezone.utc), hours, language=language,
                                    asked_day=friday)
    assert result == TimeParse(outcome, local.replace(tzinfo=dt.timezone.utc) if local else None)


def test_without_a_day_asked_about_a_bare_number_is_still_a_day_of_the_month() -> None:
    hours = parse_business_hours(WEEKDAYS_AND_SATURDAY, "UTC")
    result = parse_appointment_time("10", NOW.replace(tzinfo=dt.timezone.utc), hours, language="pt-BR")
    assert result == TimeParse(NEEDS_TIME, at(12, 10).replace(tzinfo=dt.timezone.utc))
