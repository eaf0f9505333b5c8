import os
from pathlib import Path

import pytest

from supportdesk.knowledge.knowledge_base import (
    KNOWLEDGE_DIRECTORY,
    MAX_KNOWLEDGE_CHARS,
    KnowledgeError,
    KnowledgeSection,
    current_knowledge,
    load_knowledge,
)

TEMPLATE = "You help {{customer_name}} at {{now}}.\n\n{{knowledge}}\n"


def write_files(directory: Path, files: dict) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_shipped_salon_knowledge_loads_with_every_section():
    knowledge = load_knowledge(KNOWLEDGE_DIRECTORY)

    assert [section.name for section in knowledge.sections] == ["company", "faq", "hours", "policies", "services"]
    assert "{{knowledge}}" in knowledge.prompt_template
    assert "<!--" not in knowledge.prompt_template
    assert "Monday to Friday: 9:00 to 18:00" in knowledge.text
    assert "Monday to Friday: 9:00 to 18:00" in knowledge.text
    assert "27 Linden Row, Brookfield" in knowledge.text
    assert "Balayage: from £130" in knowledge.text


def test_sections_come_in_file_name_order_without_drafts_comments_or_empty_files(tmp_path):
    write_files(
        tmp_path,
        {
            "prompt.md": "<!-- note for the owner -->\n" + TEMPLATE,
            "b_prices.md": "Cut £10 <!-- raise in June -->\n",
            "a_hours.md": "\ufeffOpen 9-18\n",
            "_draft.md": "Not ready",
            "empty.md": "<!-- nothing yet -->\n",
            "notes.txt": "not markdown",
        },
    )

    knowledge = load_knowledge(tmp_path)

    assert knowledge.prompt_template == TEMPLATE.strip()
    assert knowledge.sections == (KnowledgeSection("a_hours", "Open 9-18"), KnowledgeSection("b_prices", "Cut £10"))
    assert knowledge.text == "Open 9-18\n\nCut £10"


def test_missing_prompt_template_is_refused(tmp_path):
    write_files(tmp_path, {"hours.md": "Open 9-18"})

    with pytest.raises(KnowledgeError, match="prompt.md is missing"):
        load_knowledge(tmp_path)


def test_template_without_knowledge_placeholder_is_refused(tmp_path):
    write_files(tmp_path, {"prompt.md": "You help {{customer_name}}."})

    with pytest.raises(KnowledgeError, match=r"must contain \{\{knowledge\}\}"):
        load_knowledge(tmp_path)


def test_unknown_placeholder_is_refused(tmp_path):
    write_files(tmp_path, {"prompt.md": "{{knowledge}} {{api_key}}"})

    with pytest.raises(KnowledgeError, match=r"unknown placeholders \['api_key'\]"):
        load_knowledge(tmp_path)


def test_placeholder_inside_a_knowledge_file_is_refused(tmp_path):
    write_files(tmp_path, {"prompt.md": TEMPLATE, "faq.md": "Ask {{customer_name}}"})

    with pytest.raises(KnowledgeError, match="faq.md contains a"):
        load_knowledge(tmp_path)


def test_knowledge_over_the_size_limit_is_refused(tmp_path):
    write_files(tmp_path, {"prompt.md": TEMPLATE, "faq.md": "x" * (MAX_KNOWLEDGE_CHARS + 1)})

    with pytest.raises(KnowledgeError, match="over 24000"):
        load_knowledge(tmp_path)


def test_non_utf8_file_is_refused_by_name(tmp_path):
    write_files(tmp_path, {"prompt.md": TEMPLATE})
    (tmp_path / "prices.md").write_bytes("Corte €10".encode("cp1252"))

    with pytest.raises(KnowledgeError, match="prices.md is not UTF-8"):
        load_knowledge(tmp_path)


def test_current_knowledge_is_cached_until_a_file_changes(tmp_path):
    write_files(tmp_path, {"prompt.md": TEMPLATE, "hours.md": "Open 9-18"})
    first = current_knowledge(tmp_path)

    assert current_knowledge(tmp_path) is first

    (tmp_path / "hours.md").write_text("Open 9-19, Saturdays 9-13", encoding="utf-8")
    stat = (tmp_path / "hours.md").stat()
    os.utime(tmp_path / "hours.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert current_knowledge(tmp_path).text == "Open 9-19, Saturdays 9-13"

    write_files(tmp_path, {"faq.md": "No extensions"})
    assert current_knowledge(tmp_path).text == "No extensions\n\nOpen 9-19, Saturdays 9-13"
