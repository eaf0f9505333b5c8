"""Rasa's tracker store and lock store, chosen from settings instead of `${VAR}` in endpoints.yml.

Rasa refuses to start on an unset `${VAR}`, so optional settings cannot live in
endpoints.yml. These two classes are named there (`type: supportdesk.platform.rasa_stores....`)
and read `DATABASE_URL` / `REDIS_URL` through the settings module.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any, Optional

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from supportdesk.platform.database import Database
from supportdesk.platform.settings import get_settings

logger = logging.getLogger(__name__)


def sql_tracker_store_arguments(database_url: str) -> dict:
    """Map `DATABASE_URL` to `SQLTrackerStore` keyword arguments."""
    if database_url.startswith("sqlite:///"):
        path = Database(database_url).sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"dialect": "sqlite", "db": str(path)}
    parts = urllib.parse.urlsplit(database_url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    return {
        "dialect": "postgresql",
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/") or "postgres",
        "username": urllib.parse.unquote(parts.username) if parts.username else None,
        "password": urllib.parse.unquote(parts.password) if parts.password else None,
        "query": query or None,
    }


class SettingsTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the database named by `DATABASE_URL` (SQLite by default)."""

    def __init__(self, domain: Optional[Domain] = None, host: Optional[str] = None, event_broker: Any = None, **_: Any):
        arguments = sql_tracker_store_arguments(get_settings().database_url)
        logger.info("tracker_store.configured", extra={"dialect": arguments["dialect"]})
        super().__init__(domain=domain, event_broker=event_broker, **arguments)


def redis_lock_store_arguments(redis_url: str) -> dict:
    """Map `REDIS_URL` (redis:// or rediss://) to `RedisLockStore` keyword arguments."""
    parts = urllib.parse.urlsplit(redis_url)
    database = parts.path.lstrip("/")
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(database) if database.isdigit() else 1,
        "username": urllib.parse.unquote(parts.username) if parts.username else None,
        "password": urllib.parse.unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
        "key_prefix": "supportdesk",
    }


class SettingsLockStore(LockStore):
    """Factory: Rasa's Redis lock store when `REDIS_URL` is set, else its in-process one.

    Rasa builds a custom lock store as `SettingsLockStore(endpoint_config=...)`; `__new__`
    returns the real store, so Rasa's own, tested classes do the locking.
    """

    def __new__(cls, endpoint_config: Any = None) -> LockStore:  # type: ignore[misc]
        redis_url = get_settings().redis_url
        if redis_url:
            logger.info("lock_store.configured", extra={"kind": "redis"})
            return RedisLockStore(**redis_lock_store_arguments(redis_url))
        logger.info("lock_store.configured", extra={"kind": "in_memory"})
        return InMemoryLockStore()
