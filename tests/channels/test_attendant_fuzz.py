"""A bounded property-based run of the attendant API from its own OpenAPI document (issue 12)."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Dict, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from sanic.asgi import ASGIApp
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance, response_schema_conformance, status_code_conformance

from channels.attendant import AttendantInput
from supportdesk.attendant.openapi import BASE_PATH, EXAMPLE_WA_ID, openapi_document
from supportdesk.attendant.tokens import mint_token
from supportdesk.handoff import state as handoff
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.knowledge.openai_answers import get_openai_answers
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.scheduling import appointments
from tests.fakes.fake_openai import FAKE_API_KEY, FakeOpenAi

SECRET = "attendant-fuzz-test-secret-0123456789abcdef"
Sanic.test_mode = True  # one app per test: Sanic then keeps the methods it rewrites at startup (as sanic-testing does)
STREAM = "/stream"
HISTORY = "/conversations/{conversation_id}/messages"
TEMPLATE_SEND = "/conversations/{conversation_id}/template"
STREAM_SECONDS = 0.5
_apps = itertools.count()


def _schema(*modes: GenerationMode) -> BaseSchema:
    loaded = schemathesis.openapi.from_dict(openapi_document())
    loaded.config.update(base_url=f"http://testserver{BASE_PATH}")  # served in-process (ASGI); the host is a name only
    loaded.config.generation.update(allow_extra_parameters=False, modes=list(modes))  # unknown parameters are ignored
    return loaded


schema = _schema(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
valid_requests = _schema(GenerationMode.POSITIVE)


async def _ignore(_message) -> None:
    return None


_serving: Dict[str, Sanic] = {}


async def serve(scope, receive, send) -> None:
    """The ASGI entry of the current test's app (schemathesis starts and stops its lifespan around each test)."""
    app = _serving["app"]
    if scope["type"] != "lifespan":
        await app(scope, receive, send)
        return
    app.asgi = True
    await ASGIApp.create(app, scope, receive, send)  # runs the whole lifespan; Sanic 21.12's own __call__ then fails


schema.app = valid_requests.app = serve


class InMemoryAgent:
    """The parts of Rasa's Agent the API uses outside a turn: Rasa's in-memory tracker and lock stores."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()


async def a_customer_waits_with_a_request() -> None:
    """The documented example ids exist: a waiting conversation with some history, and appointment 1."""
    agent = InMemoryAgent()
    events = [UserUttered("I need a person", message_id="wamid.A", timestamp=1_900_000_000.0),
              BotUttered("Someone will be with you shortly.", timestamp=1_900_000_001.0)]
    await agent.tracker_store.save(DialogueStateTracker.from_events(EXAMPLE_WA_ID, events))
    get_runtime().bind_agent(agent)
    database = get_runtime().database
    now = time.time()
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO conversations (id, customer_name, last_inbound_at, last_message_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (EXAMPLE_WA_ID, "Kerry Fisher", now, now, now, now),
        )
    handoff.request_handoff(database, EXAMPLE_WA_ID, "asked for a person", HandoffTimeouts())
    appointments.create_request(database, EXAMPLE_WA_ID, now + 3600, "Thu 26 Nov at 15:00", "haircut", None)


@pytest.fixture(autouse=True)
def app(monkeypatch) -> Iterator[Sanic]:
    """A fresh app per test: the channel keeps the runtime of the test that first used it."""
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    fake_openai = FakeOpenAi().__enter__()  # drafts (`/suggestion`) are answered, not 503 ai_unavailable
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    reset_settings_cache()
    get_openai_answers.cache_clear()
    asyncio.run(a_customer_waits_with_a_request())
    app = Sanic(f"attendant_fuzz_{next(_apps)}")
    app.blueprint(AttendantInput(run_timers=False).blueprint(_ignore), url_prefix=BASE_PATH)
    _serving["app"] = app
    yield app
    _serving.clear()
    get_openai_answers.cache_clear()
    fake_openai.__exit__(None, None, None)


def admin() -> Dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, 'boss', 'Boss', 'admin', 3600)}"}


@schema.exclude(path=STREAM).exclude(path=TEMPLATE_SEND).exclude(path=HISTORY, method="GET").parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_an_admin_never_meets_a_server_error(case):
    case.call_and_validate(headers=admin())


@schema.include(path=HISTORY, method="GET").parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_history_paging_never_meets_a_server_error(case):
    """`before=`/`after=` must name a message of that conversation: any other schema-valid string is a 400."""
    case.call_and_validate(headers=admin(), excluded_checks=[positive_data_acceptance])


@schema.include(path=TEMPLATE_SEND).parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_a_template_call_never_meets_a_server_error(case):
    """Which names and parameter counts are valid only Meta's list knows: a schema-valid call may be a 400."""
    case.call_and_validate(headers=admin(), excluded_checks=[positive_data_acceptance])


@schema.include(path=STREAM).parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_stream_never_meets_a_server_error(case):
    """A stream never ends: each one is cut after STREAM_SECONDS, keeping what it sent."""
    case.call_and_validate(headers=admin(), timeout=STREAM_SECONDS)


BAD_AUTHORIZATIONS = {
    "none": None,
    "not_a_jwt": "Bearer nonsense",
    "basic": "Basic YW5hOnB3",
    "wrong_secret": f"Bearer {mint_token('another-secret-0123456789abcdef-0123', 'boss', 'Boss', 'admin', 3600)}",
    "expired": f"Bearer {mint_token(SECRET, 'boss', 'Boss', 'admin', -60)}",
    "latin1": "Bearer \xff\xfe",
}


@valid_requests.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_without_a_valid_token_every_call_is_401(case):
    for name, authorization in BAD_AUTHORIZATIONS.items():
        headers = dict(case.headers or {})
        headers.pop("Authorization", None)
        if authorization is not None:
            headers["Authorization"] = authorization
        case.headers = headers
        response = case.call(timeout=STREAM_SECONDS if case.path == STREAM else 30)
        expected = 200 if case.path == "/openapi.json" else 401
        assert response.status_code == expected, (name, response.status_code, response.text[:200])
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
