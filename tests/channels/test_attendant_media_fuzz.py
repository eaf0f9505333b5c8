"""The media calls fuzzed from the OpenAPI document, past the 404/409 the general run meets.

Here the documented example file is stored and the admin holds the example conversation, so
generated `Range` headers reach the range parser and generated multipart bodies reach the form
parser, the type and size checks, the store and the outbox (no WhatsApp token: sends are logged).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from typing import Dict, Iterator

import pytest
from hypothesis import HealthCheck, settings
from sanic import Sanic
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from channels.attendant import AttendantInput
from supportdesk.attendant.openapi import BASE_PATH, EXAMPLE_WA_ID
from supportdesk.attendant.openapi_media import EXAMPLE_MEDIA_ID
from supportdesk.attendant.tokens import mint_token
from supportdesk.handoff import state as handoff
from supportdesk.handoff.state import HandoffTimeouts
from supportdesk.media.records import MediaRecord, insert_media
from supportdesk.media.store import storage_key
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from tests.channels.test_attendant_fuzz import SECRET, _schema, _serving, a_customer_waits_with_a_request, serve

MEDIA = "/media/{media_id}"
UPLOAD = "/conversations/{conversation_id}/media"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
_apps = itertools.count()
schema = _schema(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
schema.app = serve


def admin() -> Dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, 'boss', 'Boss', 'admin', 3600)}"}


def the_example_file_is_stored() -> None:
    runtime = get_runtime()
    key = storage_key(EXAMPLE_WA_ID, EXAMPLE_MEDIA_ID)
    runtime.media_store.put(key, PHOTO, "image/jpeg")
    record = MediaRecord(EXAMPLE_MEDIA_ID, EXAMPLE_WA_ID, "wamid.A", "customer", "1", "image/jpeg", len(PHOTO),
                         hashlib.sha256(PHOTO).hexdigest(), None, None, key, "stored")
    with runtime.database.transaction() as cursor:
        insert_media(cursor, record)


@pytest.fixture(autouse=True)
def app(monkeypatch, tmp_path) -> Iterator[Sanic]:
    """The fuzz run's example conversation, held by the admin, and the example file stored."""
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    monkeypatch.setenv("MEDIA_STORAGE_URL", f"file://{tmp_path / 'media'}")
    reset_settings_cache()
    asyncio.run(a_customer_waits_with_a_request())
    handoff.claim(get_runtime().database, EXAMPLE_WA_ID, "boss", HandoffTimeouts(), time.time())
    the_example_file_is_stored()
    app = Sanic(f"attendant_media_fuzz_{next(_apps)}")
    app.blueprint(AttendantInput(run_timers=False).blueprint(_ignore), url_prefix=BASE_PATH)
    _serving["app"] = app
    yield app
    _serving.clear()


async def _ignore(_message) -> None:
    return None


@schema.include(path=MEDIA).parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_serving_a_file_never_meets_a_server_error(case):
    case.call_and_validate(headers=admin())


@schema.include(path=UPLOAD).parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_sending_a_file_never_meets_a_server_error(case):
    """Whether WhatsApp takes a file depends on its bytes and type, which a schema cannot say: a valid form may be 415/413."""
    case.call_and_validate(headers=admin(), excluded_checks=[positive_data_acceptance])
