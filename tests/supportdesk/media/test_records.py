"""media_files rows: written, read back by id and by message, shown as the contract's `media` object."""

from __future__ import annotations

from supportdesk.media.records import (
    MediaRecord,
    insert_media,
    load_media,
    media_for_refs,
    media_json,
    new_media_id,
    update_media,
)
from supportdesk.platform.database import Database

CUSTOMER = "5511987654321"


def _record(media_id: str, ref: str, **fields) -> MediaRecord:
    values = dict(conversation_id=CUSTOMER, message_ref=ref, direction="customer", created_at=100.0)
    values.update(fields)
    return MediaRecord(id=media_id, **values)


def test_a_record_round_trips(database: Database) -> None:
    record = _record(
        "m_1",
        "wamid.A",
        whatsapp_media_id="1234567890",
        mime_type="audio/ogg; codecs=opus",
        size=4096,
        sha256="abc",
        storage_key="k/2026/11/m_1",
        status="stored",
        transcript="quero falar com uma pessoa",
        stored_at=101.5,
    )
    with database.transaction() as cursor:
        insert_media(cursor, record)
    assert load_media(database, "m_1") == record
    assert load_media(database, "m_2") is None


def test_media_for_refs_finds_only_the_conversation_s_messages(database: Database) -> None:
    with database.transaction() as cursor:
        insert_media(cursor, _record("m_1", "wamid.A"))
        insert_media(cursor, _record("m_2", "17", direction="attendant"))
        insert_media(cursor, _record("m_3", "wamid.B", conversation_id="other"))
    with database.transaction() as cursor:
        found = media_for_refs(cursor, CUSTOMER, ["wamid.A", "17", "wamid.B"])
    assert {ref: record.id for ref, record in found.items()} == {"wamid.A": "m_1", "17": "m_2"}
    assert {ref: r.id for ref, r in media_for_refs(database, CUSTOMER, ["17"]).items()} == {"17": "m_2"}
    assert media_for_refs(database, CUSTOMER, []) == {}


def test_update_media_changes_the_status(database: Database) -> None:
    with database.transaction() as cursor:
        insert_media(cursor, _record("m_1", "wamid.A"))
        update_media(cursor, "m_1", status="failed", error="download_failed: HTTP 404")
    record = load_media(database, "m_1")
    assert (record.status, record.error) == ("failed", "download_failed: HTTP 404")


def test_media_json_is_the_contract_s_object_with_status() -> None:
    record = _record("m_9", "wamid.A", mime_type="image/jpeg", size=10, filename=None, caption="broken")
    assert media_json(record) == {
        "id": "m_9",
        "mime_type": "image/jpeg",
        "size": 10,
        "filename": None,
        "caption": "broken",
        "transcript": None,
        "url": "/webhooks/attendant/media/m_9",
        "status": "pending",
        "error": None,
    }


def test_new_media_ids_are_opaque_and_distinct() -> None:
    ids = {new_media_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(media_id.startswith("m_") and len(media_id) == 26 for media_id in ids)
