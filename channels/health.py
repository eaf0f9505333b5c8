"""Health endpoints for load balancers and Kubernetes: `/webhooks/health/live` and `/ready`.

Register in `credentials.yml` as `channels.health.HealthInput:`. Liveness only says the
process serves HTTP; readiness also needs the database and a loaded model, and turns 503
as soon as shutdown starts so the load balancer stops sending traffic first.
"""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from supportdesk.platform.database import DatabaseUnavailable
from supportdesk.platform.http_errors import ChannelBlueprint
from supportdesk.runtime import get_runtime


class HealthInput(InputChannel):
    """Liveness and readiness probes."""

    @classmethod
    def name(cls) -> Text:
        """URL segment: `/webhooks/health/...`."""
        return "health"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """No credentials."""
        return cls()

    def __init__(self) -> None:
        self._stopping = False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The two probes and the shutdown flag."""
        health = ChannelBlueprint(f"health_{uuid.uuid4().hex[:8]}")

        @health.route("/live", methods=["GET"])
        async def live(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @health.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            model_ready = bool(agent is not None and agent.is_ready())
            try:
                database = get_runtime().database  # building the runtime connects and migrates
                database_ready = await database.run(database.is_available)
            except DatabaseUnavailable:
                database_ready = False
            checks = {"model": model_ready, "database": database_ready, "accepting": not self._stopping}
            status = 200 if all(checks.values()) else 503
            return response.json({"status": "ready" if status == 200 else "unavailable", "checks": checks}, status=status)

        @health.listener("before_server_stop")
        async def stopping(_: Any, __: Any) -> None:
            self._stopping = True

        return health
