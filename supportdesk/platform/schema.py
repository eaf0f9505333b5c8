"""Versioned schema migrations, applied by the service itself on start.

Each migration is a list of statements with two dialect tokens: `{pk}` (an auto-numbered
primary key) and `{float}` (a double). A migration runs once, inside one transaction,
while holding a lock, so replicas starting together do not race.
"""

from __future__ import annotations

import logging
import time
from typing import Dict, List, Tuple

from supportdesk.platform.database import Cursor, Database

logger = logging.getLogger(__name__)

MIGRATIONS: List[Tuple[int, str, List[str]]] = [
    (
        1,
        "inbox, outbox, delivery statuses and conversations",
        [
            """CREATE TABLE inbox_messages (
                id {pk},
                wamid TEXT NOT NULL UNIQUE,
                conversation_id TEXT NOT NULL,
                phone_number_id TEXT,
                kind TEXT NOT NULL,
                sent_at BIGINT NOT NULL,
                received_at {float} NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                starts INTEGER NOT NULL DEFAULT 0,
                retry_at {float},
                last_error TEXT,
                processed_at {float}
            )""",
            "CREATE INDEX inbox_pending ON inbox_messages (state, conversation_id, sent_at, id)",
            """CREATE TABLE conversation_leases (
                conversation_id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                lease_until {float} NOT NULL
            )""",
            """CREATE TABLE outbox_messages (
                id {pk},
                conversation_id TEXT NOT NULL,
                answers_wamid TEXT,
                seq INTEGER NOT NULL DEFAULT 0,
                origin TEXT NOT NULL,
                attendant_id TEXT,
                response_name TEXT,
                message TEXT NOT NULL,
                preview TEXT NOT NULL DEFAULT '',
                numbered_choices TEXT,
                state TEXT NOT NULL DEFAULT 'pending',
                wamid TEXT UNIQUE,
                failure_reason TEXT,
                failure_code INTEGER,
                fbtrace_id TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at {float} NOT NULL,
                lease_owner TEXT,
                lease_until {float},
                created_at {float} NOT NULL,
                updated_at {float} NOT NULL,
                UNIQUE (answers_wamid, seq)
            )""",
            "CREATE INDEX outbox_due ON outbox_messages (state, next_attempt_at)",
            "CREATE INDEX outbox_conversation ON outbox_messages (conversation_id, id)",
            """CREATE TABLE delivery_statuses (
                wamid TEXT NOT NULL,
                status TEXT NOT NULL,
                status_at BIGINT NOT NULL,
                error_code INTEGER,
                received_at {float} NOT NULL,
                PRIMARY KEY (wamid, status)
            )""",
            """CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                bsuid TEXT,
                customer_name TEXT,
                status TEXT NOT NULL DEFAULT 'bot',
                assigned_to TEXT,
                handoff_reason TEXT,
                version INTEGER NOT NULL DEFAULT 0,
                last_inbound_at {float},
                last_message_at {float},
                last_message_preview TEXT,
                window_closed INTEGER NOT NULL DEFAULT 0,
                created_at {float} NOT NULL,
                updated_at {float} NOT NULL
            )""",
            "CREATE INDEX conversations_status ON conversations (status, last_message_at)",
        ],
    ),
    (
        2,
        "handoff timers, attendant devices, pushes, appointments, stream events",
        [
            "ALTER TABLE conversations ADD COLUMN waiting_since {float}",
            "ALTER TABLE conversations ADD COLUMN assigned_at {float}",
            "ALTER TABLE conversations ADD COLUMN claim_reminder_at {float}",
            "ALTER TABLE conversations ADD COLUMN give_up_at {float}",
            "ALTER TABLE conversations ADD COLUMN idle_reminder_at {float}",
            "ALTER TABLE conversations ADD COLUMN last_attendant_reply_at {float}",
            "CREATE INDEX conversations_claim_due ON conversations (claim_reminder_at)",
            "CREATE INDEX conversations_give_up_due ON conversations (give_up_at)",
            "CREATE INDEX conversations_idle_due ON conversations (idle_reminder_at)",
            """CREATE TABLE handoff_requests (
                id {pk},
                conversation_id TEXT NOT NULL,
                reason TEXT,
                requested_at {float} NOT NULL,
                outcome TEXT NOT NULL DEFAULT 'open',
                attendant_id TEXT,
                closed_at {float}
            )""",
            "CREATE INDEX handoff_requests_open ON handoff_requests (conversation_id, outcome)",
            """CREATE TABLE attendant_devices (
                token TEXT PRIMARY KEY,
                attendant_id TEXT NOT NULL,
                platform TEXT NOT NULL,
                created_at {float} NOT NULL,
                updated_at {float} NOT NULL
            )""",
            """CREATE TABLE push_log (
                id {pk},
                kind TEXT NOT NULL,
                conversation_id TEXT,
                attendant_id TEXT,
                token_suffix TEXT,
                state TEXT NOT NULL,
                error TEXT,
                created_at {float} NOT NULL
            )""",
            """CREATE TABLE appointments (
                id {pk},
                conversation_id TEXT NOT NULL,
                customer_name TEXT,
                starts_at {float} NOT NULL,
                starts_at_text TEXT NOT NULL,
                service TEXT,
                note TEXT,
                status TEXT NOT NULL DEFAULT 'requested',
                answered_by TEXT,
                answered_at {float},
                created_at {float} NOT NULL
            )""",
            "CREATE INDEX appointments_status ON appointments (status, starts_at)",
            """CREATE TABLE stream_events (
                id {pk},
                event TEXT NOT NULL,
                conversation_id TEXT,
                data TEXT NOT NULL,
                created_at {float} NOT NULL
            )""",
        ],
    ),
    (
        3,
        "attendant and system messages waiting to be written to the Rasa tracker",
        [
            # 1 for rows already recorded there (every row before this migration, every bot reply);
            # attendant and system messages start at 0 and are written by the next dialogue turn.
            "ALTER TABLE outbox_messages ADD COLUMN in_tracker INTEGER NOT NULL DEFAULT 1",
            "CREATE INDEX outbox_not_in_tracker ON outbox_messages (conversation_id, id) WHERE in_tracker = 0",
        ],
    ),
    (
        4,
        "the language each customer writes in",
        ["ALTER TABLE conversations ADD COLUMN language TEXT"],
    ),
    (
        5,
        "beyond the 24-hour window: opt-out, resolve with a satisfaction answer, appointment reminders",
        [
            "ALTER TABLE conversations ADD COLUMN opted_out INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE conversations ADD COLUMN resolved_at {float}",
            """CREATE TABLE satisfaction (
                id {pk},
                conversation_id TEXT NOT NULL,
                attendant_id TEXT,
                score INTEGER,
                asked_at {float} NOT NULL,
                answered_at {float}
            )""",
            "CREATE INDEX satisfaction_open ON satisfaction (conversation_id, answered_at)",
            # The reminder's due time; NULL once taken (one replica wins the compare-and-set).
            "ALTER TABLE appointments ADD COLUMN reminder_at {float}",
            "ALTER TABLE appointments ADD COLUMN reminded_at {float}",
            "CREATE INDEX appointments_reminder ON appointments (reminder_at)",
        ],
    ),
    (
        6,
        "the attendant's workspace: summaries, internal notes, availability",
        [
            "ALTER TABLE conversations ADD COLUMN summary TEXT",
            # The `waiting_since` of the wait last summarised: one summary (and push) per wait, one replica.
            "ALTER TABLE conversations ADD COLUMN summary_for {float}",
            """CREATE TABLE conversation_notes (
                id {pk},
                conversation_id TEXT NOT NULL,
                attendant_id TEXT NOT NULL,
                text TEXT NOT NULL,
                created_at {float} NOT NULL
            )""",
            "CREATE INDEX conversation_notes_by_conversation ON conversation_notes (conversation_id, id)",
            """CREATE TABLE attendant_presence (
                attendant_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                available INTEGER NOT NULL DEFAULT 0,
                last_assigned_at {float},
                updated_at {float} NOT NULL
            )""",
        ],
    ),
    (
        7,
        "customers' and attendants' media files",
        [
            # id: our own opaque id; message_ref: the inbound wamid, or the outbox id (as text) of an attendant's.
            """CREATE TABLE media_files (
                id TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL,
                message_ref TEXT NOT NULL,
                direction TEXT NOT NULL,
                whatsapp_media_id TEXT,
                mime_type TEXT,
                size INTEGER,
                sha256 TEXT,
                filename TEXT,
                caption TEXT,
                storage_key TEXT,
                status TEXT NOT NULL DEFAULT 'pending',
                error TEXT,
                transcript TEXT,
                created_at {float} NOT NULL,
                stored_at {float}
            )""",
            "CREATE INDEX media_files_conversation ON media_files (conversation_id)",
            "CREATE INDEX media_files_message ON media_files (message_ref)",
        ],
    ),
    (
        8,
        "missed handoff requests",
        [
            # When a wait for a person ran out unclaimed; NULL once a person followed it up.
            "ALTER TABLE conversations ADD COLUMN missed_at {float}",
        ],
    ),
]

