"""The check `make validate` runs on each YAML file the team edits beside Rasa's own (services, answers, saved replies)."""

from __future__ import annotations

import sys
from typing import Callable, Type, TypeVar

T = TypeVar("T")


def check_team_file(file_name: str, load: Callable[[], T], invalid: Type[Exception], summary: Callable[[T], str]) -> int:
    """Load the file; print what it holds and return 0, or print why it is invalid and return 1."""
    try:
        content = load()
    except invalid as error:
        print(f"{file_name}: {error}", file=sys.stderr)
        return 1
    print(f"{file_name}: {summary(content)}")
    return 0
