"""Custom actions served by the rasa-sdk action server (`rasa run actions --actions actions`)."""

from sanic import Sanic
from sanic.exceptions import SanicException

from supportdesk.knowledge.openai_answers import close_openai_answers
from supportdesk.platform.settings import get_settings
from supportdesk.platform.structured_logging import configure_logging

configure_logging(get_settings().log_level, get_settings().log_format)


async def _close_clients(*_: object) -> None:
    """Close the OpenAI client when the action server stops."""
    await close_openai_answers()


try:  # rasa-sdk imports this package while building its Sanic app "rasa_sdk", before serving
    Sanic.get_app("rasa_sdk").register_listener(_close_clients, "after_server_stop")
except SanicException:
    pass  # imported outside the action server (tests, tools): nothing to close at its end
