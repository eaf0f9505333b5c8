"""Custom actions served by the rasa-sdk action server (`rasa run actions --actions actions`)."""

from sanic import Sanic
from sanic.exceptions import SanicException

from supportdesk.knowledge.openai_answers import close_openai_answers
from supportdesk.platform.action_server import require_action_token
from supportdesk.platform.http_errors import serve_json_errors_at_start
from supportdesk.platform.settings import get_settings
from supportdesk.platform.structured_logging import configure_logging

configure_logging(get_settings().log_level, get_settings().log_format)


async def _close_clients(*_: object) -> None:
    """Close the OpenAI client when the action server stops."""
    await close_openai_answers()


def serve_on(app: Sanic) -> None:
    """Set up rasa-sdk's server for this package: only Rasa's calls (with the token), clients closed at the end."""
    require_action_token(app)
    serve_json_errors_at_start(app)  # a failing action is a 500 with our body, never the request echoed; logs masked
    app.register_listener(_close_clients, "after_server_stop")


try:  # rasa-sdk imports this package while building its Sanic app "rasa_sdk", before serving
    _server = Sanic.get_app("rasa_sdk")
except SanicException:
    _server = None  # imported outside the action server (tests, tools): nothing to guard or close
if _server is not None:
    serve_on(_server)
