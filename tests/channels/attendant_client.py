"""What the attendant API tests share: an app, tokens, calls, and a customer in a known state."""

from __future__ import annotations

import itertools
import json
import time
from typing import Optional

from sanic import Sanic

from channels.attendant import AttendantInput
from supportdesk.attendant.tokens import mint_token
from supportdesk.runtime import get_runtime

SECRET = "attendant-api-test-secret-0123456789"
JOAO = "5511987654321"  # the customer of the fixtures
_apps = itertools.count()


async def _ignore(_message) -> None:
    return None


def attendant_app() -> Sanic:
    """The attendant API alone, without its timer loops."""
    app = Sanic(f"attendant_lifecycle_test_{next(_apps)}")
    app.blueprint(AttendantInput(run_timers=False).blueprint(_ignore), url_prefix="/webhooks/attendant")
    return app


def auth(sub: str = "ana", role: str = "attendant") -> dict:
    """A bearer header for `sub`."""
    return {"Authorization": f"Bearer {mint_token(SECRET, sub, sub.title(), role, 3600)}"}


async def call(app: Sanic, method: str, path: str, headers: Optional[dict] = None, body=None):
    """One request through the in-process client; returns the response."""
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["content"] = json.dumps(body)
    _, response = await getattr(app.asgi_client, method.lower())(f"/webhooks/attendant{path}", **kwargs)
    return response


def a_customer(
    customer: str = JOAO, wrote_hours_ago: float = 1.0, status: str = "bot", holder: Optional[str] = None
) -> None:
    """A conversation whose customer last wrote `wrote_hours_ago`, in `status` (held by `holder`)."""
    database = get_runtime().database
    now = time.time()
    wrote = now - wrote_hours_ago * 3600
    with database.transaction() as cursor:
        cursor.execute(
            """INSERT INTO conversations (id, customer_name, status, assigned_to, last_inbound_at, last_message_at,
                   created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (customer, "João", status, holder, wrote, wrote, now, now),
        )


def outbox_messages(customer: str = JOAO) -> list:
    """The Graph message objects queued for `customer`, in order."""
    rows = get_runtime().database.execute(
        "SELECT message FROM outbox_messages WHERE conversation_id = ? ORDER BY id", (customer,)
    )
    return [json.loads(row["message"]) for row in rows]
