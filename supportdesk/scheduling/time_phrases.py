"""The words customers use for dates and times, in English and Brazilian Portuguese, as WhatsApp spells them.

`normalise()` rewrites what people type ("amnh", "dps de amanha", "seg q vem", "ás 3 e meia", "dez da manhã")
into the forms `appointment_time` and dateparser read; the patterns below find the time of day, the
part of the day and the day. Each conversation language has a `TimeReading` (`READINGS`): the order
dateparser tries its languages in, how numeric dates are read, and whether a part of the day alone
("de manhã") is an answer or a question for the hour. Nothing here is ever shown to the customer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from typing import Dict, Optional, Tuple

from supportdesk.platform.settings import SUPPORTED_LANGUAGES


@dataclasses.dataclass(frozen=True)
class TimeReading:
    """How a conversation language reads times: dateparser languages in order, numeric date order, parts of day."""

    languages: Tuple[str, ...]
    date_order: str = "DMY"  # "12/03" is 12 March for every customer, as the parser always read it


ENGLISH, PORTUGUESE = SUPPORTED_LANGUAGES
# A part of the day alone ("monday morning", "segunda de manhã") never picks an hour: the form asks for it.
READINGS: Dict[str, TimeReading] = {
    ENGLISH: TimeReading(languages=("en", "pt")),
    PORTUGUESE: TimeReading(languages=("pt", "en")),
}


def reading_for(language: Optional[str]) -> TimeReading:
    """The reading of a conversation's `language` slot; English (the default variation) when unknown."""
    return READINGS.get(language or "", READINGS[ENGLISH])


