"""One connection layer for SQLite (embedded default) and PostgreSQL (production).

Queries are written once with `?` placeholders and run on either engine. The drivers are
synchronous, so async callers go through `Database.run()`, which uses a worker thread and
never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 15_000  # replicas on one SQLite file wait rather than fail
# A writer waiting for SQLite's one write lock retries this often (seconds, doubling to the cap). SQLite's own busy
# handler sleeps 1, 2, 5, 10, 15, 20, 25 ms... between tries, so a webhook that met a worker's 1 ms transaction
# waited 8-21 ms for it (README Performance); a retry every millisecond at most costs a few microseconds each.
SQLITE_LOCK_RETRY_FIRST = 0.000_1
SQLITE_LOCK_RETRY_CAP = 0.001
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: the commit that takes the WAL past it copies it back
POSTGRES_POOL_SIZE = 12  # worker threads of one replica; PostgreSQL's default limit is 100

_checkpoints_here = True


def leave_checkpoints_to_other_processes() -> None:
    """SQLite connections opened from now on in this process never checkpoint the WAL.

    The commit that takes the WAL past its limit copies it into the database file and syncs it,
    which took a webhook batch 10-20 ms (README Performance). The web process calls this: the
    dialogue workers commit after every turn of every message it stores, so they keep checkpointing.
    """
    global _checkpoints_here
    _checkpoints_here = False


def sqlite_connection_pragmas() -> List[str]:
    """The settings of every SQLite connection (ours and the tracker store's): WAL, no fsync per commit."""
    return [
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA synchronous=NORMAL",
        f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES if _checkpoints_here else 0}",
    ]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refused the work; callers answer 503 or retry."""


class Cursor:
    """A cursor that accepts `?` placeholders on both engines and returns dict rows.

    On PostgreSQL the transaction's `BEGIN` travels with its first statement (`begin`): one round trip
    fewer per transaction than psycopg2's own, which sends it alone.
    """

    def __init__(self, raw: Any, postgres: bool, begin: str = "") -> None:
        self._raw = raw
        self._postgres = postgres
        self._begin = begin

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement."""
        if self._postgres:
            sql = sql.replace("%", "%%").replace("?", "%s")
            sql, self._begin = self._begin + sql, ""
        self._raw.execute(sql, tuple(params))
        return self

    @property
    def began(self) -> bool:
        """Whether a statement (and with it, on PostgreSQL, the transaction) was sent."""
        return not self._begin

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._raw.rowcount

    def _as_dict(self, row: Any) -> dict:
        names = [column[0] for column in self._raw.description]
        return dict(zip(names, row))

    def fetchone(self) -> Optional[dict]:
        """The next row as a dict, or None."""
        row = self._raw.fetchone()
        return None if row is None else self._as_dict(row)

    def fetchall(self) -> List[dict]:
        """All remaining rows as dicts."""
        return [self._as_dict(row) for row in self._raw.fetchall()]


