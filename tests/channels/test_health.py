"""Liveness always answers; readiness needs the model, the database, and no shutdown in progress."""

from sanic import Sanic

from channels.health import HealthInput

_apps = iter(range(10**6))


class ReadyAgent:
    def is_ready(self) -> bool:
        return True


async def _ignore(_message) -> None:
    return None


def make_app(agent=None) -> Sanic:
    app = Sanic(f"health_test_{next(_apps)}")
    app.blueprint(HealthInput().blueprint(_ignore), url_prefix="/webhooks/health")
    app.ctx.agent = agent
    return app


async def test_live_is_always_ok():
    _, response = await make_app().asgi_client.get("/webhooks/health/live")
    assert response.status == 200


async def test_ready_needs_a_loaded_model():
    _, missing = await make_app(agent=None).asgi_client.get("/webhooks/health/ready")
    assert missing.status == 503 and missing.json["checks"] == {"model": False, "database": True, "accepting": True}
    _, ready = await make_app(agent=ReadyAgent()).asgi_client.get("/webhooks/health/ready")
    assert ready.status == 200 and ready.json["status"] == "ready"


async def test_ready_fails_while_the_database_is_down(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:nothing@127.0.0.1:9/none")
    from supportdesk.platform.settings import reset_settings_cache
    from supportdesk.runtime import reset_runtime

    reset_settings_cache()
    reset_runtime()
    _, response = await make_app(agent=ReadyAgent()).asgi_client.get("/webhooks/health/ready")
    assert response.status == 503 and response.json["checks"]["database"] is False


async def test_the_routers_404_and_405_have_the_error_body():
    client = make_app().asgi_client
    _, missing = await client.get("/webhooks/health/nothing")
    assert missing.status == 404 and missing.json["error"] == "not_found"
    _, wrong_method = await client.post("/webhooks/health/live")
    assert (wrong_method.status, wrong_method.json["error"], wrong_method.headers["allow"]) == (405, "method_not_allowed", "GET")
