"""What a customer's answer inside the appointment form is: yes, no, a correction, a time.

The words are what customers type, kept in `data/answers.yml` (edited by the team like the rest of the
YAML) and compared without case, accents or punctuation. A yes or a no is the whole message, perhaps
with a courtesy ("sim, pode ser", "yes please"): "colour" or "yes but friday" is neither, and the form
asks again rather than guess. `python -m supportdesk.scheduling.answers` checks the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import sys
from pathlib import Path
from typing import FrozenSet, Optional, Tuple

import yaml

from supportdesk.messaging.typed_choices import comparable
from supportdesk.platform.settings import PROJECT_ROOT
from supportdesk.platform.team_files import check_team_file
from supportdesk.scheduling import time_phrases as words

FILE_NAME = "data/answers.yml"
KINDS = ("yes", "no", "courtesy", "correction")
_EMOJI_YES_NO = {"\U0001f44d": "yes", "\U0001f44e": "no"}  # 👍 / 👎, which `comparable` drops


class InvalidAnswers(ValueError):
    """The file is not a valid set of answer words; the message says where."""


@dataclasses.dataclass(frozen=True)
class AnswerWords:
    """Each kind's words, as `comparable` writes them."""

    yes: FrozenSet[str]
    no: FrozenSet[str]
    courtesy: Tuple[str, ...]  # longest first, so "thank you" goes before "thank"
    correction: Tuple[str, ...]


def parse_answers(text: str) -> AnswerWords:
    """The answer words in a YAML document, or InvalidAnswers."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidAnswers(f"not valid YAML: {error}") from None
    answers = document.get("answers") if isinstance(document, dict) else None
    if not isinstance(answers, dict) or set(answers) != set(KINDS):
        raise InvalidAnswers(f"the file must hold, under answers, exactly the lists {', '.join(KINDS)}")
    kinds = {}
    for kind in KINDS:
        listed = answers[kind]
        if not isinstance(listed, list) or not listed or not all(isinstance(word, str) for word in listed):
            raise InvalidAnswers(f"answers.{kind} must be a list of texts (quote yes and no: YAML reads them as true/false)")
        kinds[kind] = [_comparable_answer(word) for word in listed]
        if not all(kinds[kind]):
            raise InvalidAnswers(f"answers.{kind} has an entry with no letters or digits")
    both = sorted(set(kinds["yes"]) & set(kinds["no"]))
    if both:
        raise InvalidAnswers(f"both yes and no: {', '.join(both)}")
    return AnswerWords(
        frozenset(kinds["yes"]), frozenset(kinds["no"]),
        tuple(sorted(set(kinds["courtesy"]), key=len, reverse=True)), tuple(kinds["correction"]),
    )


@functools.lru_cache(maxsize=4)
def load_answers(path: Optional[Path] = None) -> AnswerWords:
    """The team's answer words."""
    return parse_answers((path or PROJECT_ROOT / FILE_NAME).read_text(encoding="utf-8"))


def yes_or_no(text: str) -> Optional[bool]:
    """True for a yes, False for a no, None for anything else (the form then asks again)."""
    answers = load_answers()
    typed = _comparable_answer(text)
    for courtesy in answers.courtesy:
        typed = " ".join(re.sub(rf"(?:^| ){re.escape(courtesy)}(?= |$)", " ", typed).split())
    if typed in answers.yes:
        return True
    if typed in answers.no:
        return False
    return None


def is_correction(text: str) -> bool:
    """True when the customer says they are changing something ("actually...", "na verdade...")."""
    typed = f" {comparable(text)} "
    return any(f" {word} " in typed for word in load_answers().correction)


def mentions_time(text: str) -> bool:
    """True when the text names a day, an hour or a part of the day (worth reading as a time)."""
    cleaned = words.normalise(text, dt.date.today())
    return bool(
        re.search(r"\d", cleaned)
        or re.search(rf"\b{words.DAY_WORD}\b", cleaned)
        or words.PERIOD.search(cleaned)
        or words.NOON.search(cleaned)
    )


def _comparable_answer(text: str) -> str:
    for emoji, word in _EMOJI_YES_NO.items():
        text = (text or "").replace(emoji, f" {word} ")
    return comparable(text)


def main() -> int:
    """Check the file; exit 1 with the reason when it is invalid."""
    return check_team_file(
        FILE_NAME, load_answers, InvalidAnswers, lambda answers: f"{len(answers.yes)} yes and {len(answers.no)} no answers"
    )


if __name__ == "__main__":
    sys.exit(main())
