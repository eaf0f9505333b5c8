"""Saved replies: the team's YAML is checked (`make validate`) and read as written."""

from __future__ import annotations

import pytest

from supportdesk.attendant.canned_responses import InvalidCannedResponses, load_canned_responses, main, parse_canned_responses

GOOD = """
canned_responses:
  - shortcut: hours
    text:
      en: "We open at 9."
      pt-BR: "Abrimos às 9."
"""


def test_the_projects_file_is_valid_and_bilingual(capsys):
    entries = load_canned_responses()
    assert entries and all(set(entry.texts) == {"en", "pt-BR"} for entry in entries)
    assert main() == 0 and "saved replies" in capsys.readouterr().out


def test_a_good_file_is_read_as_written():
    [entry] = parse_canned_responses(GOOD)
    assert entry.to_json("pt-BR") == {"shortcut": "hours", "text": "Abrimos às 9.", "texts": {"en": "We open at 9.", "pt-BR": "Abrimos às 9."}}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("nothing: here", "a list under canned_responses"),
        (GOOD.replace("hours", "Hours!"), "canned_responses[0].shortcut"),
        (GOOD.replace('      pt-BR: "Abrimos às 9."\n', ""), "exactly the languages en, pt-BR"),
        (GOOD.replace('"We open at 9."', '"  "'), "canned_responses[0].text.en"),
        (GOOD + GOOD.replace("canned_responses:\n", ""), "shortcuts used twice: hours"),
        ("canned_responses: [x", "not valid YAML"),
    ],
)
def test_a_bad_file_says_where(text, complaint):
    with pytest.raises(InvalidCannedResponses, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        parse_canned_responses(text)