_DIALECT: Dict[bool, Dict[str, str]] = {
    False: {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"},
    True: {"pk": "BIGSERIAL PRIMARY KEY", "float": "DOUBLE PRECISION"},
}

# Any constant works; it only has to be the same in every replica.
_POSTGRES_MIGRATION_LOCK = 7_302_118


def _current_version(cursor: Cursor) -> int:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {})".format(
            _DIALECT[False]["float"]
        )
    )
    row = cursor.execute("SELECT MAX(version) AS version FROM schema_migrations").fetchone()
    return int(row["version"] or 0)


def migrate(database: Database) -> int:
    """Apply every migration not yet applied; returns the schema version now in place."""
    with database.transaction(immediate=True) as cursor:
        if database.is_postgres:
            cursor.execute("SELECT pg_advisory_xact_lock(?)", (_POSTGRES_MIGRATION_LOCK,))
        version = _current_version(cursor)
        for number, name, statements in MIGRATIONS:
            if number <= version:
                continue
            for statement in statements:
                cursor.execute(statement.format(**_DIALECT[database.is_postgres]))
            cursor.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, time.time()),
            )
            logger.info("database.migrated", extra={"schema_version": number, "migration": name})
            version = number
    return version


def latest_version() -> int:
    """The version the code expects."""
    return MIGRATIONS[-1][0]
