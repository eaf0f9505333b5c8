"""The services customers can book: `data/services.yml`, edited by the team like the rest of the YAML.

Each entry has an `id`, a `title` in every supported language (at most 24 characters, a WhatsApp list
row) and the `words` customers use for it. `match_service` finds the one service a customer's text
names, comparing without case, accents or punctuation; the longest words win ("cut and blow dry" is a
haircut, not a blow-dry), and a text naming two services names none. `python -m
supportdesk.scheduling.services` checks the file (`make validate` runs it).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from supportdesk.messaging.typed_choices import comparable
from supportdesk.platform.settings import PROJECT_ROOT, SUPPORTED_LANGUAGES
from supportdesk.platform.team_files import check_team_file
from supportdesk.whatsapp.limits import LIST_ROWS_MAX, ROW_TITLE_MAX

FILE_NAME = "data/services.yml"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class InvalidServices(ValueError):
    """The file is not a valid list of services; the message says where."""


@dataclasses.dataclass(frozen=True)
class Service:
    """One bookable service: its id, its title per language and the words that name it."""

    id: str
    titles: Dict[str, str]
    words: Tuple[str, ...]

    def title(self, language: Optional[str]) -> str:
        """The title in the conversation's language (English when unknown)."""
        return self.titles.get(language or "", self.titles[SUPPORTED_LANGUAGES[0]])

    def phrases(self) -> Tuple[str, ...]:
        """Every title and word, compared as `comparable` writes them."""
        return tuple(dict.fromkeys(comparable(text) for text in (*self.titles.values(), *self.words) if comparable(text)))


def _entry(position: int, raw: Any) -> Service:
    where = f"services[{position}]"
    if not isinstance(raw, dict) or set(raw) - {"words"} != {"id", "title"}:
        raise InvalidServices(f"{where} must have the keys id and title (and optionally words)")
    if not isinstance(raw["id"], str) or not ID_PATTERN.match(raw["id"]):
        raise InvalidServices(f"{where}.id must be 1-40 of a-z 0-9 _, starting with a letter")
    titles = raw["title"]
    if not isinstance(titles, dict) or set(titles) != set(SUPPORTED_LANGUAGES):
        raise InvalidServices(f"{where}.title must give exactly the languages {', '.join(SUPPORTED_LANGUAGES)}")
    for language, title in titles.items():
        if not isinstance(title, str) or not comparable(title) or len(title.strip()) > ROW_TITLE_MAX:
            raise InvalidServices(f"{where}.title.{language} must be text of 1-{ROW_TITLE_MAX} characters")
    words = raw.get("words") or []
    if not isinstance(words, list) or not all(isinstance(word, str) and comparable(word) for word in words):
        raise InvalidServices(f"{where}.words must be a list of non-empty texts")
    return Service(raw["id"], {language: titles[language].strip() for language in SUPPORTED_LANGUAGES}, tuple(words))


def parse_services(text: str) -> List[Service]:
    """The services in a YAML document, or InvalidServices."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidServices(f"not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise InvalidServices("the file must hold a list under services")
    services = [_entry(position, raw) for position, raw in enumerate(document["services"])]
    if len(services) > LIST_ROWS_MAX:
        raise InvalidServices(f"at most {LIST_ROWS_MAX} services (one WhatsApp list), not {len(services)}")
    _check_unique([service.id for service in services], "ids")
    for language in SUPPORTED_LANGUAGES:
        _check_unique([comparable(service.titles[language]) for service in services], f"{language} titles")
    owners: Dict[str, str] = {}
    for service in services:
        for phrase in service.phrases():
            if owners.setdefault(phrase, service.id) != service.id:
                raise InvalidServices(f"'{phrase}' names both {owners[phrase]} and {service.id}")
    return services


@functools.lru_cache(maxsize=4)
def load_services(path: Optional[Path] = None) -> Tuple[Service, ...]:
    """The business's services (none when the file does not exist: the form then takes any text)."""
    path = path or PROJECT_ROOT / FILE_NAME
    if not path.is_file():
        return ()
    return tuple(parse_services(path.read_text(encoding="utf-8")))


def match_service(text: str, services: Sequence[Service]) -> Optional[Service]:
    """The one service `text` names (longest words first, whole words only), or None."""
    typed = f" {comparable(text)} "
    found = []  # (length, start, service)
    for service in services:
        for phrase in service.phrases():
            start = typed.find(f" {phrase} ")
            while start >= 0:
                found.append((len(phrase), start, service))
                start = typed.find(f" {phrase} ", start + 1)
    taken: List[Tuple[int, int]] = []
    named = []
    for length, start, service in sorted(found, key=lambda item: -item[0]):
        span = (start + 1, start + 1 + length)
        if any(span[0] < end and begin < span[1] for begin, end in taken):
            continue  # inside a longer match: "blow dry" within "cut and blow dry"
        taken.append(span)
        named.append(service.id)
    ids = set(named)
    if len(ids) != 1:
        return None
    return next(service for service in services if service.id in ids)


def service_titled(title: Optional[str], services: Sequence[Service]) -> Optional[Service]:
    """The service whose title (in any language) `title` is, as the form stored it, or None."""
    typed = comparable(title or "")
    return next((service for service in services if typed in {comparable(t) for t in service.titles.values()}), None)


def _check_unique(values: List[str], what: str) -> None:
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise InvalidServices(f"{what} used twice: {', '.join(duplicates)}")


def main() -> int:
    """Check the file; exit 1 with the reason when it is invalid."""
    return check_team_file(
        FILE_NAME, load_services, InvalidServices,
        lambda services: f"{len(services)} services, each titled in {', '.join(SUPPORTED_LANGUAGES)}",
    )


if __name__ == "__main__":
    sys.exit(main())
