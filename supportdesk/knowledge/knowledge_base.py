"""The business's own words for the AI answers: knowledge files and the system prompt template.

Layout (`data/knowledge/`, edited by the business, no code and no retraining involved):
`prompt.md` is the system prompt template; every other `*.md` file is one knowledge
section, sent in file-name order. Files starting with `_` are drafts and are skipped;
`<!-- ... -->` comments are notes for the business and never reach the model.
The template must contain `{{knowledge}}` and may use `{{customer_name}}` and `{{now}}`.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path
from typing import Dict, Optional, Tuple

from supportdesk.platform.settings import PROJECT_ROOT

KNOWLEDGE_DIRECTORY = PROJECT_ROOT / "data" / "knowledge"
PROMPT_FILE_NAME = "prompt.md"
PLACEHOLDERS = frozenset({"knowledge", "customer_name", "now", "business_hours"})  # business_hours: BUSINESS_HOURS
# Every AI call sends all knowledge: 24 000 characters is about 6 000 tokens per call,
# enough for a small business's full FAQ while keeping each answer well under a cent.
MAX_KNOWLEDGE_CHARS = 24_000

PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


class KnowledgeError(ValueError):
    """The knowledge files cannot be used as they are; the message names the file."""


@dataclasses.dataclass(frozen=True)
class KnowledgeSection:
    """One knowledge file: its name (file stem) and text without comments."""

    name: str
    text: str


@dataclasses.dataclass(frozen=True)
class Knowledge:
    """The prompt template and the knowledge sections, as the business wrote them."""

    prompt_template: str
    sections: Tuple[KnowledgeSection, ...]

    @property
    def text(self) -> str:
        """All sections joined, in order, for the `{{knowledge}}` placeholder."""
        return "\n\n".join(section.text for section in self.sections)


def _read_markdown(path: Path) -> str:
    """A file's text without BOM, comments and surrounding blank lines."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise KnowledgeError(f"{path.name} is not UTF-8 text") from None
    return _COMMENT.sub("", raw).strip()


def _checked_template(path: Path) -> str:
    if not path.is_file():
        raise KnowledgeError(f"{path} is missing: the system prompt template")
    template = _read_markdown(path)
    names = set(PLACEHOLDER_PATTERN.findall(template))
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise KnowledgeError(f"{path.name} uses unknown placeholders {unknown}; allowed: {sorted(PLACEHOLDERS)}")
    if "knowledge" not in names:
        raise KnowledgeError(f"{path.name} must contain {{{{knowledge}}}} where the business information goes")
    return template


def knowledge_files(directory: Path) -> Tuple[Path, ...]:
    """The knowledge section files of `directory`, in the order they are sent."""
    return tuple(
        path
        for path in sorted(directory.glob("*.md"))
        if path.name != PROMPT_FILE_NAME and not path.name.startswith("_") and path.is_file()
    )


def load_knowledge(directory: Path = KNOWLEDGE_DIRECTORY) -> Knowledge:
    """Read and check the template and knowledge files of `directory`; raises `KnowledgeError`."""
    template = _checked_template(directory / PROMPT_FILE_NAME)
    sections = []
    for path in knowledge_files(directory):
        text = _read_markdown(path)
        if PLACEHOLDER_PATTERN.search(text):
            raise KnowledgeError(f"{path.name} contains a {{{{...}}}} placeholder; only {PROMPT_FILE_NAME} may")
        if text:
            sections.append(KnowledgeSection(name=path.stem, text=text))
    knowledge = Knowledge(prompt_template=template, sections=tuple(sections))
    if len(knowledge.text) > MAX_KNOWLEDGE_CHARS:
        raise KnowledgeError(
            f"knowledge files hold {len(knowledge.text)} characters, over {MAX_KNOWLEDGE_CHARS}: "
            "every answer sends them all"
        )
    return knowledge


_Signature = Tuple[Tuple[str, int, int], ...]
_cache: Dict[Path, Tuple[_Signature, Knowledge]] = {}
_cache_lock = threading.Lock()


def _signature(directory: Path) -> _Signature:
    entries = []
    for path in sorted(directory.glob("*.md")):
        stat = path.stat()
        entries.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def current_knowledge(directory: Path = KNOWLEDGE_DIRECTORY) -> Knowledge:
    """The knowledge of `directory`, cached and re-read when a file is added, removed or edited."""
    key = directory.resolve()
    signature = _signature(key)
    with _cache_lock:
        cached: Optional[Tuple[_Signature, Knowledge]] = _cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    knowledge = load_knowledge(key)
    with _cache_lock:
        _cache[key] = (signature, knowledge)
    return knowledge
