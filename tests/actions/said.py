"""What an action said through a `CollectingDispatcher`, rendered from the domain as the customer reads it."""

from typing import Any, List, Mapping, Optional, Tuple

from rasa_sdk.executor import CollectingDispatcher

from supportdesk.platform.responses import get_responses

_DISPATCHER_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


def said(dispatcher: CollectingDispatcher, slots: Optional[Mapping[str, Any]] = None) -> List[Tuple[str, str]]:
    """Each message as (response name, rendered text), filled from `slots` and the values the action passed."""
    messages = []
    for message in dispatcher.messages:
        values = {key: value for key, value in message.items() if key not in _DISPATCHER_KEYS}
        messages.append((message["response"], get_responses().text(message["response"], slots, **values)))
    return messages
