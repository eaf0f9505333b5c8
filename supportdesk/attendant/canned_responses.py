"""Saved replies: `data/canned_responses.yml`, edited by the team like the rest of the YAML.

Each entry has a `shortcut` (what the console's `/shortcut` types: lowercase letters, digits,
`-` and `_`) and its `text` in every supported language. `python -m
supportdesk.attendant.canned_responses` checks the file (`make validate` runs it).
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from supportdesk.platform.settings import PROJECT_ROOT, SUPPORTED_LANGUAGES
from supportdesk.platform.team_files import check_team_file
from supportdesk.whatsapp.limits import TEXT_MAX

FILE_NAME = "data/canned_responses.yml"
SHORTCUT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class InvalidCannedResponses(ValueError):
    """The file is not a valid list of saved replies; the message says where."""


@dataclasses.dataclass(frozen=True)
class CannedResponse:
    """One saved reply: its shortcut and its text per language."""

    shortcut: str
    texts: Dict[str, str]

    def to_json(self, language: str) -> Dict[str, Any]:
        """The API's form: the text in `language`, and every language's text."""
        return {"shortcut": self.shortcut, "text": self.texts[language], "texts": dict(self.texts)}


def _entry(position: int, raw: Any) -> CannedResponse:
    where = f"canned_responses[{position}]"
    if not isinstance(raw, dict) or set(raw) != {"shortcut", "text"}:
        raise InvalidCannedResponses(f"{where} must have exactly the keys shortcut and text")
    shortcut, texts = raw["shortcut"], raw["text"]
    if not isinstance(shortcut, str) or not SHORTCUT_PATTERN.match(shortcut):
        raise InvalidCannedResponses(f"{where}.shortcut must be 1-32 of a-z 0-9 - _, starting with a letter or digit")
    if not isinstance(texts, dict) or set(texts) != set(SUPPORTED_LANGUAGES):
        raise InvalidCannedResponses(f"{where}.text must give exactly the languages {', '.join(SUPPORTED_LANGUAGES)}")
    for language, text in texts.items():
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX:
            raise InvalidCannedResponses(f"{where}.text.{language} must be non-empty text of at most {TEXT_MAX} characters")
    return CannedResponse(shortcut, {language: texts[language].strip() for language in SUPPORTED_LANGUAGES})


def parse_canned_responses(text: str) -> List[CannedResponse]:
    """The saved replies in a YAML document, or InvalidCannedResponses."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidCannedResponses(f"not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("canned_responses"), list):
        raise InvalidCannedResponses("the file must hold a list under canned_responses")
    entries = [_entry(position, raw) for position, raw in enumerate(document["canned_responses"])]
    shortcuts = [entry.shortcut for entry in entries]
    duplicates = sorted({shortcut for shortcut in shortcuts if shortcuts.count(shortcut) > 1})
    if duplicates:
        raise InvalidCannedResponses(f"shortcuts used twice: {', '.join(duplicates)}")
    return entries


def load_canned_responses(path: Optional[Path] = None) -> List[CannedResponse]:
    """The team's saved replies (none when the file does not exist)."""
    path = path or PROJECT_ROOT / FILE_NAME
    if not path.is_file():
        return []
    return parse_canned_responses(path.read_text(encoding="utf-8"))


def main() -> int:
    """Check the file; exit 1 with the reason when it is invalid."""
    return check_team_file(
        FILE_NAME, load_canned_responses, InvalidCannedResponses,
        lambda entries: f"{len(entries)} saved replies, each in {', '.join(SUPPORTED_LANGUAGES)}",
    )


if __name__ == "__main__":
    sys.exit(main())
