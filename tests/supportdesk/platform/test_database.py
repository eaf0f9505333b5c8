"""The connection layer and migrations behave the same on SQLite and PostgreSQL."""

import sqlite3
import threading
from pathlib import Path

import psycopg2
import pytest

from supportdesk.platform import database as database_module
from supportdesk.platform.database import SQLITE_BUSY_TIMEOUT_MS, Database, DatabaseUnavailable, _begin_immediate
from supportdesk.platform.schema import latest_version, migrate


def test_migrations_are_applied_once(database: Database) -> None:
    assert migrate(database) == latest_version()
    rows = database.execute("SELECT version FROM schema_migrations ORDER BY version")
    assert [row["version"] for row in rows] == list(range(1, latest_version() + 1))


def test_question_mark_placeholders_and_percent_signs(database: Database) -> None:
    database.execute(
        "INSERT INTO conversations (id, customer_name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        ("16315551181", "100% Kerry?", 1.0, 1.0),
    )
    rows = database.execute("SELECT customer_name FROM conversations WHERE id = ?", ("16315551181",))
    assert rows == [{"customer_name": "100% Kerry?"}]


def test_failed_transaction_is_rolled_back(database: Database) -> None:
    with pytest.raises(RuntimeError):
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", ("1", 1.0, 1.0)
            )
            raise RuntimeError("boom")
    assert database.execute("SELECT id FROM conversations") == []


def test_a_statement_that_fails_rolls_back_the_transaction_and_the_connection_serves_the_next(database: Database) -> None:
    with pytest.raises((sqlite3.IntegrityError, psycopg2.IntegrityError)):  # the same id twice
        with database.transaction() as cursor:
            cursor.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", ("1", 1.0, 1.0))
            cursor.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", ("1", 1.0, 1.0))
    for _ in range(3):  # the pooled connection is not left inside the aborted transaction
        assert database.execute("SELECT id FROM conversations") == []
    with database.transaction():
        pass  # nothing sent: nothing to commit
    database.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", ("2", 1.0, 1.0))
    assert database.execute("SELECT id FROM conversations") == [{"id": "2"}]


def test_a_transaction_is_invisible_to_others_until_it_commits(database: Database) -> None:
    other = Database(database.url)
    try:
        with database.transaction() as cursor:
            cursor.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)", ("1", 1.0, 1.0))
            assert cursor.execute("SELECT COUNT(*) AS n FROM conversations").fetchone() == {"n": 1}
            seen_outside = []
            reader = threading.Thread(target=lambda: seen_outside.append(other.execute("SELECT COUNT(*) AS n FROM conversations")))
            reader.start()
            reader.join()
            assert seen_outside == [[{"n": 0}]]
        assert other.execute("SELECT COUNT(*) AS n FROM conversations") == [{"n": 1}]
    finally:
        other.close()


def test_concurrent_migrations_from_two_replicas(database: Database) -> None:
    replicas = [Database(database.url) for _ in range(2)]
    errors = []

    def start(replica: Database) -> None:
        try:
            migrate(replica)
        except Exception as error:  # pragma: no cover - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=start, args=(replica,)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for replica in replicas:
        replica.close()


def test_unreachable_postgres_is_reported_as_unavailable() -> None:
    database = Database("postgresql://nobody:nothing@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable):
        database.execute("SELECT 1")
    assert database.is_available() is False


def test_read_then_write_transactions_from_four_threads_all_commit(database: Database) -> None:
    """A deferred SQLite transaction that reads, then writes, is refused at once while another
    connection writes ("database is locked", ignoring the busy timeout); every transaction takes
    the write lock first, so a burst of them all commit."""
    database.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES ('c', 1.0, 1.0)")
    failures: list = []

    def writer(thread: int) -> None:
        for attempt in range(25):
            try:
                with database.transaction() as cursor:
                    cursor.execute("SELECT version FROM conversations WHERE id = 'c'" + database.for_update).fetchone()
                    cursor.execute(
                        "INSERT INTO handoff_requests (conversation_id, reason, requested_at) VALUES ('c', ?, 1.0)",
                        (f"{thread}-{attempt}",),
                    )
                    cursor.execute("UPDATE conversations SET version = version + 1 WHERE id = 'c'")
            except Exception as error:  # collected: the assertion below names them
                failures.append(repr(error))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert database.execute("SELECT version FROM conversations WHERE id = 'c'") == [{"version": 100}]
    assert database.execute("SELECT COUNT(*) AS n FROM handoff_requests")[0]["n"] == 100


@pytest.mark.parametrize("database", ["postgres"], indirect=True)  # SQLite has one connection per thread, no pool
def test_postgres_connections_opened_for_concurrent_transactions_are_kept_for_the_next(database: Database) -> None:
    threads = 4

    def burst() -> set:
        together = threading.Barrier(threads)
        seen: set = set()

        def work() -> None:
            with database.transaction() as cursor:
                cursor.execute("SELECT pg_backend_pid() AS pid")
                seen.add(cursor.fetchall()[0]["pid"])
                together.wait(timeout=30)  # all four hold a connection at once

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return seen

    first = burst()
    assert len(first) == threads
    assert burst() == first  # the same four connections, none closed and reopened


def _lock_holder(path: str) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_sqlite_writer_retries_the_write_lock_at_most_a_millisecond_apart(tmp_path: Path) -> None:
    """SQLite's own busy handler sleeps 1, 2, 5, 10 ms... between tries; ours retries at most 1 ms apart
    and then restores the connection's busy timeout for every other statement."""
    path = str(tmp_path / "lock.db")
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").close()
    holder = _lock_holder(path)
    waiter = sqlite3.connect(path, isolation_level=None)
    pauses: list = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 6:
            holder.execute("COMMIT")  # the other writer finishes while we wait

    _begin_immediate(waiter, sleep)
    assert waiter.in_transaction
    assert pauses == [0.0001, 0.0002, 0.0004, 0.0008, 0.001, 0.001]
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS
    waiter.execute("COMMIT")


def test_a_sqlite_writer_gives_up_at_the_busy_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "lock.db")
    database = Database(f"sqlite:///{path}")
    database.execute("CREATE TABLE t (x INTEGER)")
    holder = _lock_holder(path)
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 30)
    with pytest.raises(DatabaseUnavailable):  # what callers answer 503 to, as with SQLite's busy handler
        database.execute("INSERT INTO t VALUES (1)")
    holder.execute("COMMIT")
    database.execute("INSERT INTO t VALUES (1)")  # the connection is usable again
    assert database.execute("SELECT COUNT(*) AS n FROM t") == [{"n": 1}]


def test_a_process_that_leaves_checkpoints_to_others_opens_connections_that_never_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web process: its commits never copy the WAL back (the workers' do)."""
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    assert Database(url).execute("PRAGMA wal_autocheckpoint") == [{"wal_autocheckpoint": 1000}]
    monkeypatch.setattr(database_module, "_checkpoints_here", True)  # restored after the test
    database_module.leave_checkpoints_to_other_processes()
    assert Database(url).execute("PRAGMA wal_autocheckpoint") == [{"wal_autocheckpoint": 0}]