WEEKDAY_INDEX = {  # Portuguese names and abbreviations; English ones are read by dateparser
    "segunda": 0, "seg": 0, "terça": 1, "terca": 1, "ter": 1, "quarta": 2, "qua": 2, "quinta": 3, "qui": 3,
    "sexta": 4, "sex": 4, "sábado": 5, "sabado": 5, "sáb": 5, "sab": 5, "domingo": 6, "dom": 6,
}
WEEKDAY = (
    r"(?:monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thu|friday|fri|saturday|sat|sunday|sun"
    r"|segunda|terça|terca|quarta|quinta|sexta|sábado|sabado|domingo|seg|qua|qui|sex|sáb|sab|dom"
    r"|(?<!\w\s)ter)"  # "ter" opens the message or follows punctuation: "vou ter 2 filhos" is the verb
)
DAY_WORD = rf"(?:{WEEKDAY}|tomorrow|today|amanhã|amanha|hoje)"
_PT_WEEKDAY = "|".join(sorted(WEEKDAY_INDEX, key=len, reverse=True))
_NEXT_WEEK = r"(?:pr[óo]xima\s+semana|semana\s+que\s+vem)"
# "sexta da semana que vem": that weekday in the next (Monday-first) week, not its next occurrence.
_WEEKDAY_OF_NEXT_WEEK = re.compile(rf"\b(?P<day>{_PT_WEEKDAY})\s+(?:da|na|de)\s+{_NEXT_WEEK}")
_HOUR_WORDS = {"uma": 1, "duas": 2, "dois": 2, "três": 3, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7,
               "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12}
# An hour in words where it can only be an hour: "às três", "dez da manhã", "duas horas" ("dez" alone is December).
_HOUR_IN_WORDS = re.compile(
    rf"(?:\b(?P<prep>às|as|ás)\s+)?\b(?P<word>{'|'.join(_HOUR_WORDS)})\b"
    r"(?(prep)|(?=\s+(?:e\s+meia\b|horas?\b|d[ae]\s+(?:manh|tarde|noite))))"
)
_DAY_IN_WORDS = re.compile(rf"\bdia\s+(?P<word>{'|'.join(_HOUR_WORDS)})\b")  # "dia dez" is the 10th
_REWRITES = (
    # ISO 8601 local date-time, as the model's schedule_appointment tool gives it ("2024-05-17T10:00")
    (re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2})t(\d{1,2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?![\w+\-:])"), r"\1 \2"),
    (re.compile(r"(?<=\d)\s*[º°]"), ""),  # 1º de dezembro
    (re.compile(r"\bdia\s+primeiro\b|\bprimeiro(?=\s+de\s+(?:jan|fev|mar|abr|mai|jun|jul|ago|set|out|nov|dez))"),
     "dia 1"),
    (re.compile(r"[- ]feira\b"), ""),
    (re.compile(r"\b(?:amnh|amnhã|amanh|amanhan|amanhaa+|amanhâ|amanhá|amanham)(?!\w)"), "amanhã"),
    (re.compile(r"\b(?:hj|hje|hoj)\b"), "hoje"),
    (re.compile(r"\b(?:dps|dpois|depois)\s+d[eo]?\s+amanh[ãa]\b"), "em 2 dias"),
    (re.compile(r"\bday after tomorrow\b"), "in 2 days"),
    (re.compile(r"\b(?:tmrw|tmr|tomorow|2moro)\b"), "tomorrow"),
    (re.compile(r"\bhalf an hour\b"), "30 minutes"),
    (re.compile(r"\bmeia hora\b"), "30 minutos"),
    (re.compile(r"\bmeio[- ]?dia\s+e\s+meia\b"), "12:30"),
    (re.compile(r"\bmeiodia\b"), "meio-dia"),
    (re.compile(r"(?<![\d:/.])(\d{1,2})\s*(?:h|hs|horas?)?\s+e\s+meia\b"), r"\1:30"),
    (re.compile(r"(?<![\d:/.])(\d{1,2})\s*(?:h|hs|horas?)?\s+e\s+quinze\b"), r"\1:15"),
    (re.compile(r"\b(às|as|ás)\s+(\d{1,2})\s*(?:h|hs|horas?)?\s+e\s+(\d{2})\b"), r"\1 \2:\3"),
    (re.compile(r"\bás\b"), "às"),
    (re.compile(r"(?<!\w)á(?=\s+(?:tarde|noite)\b)"), "à"),
    (re.compile(r"\b(?:daqui(?: a)?|dentro de)\b"), "em"),
    (re.compile(r"\bwithin\b"), "in"),
    (re.compile(r"\bem (?:duas|dois)\b"), "em 2"),
    (re.compile(r"\bem tr[êe]s\b"), "em 3"),
    (re.compile(r"\bq\s+vem\b"), "que vem"),
    (re.compile(rf"\b(?:next|this|coming|pr[óo]x(?:im[ao]|\.)?|nesta|nessa|esta|essa)\s+(?={WEEKDAY}\b)"), ""),
    (re.compile(rf"\b({WEEKDAY})\s+que vem\b"), r"\1"),
    (re.compile(r"\bseg\b\.?"), "segunda"),  # the one Portuguese abbreviation dateparser does not know
)
VAGUE = re.compile(
    r"\b(?:(?:next|this|coming)\s+(?:week|month)|(?:pr[óo]xima|esta|essa|nesta)\s+semana|semana\s+que\s+vem"
    r"|(?:pr[óo]ximo|este|esse|neste)\s+m[êe]s|m[êe]s\s+que\s+vem|weekend|fim\s+de\s+semana)\b"
)
RELATIVE = re.compile(
    r"\b(?:in|em)\s+(?:\d{1,3}|an?|one|two|three|uma?)\s*"
    r"(?:hours?|hrs?|h|minutes?|mins?|horas?|minutos?)\b"
)
NOON = re.compile(r"(?:\b(?:at|ao|às|as)\s+)?\b(?P<word>noon|midday|meio[- ]dia|midnight|meia[- ]noite)\b")
CLOCK = re.compile(
    r"(?:(?P<prep>\bat|@|\bàs|\bas|\baround|\bpelas|\bpor volta das|\ba partir das)\s*)?"
    r"(?<![\w/:.\-])(?P<hour>\d{1,2})"
    r"(?:(?::|h|(?(prep)\.|\.(?=\d{2}\s*[ap]\.?\s?m\b)))(?P<minute>\d{2}))?"  # 4.30 only after "at" or before pm
    r"(?:\s*(?P<suffix>[ap]\.?\s?m\b\.?|hs\b|hrs\b|h\b|horas?\b))?(?![\w/:\-]|\.\d)"
)
_PERIOD_WORD = r"(?:morning|afternoon|evening|tonight|night|manhã|manha|tarde|noite)"
PERIOD_AHEAD = re.compile(rf"\s+(?:in the|of the|da|de|à|a)\s+{_PERIOD_WORD}\b")
BARE_HOUR = re.compile(rf"\b(?P<day>{DAY_WORD})\s+(?P<hour>\d{{1,2}})(?![\w/:.\-])")
ONLY_HOUR = re.compile(r"\s*(?P<hour>\d{1,2})\s*[.!?]*\s*")  # "10" answering "at what time?"
PERIOD = re.compile(
    r"(?:\b(?P<prefix>in the|this|esta|nesta|de|da|à|a|pela|na|of the)\s+)?"
    rf"\b(?P<word>{_PERIOD_WORD})\b"
)
PERIOD_KIND = {"manhã": "morning", "manha": "morning", "tarde": "afternoon", "tonight": "evening",
               "night": "evening", "noite": "evening", "morning": "morning", "afternoon": "afternoon",
               "evening": "evening"}
TODAY_PREFIXES = ("this", "esta", "nesta")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
DAY_OF_MONTH = re.compile(
    r"\b(?:dia|day|the)\s+(?P<day>\d{1,2})(?:st|nd|rd|th|º|°)?\b(?!\s*(?:/|-|de\s+[a-z]|of\s+[a-z]))"
)
BARE_DAY_OF_MONTH = re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th|º|°)?")
FILLER = re.compile(r"[\s,.;:!?]+|\b(?:at|on|às|as|de|do|da|no|na|para|for|dia|the|@)\b")


def normalise(text: str, today: dt.date) -> str:
    """Lower case, single spaces, and the customers' spellings rewritten into the forms the parser reads."""
    cleaned = " ".join(unicodedata.normalize("NFC", text or "").lower().split())
    cleaned = _DAY_IN_WORDS.sub(lambda match: f"dia {_HOUR_WORDS[match['word']]}", cleaned)
    cleaned = _HOUR_IN_WORDS.sub(lambda match: f"{match['prep'] or ''} {_HOUR_WORDS[match['word']]}", cleaned)
    for pattern, replacement in _REWRITES:
        cleaned = pattern.sub(replacement, cleaned)
    cleaned = _WEEKDAY_OF_NEXT_WEEK.sub(lambda match: _next_week_date(match["day"], today), cleaned)
    return " ".join(cleaned.split())


def _next_week_date(day_name: str, today: dt.date) -> str:
    """`day_name`'s date in the week after `today`'s (weeks start on Monday), as ISO text."""
    monday = today + dt.timedelta(days=7 - today.weekday())
    return (monday + dt.timedelta(days=WEEKDAY_INDEX[day_name])).isoformat()
