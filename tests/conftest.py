"""Shared fixtures: isolated settings and database per test; PostgreSQL and Redis when present."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import reset_runtime

if TYPE_CHECKING:
    from supportdesk.platform.database import Database

# Variables a developer's shell or .env may set; every test starts without them.
_SETTINGS_VARIABLES = (
    "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "FCM_SERVICE_ACCOUNT_FILE",
    "FCM_PROJECT_ID", "FCM_API_URL", "ATTENDANT_JWT_SECRET", "DATABASE_URL", "REDIS_URL", "SIMULATOR_ENABLED",
    "HANDOFF_CLAIM_TIMEOUT", "HANDOFF_GIVE_UP", "ATTENDANT_IDLE_REMINDER", "BUSINESS_TIMEZONE", "BUSINESS_HOURS",
    "SCHEDULING_HANDOFF", "MEDIA_STORAGE_URL", "MEDIA_RETENTION_DAYS", "OPENAI_TRANSCRIPTION_MODEL",
)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test sees only the settings it sets, a private SQLite file, and no .env."""
    for name in _SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'test.db'}")
    monkeypatch.setattr("supportdesk.platform.settings.PROJECT_ROOT", tmp_path)
    reset_settings_cache()
    reset_runtime()
    for name in ("supportdesk", "channels", "actions"):  # undo the service's log setup so caplog sees records
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "handlers", [])
        monkeypatch.setattr(logger, "propagate", True)
    yield
    reset_runtime()
    reset_settings_cache()


def _service_url(variable: str, what: str) -> str:
    url = os.environ.get(variable)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true but {variable} is not set")
    pytest.skip(f"{what} not available: set {variable} to run this test")


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    from tests.integration.service import temporary_postgres_database

    with temporary_postgres_database(_service_url("TEST_POSTGRES_URL", "PostgreSQL")) as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database shared by one test module (for services started once per module)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server for this test (a private key prefix keeps tests apart)."""
    return _service_url("TEST_REDIS_URL", "Redis")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: the test runs once on SQLite and once on PostgreSQL."""
    from supportdesk.platform.database import Database
    from supportdesk.platform.schema import migrate

    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    db = Database(url)
    migrate(db)
    yield db
    db.close()


_FIRST_SERVICE_OF_TEST = pytest.StashKey[int]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Remember which services existed before this test (and its fixtures) started any."""
    from tests.integration.service import STARTED

    item.stash[_FIRST_SERVICE_OF_TEST] = len(STARTED)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """When a test fails, attach the end of the logs of the real services it used (running or its own)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    from tests.integration.service import STARTED

    first = item.stash.get(_FIRST_SERVICE_OF_TEST, len(STARTED))
    for index, service in enumerate(STARTED):
        if index < first and not service.processes:
            continue
        for log in sorted(service.workdir.glob("*.log")):
            text = log.read_text(errors="replace")
            report.sections.append((f"service log {log.name}", text[-6000:]))
