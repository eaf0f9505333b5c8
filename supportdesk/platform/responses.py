"""The domain's responses rendered outside a dialogue turn, exactly as Rasa renders them in one.

Texts that the service sends on its own (holding and release messages, appointment answers,
pushes to attendants' phones) are domain responses like every other: designers change the
wording, or add a language, in `domain/*.yml`. Rendering goes through Rasa's own
`TemplatedNaturalLanguageGenerator`, so `{slot}` placeholders, keyword values, channel-specific
variations and slot conditions (the conversation's language) behave as they do in a turn.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from supportdesk.platform.domain_importer import domain_paths

CHANNEL = "whatsapp"
# The domain files ship with the code (like the model they train), so they are found beside it.
SHARED_DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


class MissingResponse(KeyError):
    """The domain has no variation of this response for these slots."""


class ResponseRenderer:
    """Renders responses by name from one domain's `responses:` section."""

    def __init__(self, responses: Mapping[str, List[Dict[str, Any]]]) -> None:
        self._responses = dict(responses)
        self._generator = TemplatedNaturalLanguageGenerator(self._responses)

    def names(self) -> List[str]:
        """Every response name the domain defines."""
        return sorted(self._responses)

    def render(
        self, response_name: str, slots: Optional[Mapping[str, Any]] = None, /, **values: Any
    ) -> Dict[str, Any]:
        """The message for `response_name` (text, buttons, ...), with slots and `values` filled in.

        The name and slots are positional-only, so any placeholder (`{name}` too) can be a value.
        """
        message = self._generator.generate_from_slots(response_name, dict(slots or {}), CHANNEL, **values)
        if message is None:
            raise MissingResponse(response_name)
        message["utter_action"] = response_name
        return message

    def text(self, response_name: str, slots: Optional[Mapping[str, Any]] = None, /, **values: Any) -> str:
        """Only the text of `response_name`."""
        return str(self.render(response_name, slots, **values).get("text") or "")


def load_responses(shared_domain: Path = SHARED_DOMAIN) -> ResponseRenderer:
    """The responses of `domain.yml` merged with `domain/`, as training sees them."""
    from rasa.shared.core.domain import Domain

    paths = domain_paths(str(shared_domain))
    return ResponseRenderer(Domain.load([str(path) for path in paths]).responses)


_renderer: Optional[ResponseRenderer] = None
_lock = threading.Lock()


def get_responses() -> ResponseRenderer:
    """The project's responses, loaded once on first use."""
    global _renderer
    with _lock:
        if _renderer is None:
            _renderer = load_responses()
        return _renderer