class Database:
    """Connections and transactions for `DATABASE_URL` (`sqlite:///path` or `postgresql://...`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_postgres = url.startswith(("postgresql://", "postgres://"))
        self._local = threading.local()
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    @property
    def sqlite_path(self) -> Optional[Path]:
        """The SQLite file, or None on PostgreSQL."""
        if self.is_postgres:
            return None
        return Path(urllib.parse.unquote(self.url[len("sqlite:///") :]))

    def _sqlite_connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            path = self.sqlite_path
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(path), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            for pragma in sqlite_connection_pragmas():
                connection.execute(pragma)
            self._local.connection = connection
        return connection

    def _postgres_pool(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                import psycopg2.pool

                pool = psycopg2.pool.ThreadedConnectionPool(1, POSTGRES_POOL_SIZE, self.url, connect_timeout=5)
                # psycopg2 closes a returned connection once `minconn` idle ones are kept: with 1, every concurrent
                # transaction but one paid a new connection (a fifth of a worker's time, README Performance).
                # Connections still open on demand; each one opened is kept for the next transaction.
                pool.minconn = POSTGRES_POOL_SIZE
                self._pool = pool
            return self._pool

    @contextlib.contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[Cursor]:
        """A transaction committed on success and rolled back on error.

        On SQLite it takes the write lock at the start (`BEGIN IMMEDIATE`) unless `immediate`
        is False: a deferred transaction that reads and then writes cannot upgrade its lock
        while another connection writes, and SQLite refuses that upgrade at once ("database
        is locked") instead of waiting out the busy timeout. Only read-only work passes False.
        On PostgreSQL, read-then-write code locks the rows it decides on (`for_update`).
        """
        try:
            if self.is_postgres:
                with self._postgres_transaction() as cursor:
                    yield cursor
            else:
                with self._sqlite_transaction(immediate) as cursor:
                    yield cursor
        except DatabaseUnavailable:
            raise
        except Exception as error:
            if _is_connection_error(error):
                raise DatabaseUnavailable(type(error).__name__) from error
            raise

    @contextlib.contextmanager
    def _sqlite_transaction(self, immediate: bool) -> Iterator[Cursor]:
        connection = self._sqlite_connection()
        if immediate:
            _begin_immediate(connection)
        else:
            connection.execute("BEGIN")
        try:
            yield Cursor(connection.cursor(), postgres=False)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextlib.contextmanager
    def _postgres_transaction(self) -> Iterator[Cursor]:
        pool = self._postgres_pool()
        connection = pool.getconn()
        broken = False
        cursor: Optional[Cursor] = None
        try:
            connection.autocommit = True  # the transaction is ours: BEGIN with the first statement, then COMMIT
            with connection.cursor() as raw:
                cursor = Cursor(raw, postgres=True, begin="BEGIN; ")
                yield cursor
                if cursor.began:
                    raw.execute("COMMIT")
        except BaseException as error:
            broken = bool(connection.closed) or _is_connection_error(error)
            if cursor is not None and cursor.began and not connection.closed:
                with contextlib.suppress(Exception), connection.cursor() as raw:
                    raw.execute("ROLLBACK")
            raise
        finally:
            pool.putconn(connection, close=broken or bool(connection.closed))

    @property
    def for_update(self) -> str:
        """The clause that locks the selected rows until the transaction ends (PostgreSQL only;
        SQLite's immediate transactions already hold the database's write lock)."""
        return " FOR UPDATE" if self.is_postgres else ""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> List[dict]:
        """Run one statement in its own transaction; rows if it returns any."""
        read_only = sql.lstrip()[:6].upper() == "SELECT"
        with self.transaction(immediate=not read_only) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor._raw.description else []

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking database work in a worker thread."""
        return await asyncio.to_thread(function, *args)

    def close(self) -> None:
        """Close pooled PostgreSQL connections (SQLite connections close with their thread)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None

    def is_available(self) -> bool:
        """True when a trivial query succeeds (readiness checks)."""
        try:
            self.execute("SELECT 1")
            return True
        except Exception:
            logger.warning("database.unavailable", exc_info=False)
            return False


def _begin_immediate(connection: sqlite3.Connection, sleep: Callable[[float], None] = time.sleep) -> None:
    """Take the write lock, retrying within `SQLITE_BUSY_TIMEOUT_MS` at most `SQLITE_LOCK_RETRY_CAP` apart.

    Only this statement waits here (busy timeout 0 while it runs); every other statement keeps the
    connection's busy timeout. Past the deadline the "database is locked" error is raised as before.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = SQLITE_LOCK_RETRY_FIRST
    connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_locked(error) or time.monotonic() >= deadline:
                    raise
            sleep(pause)
            pause = min(pause * 2, SQLITE_LOCK_RETRY_CAP)
    finally:
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _is_locked(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY: another connection holds the write lock."""
    return "locked" in str(error) or "busy" in str(error)


def _is_connection_error(error: BaseException) -> bool:
    """True for errors that mean 'the database is not there', as opposed to a bad query."""
    try:
        import psycopg2

        if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
            return True
    except ImportError:  # pragma: no cover - psycopg2 is a pinned dependency
        pass
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return "locked" in message or "unable to open" in message or "disk i/o" in message
    return False
