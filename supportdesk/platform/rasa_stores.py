"""Rasa's tracker store and lock store, chosen from settings instead of `${VAR}` in endpoints.yml.

Rasa refuses to start on an unset `${VAR}`, so optional settings cannot live in
endpoints.yml. These two classes are named there (`type: supportdesk.platform.rasa_stores....`)
and read `DATABASE_URL` / `REDIS_URL` through the settings module.
"""

from __future__ import annotations

import itertools
import logging
import urllib.parse
from typing import Any, Iterator, Optional

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from supportdesk.platform.database import Database, sqlite_connection_pragmas
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


# Set on a tracker this store read or saved: how many of its first events are stored already.
STORED_EVENTS = "_supportdesk_stored_events"


def _sqlite_connection_settings(connection: Any, _: Any) -> None:
    """The settings of our own SQLite connections (database.py): WAL, wait on a lock, no fsync per commit."""
    for pragma in sqlite_connection_pragmas():
        connection.execute(pragma)


class SettingsTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the database named by `DATABASE_URL` (SQLite by default), with less per turn.

    The profile of a turn (README, Performance) showed Rasa's `save` spending more time than NLU:
    before inserting it counts the stored events of the session (a query with a subquery), and on
    SQLite it opens a new connection per session and syncs the file on every commit. Here a tracker
    this store read or saved remembers how many of its events are stored, so `save` inserts the rest
    without counting (the conversation's lock and lease keep other writers out during a turn); SQLite
    connections are pooled and use the settings of our own connections (WAL, `synchronous=NORMAL`).
    """

    def __init__(self, domain: Optional[Domain] = None, host: Optional[str] = None, event_broker: Any = None, **_: Any):
        arguments = sql_tracker_store_arguments(get_settings().database_url)
        logger.info("tracker_store.configured", extra={"dialect": arguments["dialect"]})
        super().__init__(domain=domain, event_broker=event_broker, **arguments)
        if arguments["dialect"] == "sqlite":
            import sqlalchemy as sa
            from sqlalchemy.pool import QueuePool

            self.engine = sa.create_engine(self.engine.url, poolclass=QueuePool, connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_connection_settings)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            setattr(tracker, STORED_EVENTS, len(tracker.events))  # the session's stored events, all of them
        return tracker

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None:  # a tracker built elsewhere: count what the database has (Rasa's way)
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: Any) -> None:
        """Insert the tracker's events that are not stored yet, then remember they are."""
        await super().save(tracker)
        setattr(tracker, STORED_EVENTS, len(tracker.events))


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
