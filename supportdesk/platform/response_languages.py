"""`make validate`'s language check: every response exists alike in every supported language.

A response's unconditioned variation is the default language (`SUPPORTED_LANGUAGES[0]`, English)
and the fallback; every other language has variations conditioned on the `language` slot
(`condition: [{type: slot, name: language, value: pt-BR}]`). For each response the check wants:

- an unconditioned variation, and at least one variation per other supported language;
- the same `{placeholders}` and the same button payloads (in order) in every language;
- the `language` slot in every conditioned variation, with a supported value: a condition on
  another slot alone matches customers of every language;
- no two different conditions that can hold at once (Rasa picks at random among all matching
  conditioned variations, never the most specific one).

`python -m supportdesk.platform.response_languages` checks `domain.yml` merged with `domain/`,
prints one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from supportdesk.platform.domain_importer import domain_paths
from supportdesk.platform.responses import SHARED_DOMAIN
from supportdesk.platform.settings import SUPPORTED_LANGUAGES

LANGUAGE_SLOT = "language"
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")  # the pattern Rasa's interpolator fills
NOT_WORDING = ("condition", "channel", "id")  # variation keys that are not sent
Condition = FrozenSet[Tuple[str, str]]


class ResponseLanguageError(ValueError):
    """One way a response does not exist alike in every supported language."""

    def __init__(self, response: str, problem: str) -> None:
        super().__init__(f"{response}: {problem}")
        self.response = response


def _conditions(variation: Mapping[str, Any]) -> Condition:
    """The variation's slot conditions as (slot, value) pairs, values case-folded as Rasa compares them."""
    return frozenset(
        (str(c.get("name")), str(c.get("value")).casefold()) for c in variation.get("condition") or []
    )


def _language(variation: Mapping[str, Any], languages: Sequence[str]) -> Optional[str]:
    """The variation's language: its `language` condition, else the default language."""
    for name, value in _conditions(variation):
        if name == LANGUAGE_SLOT:
            return next((language for language in languages if language.casefold() == value), value)
    return languages[0]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def placeholders(variation: Mapping[str, Any]) -> Set[str]:
    """Every `{placeholder}` in what the variation sends (text, buttons, ...)."""
    sent = {key: value for key, value in variation.items() if key not in NOT_WORDING}
    return {match for text in _strings(sent) for match in PLACEHOLDER.findall(text)}


def payloads(variation: Mapping[str, Any]) -> Tuple[str, ...]:
    """The variation's button payloads, in order."""
    return tuple(str(button.get("payload")) for button in variation.get("buttons") or [])


def _ambiguous(name: str, variations: Sequence[Mapping[str, Any]]) -> Iterator[ResponseLanguageError]:
    """Pairs of different conditions that can hold at once: Rasa would pick either at random."""
    conditions = sorted({_conditions(v) for v in variations if v.get("condition")}, key=sorted)
    for index, first in enumerate(conditions):
        for second in conditions[index + 1:]:
            required = dict(first)
            if all(required.get(slot, value) == value for slot, value in second):
                yield ResponseLanguageError(
                    name, f"conditions {sorted(first)} and {sorted(second)} can both match; Rasa then picks at random"
                )


def response_problems(
    name: str, variations: Sequence[Mapping[str, Any]], languages: Sequence[str] = SUPPORTED_LANGUAGES
) -> List[ResponseLanguageError]:
    """What is wrong with one response's variations, empty when it exists alike in every language."""
    default = languages[0]
    problems: List[ResponseLanguageError] = []
    if not any(not v.get("condition") for v in variations):
        problems.append(ResponseLanguageError(name, f"no unconditioned variation (the {default} one)"))
    by_language: Dict[str, List[Mapping[str, Any]]] = {}
    for variation in variations:
        language = _language(variation, languages)
        if variation.get("condition") and all(slot != LANGUAGE_SLOT for slot, _ in _conditions(variation)):
            problems.append(ResponseLanguageError(
                name, f"a variation conditioned on {sorted(_conditions(variation))} without the language slot "
                      "is sent whatever the customer's language"
            ))
        if language not in languages:
            problems.append(ResponseLanguageError(name, f"language {language!r} is not one of {list(languages)}"))
            continue
        by_language.setdefault(language, []).append(variation)
    problems.extend(_ambiguous(name, variations))
    reference = by_language.get(default, [])
    for language in languages[1:]:
        own = by_language.get(language)
        if not own:
            problems.append(ResponseLanguageError(name, f"no variation in {language}"))
            continue
        expected, found = set().union(*map(placeholders, reference)), set().union(*map(placeholders, own))
        if reference and expected != found:
            problems.append(ResponseLanguageError(
                name, f"placeholders differ: {default} {sorted(expected)}, {language} {sorted(found)}"
            ))
        expected_payloads, found_payloads = {payloads(v) for v in reference}, {payloads(v) for v in own}
        if reference and expected_payloads != found_payloads:
            problems.append(ResponseLanguageError(
                name, f"button payloads differ: {default} {sorted(expected_payloads)}, "
                      f"{language} {sorted(found_payloads)}"
            ))
    return problems


def slot_problems(slot_values: Optional[Sequence[str]], languages: Sequence[str]) -> List[ResponseLanguageError]:
    """The `language` slot must offer exactly the supported languages (Rasa lower-cases the values)."""
    wanted = sorted(language.casefold() for language in languages)
    if slot_values is None or sorted(str(v).casefold() for v in slot_values) != wanted:
        return [ResponseLanguageError(
            f"slot {LANGUAGE_SLOT}", f"values {sorted(slot_values or [])} are not SUPPORTED_LANGUAGES {list(languages)}"
        )]
    return []


def domain_problems(
    responses: Mapping[str, Sequence[Mapping[str, Any]]],
    slot_values: Optional[Sequence[str]],
    languages: Sequence[str] = SUPPORTED_LANGUAGES,
) -> List[ResponseLanguageError]:
    """Every problem of a domain's responses and `language` slot, sorted by response."""
    problems = slot_problems(slot_values, languages)
    for name in sorted(responses):
        problems.extend(response_problems(name, responses[name], languages))
    return problems


def load_domain(shared_domain: Path = SHARED_DOMAIN) -> Tuple[Dict[str, List[Dict[str, Any]]], Optional[List[str]]]:
    """The responses, as written, of `domain.yml` merged with `domain/`, and the `language` slot's values."""
    from rasa.shared.core.constants import DEFAULT_CATEGORICAL_SLOT_VALUE
    from rasa.shared.core.domain import Domain

    domain = Domain.load([str(path) for path in domain_paths(str(shared_domain))])
    slot = next((s for s in domain.slots if s.name == LANGUAGE_SLOT), None)
    values = [v for v in getattr(slot, "values", []) if v != DEFAULT_CATEGORICAL_SLOT_VALUE] if slot else None
    return domain.responses, values


def check_domain(shared_domain: Path = SHARED_DOMAIN, languages: Sequence[str] = SUPPORTED_LANGUAGES) -> List[ResponseLanguageError]:
    """The problems of `domain.yml` merged with `domain/`, as training sees them."""
    return domain_problems(*load_domain(shared_domain), languages)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Check the domain (or the shared domain file given as the one argument); 1 when any problem."""
    args = list(sys.argv[1:] if argv is None else argv)
    problems = check_domain(Path(args[0])) if args else check_domain()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s): every response needs a variation in each of {list(SUPPORTED_LANGUAGES)}")
        return 1
    print(f"every response exists in {', '.join(SUPPORTED_LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
