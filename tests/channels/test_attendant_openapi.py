"""Every route of the attendant channel is in its OpenAPI document, and nothing else is."""

import re

from sanic import Sanic

from channels.attendant import AttendantInput
from supportdesk.attendant.openapi import documented_operations, openapi_document


async def _noop(_):
    return None


def registered_operations():
    app = Sanic(f"openapi_check_{id(object())}")
    app.blueprint(AttendantInput(run_timers=False).blueprint(_noop), url_prefix="/webhooks/attendant")
    operations = set()
    for route in app.router.routes:
        path = "/" + route.path.removeprefix("webhooks/attendant").lstrip("/")
        path = re.sub(r"<(\w+)(?::[^>]*)?>", r"{\1}", path)
        for method in route.methods:
            operations.add((method, path))
    return operations


def test_every_route_is_documented():
    documented = set(documented_operations())
    registered = set()
    for method, path in registered_operations():
        if "{answer}" in path:
            registered |= {(method, path.replace("{answer}", "confirm")), (method, path.replace("{answer}", "decline"))}
        else:
            registered.add((method, path))
    assert registered == documented


def test_document_is_openapi_3_with_bearer_auth_and_error_schema():
    document = openapi_document()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    claim = document["paths"]["/conversations/{conversation_id}/claim"]["post"]["responses"]
    assert {"200", "401", "404", "409"} <= set(claim)
