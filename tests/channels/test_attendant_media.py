"""Media through the attendant API: a stored file's bytes and ranges, and an attendant sending a file."""

from __future__ import annotations

import hashlib
import json

import pytest

from channels.attendant import media as media_routes
from channels.attendant.media import RangeNotSatisfiable, byte_range
from supportdesk.media.records import MediaRecord, insert_media, load_media
from supportdesk.media.store import storage_key
from supportdesk.messaging.outbox_sender import OutboxSender
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.limits import MEDIA_LIMITS
from tests.channels.attendant_client import JOAO, SECRET, a_customer, attendant_app, auth, outbox_messages
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, UPLOAD, FakeGraphApi, Upload
from tests.fixture_files import PHONE_NUMBER_ID

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
OGG = b"OggS\x00\x02" + b"\x01" * 300
PDF = b"%PDF-1.7\n" + b"%" * 500


@pytest.fixture
def fake():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", SECRET)
    monkeypatch.setenv("MEDIA_STORAGE_URL", f"file://{tmp_path / 'media'}")
    reset_settings_cache()
    return attendant_app()


@pytest.fixture
async def sending(app, fake, monkeypatch):
    """The app with a WhatsApp token: uploads and sends reach the fake Graph API."""
    for name, value in (("WHATSAPP_ACCESS_TOKEN", FAKE_ACCESS_TOKEN), ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID),
                        ("WHATSAPP_API_URL", fake.url + "/v24.0"), ("GRAPH_BACKOFF_BASE_SECONDS", "0")):
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    yield app
    await get_runtime().graph.close()


def a_customer_file(data: bytes, mime_type: str = "image/jpeg", status: str = "stored", error=None, filename=None) -> str:
    """A customer's media file of JOAO's (stored, or pending / failed); returns its id."""
    runtime = get_runtime()
    media_id = f"m_test{hashlib.sha256(data + status.encode()).hexdigest()[:12]}"
    key = storage_key(JOAO, media_id)
    if status == "stored":
        runtime.media_store.put(key, data, mime_type)
    record = MediaRecord(media_id, JOAO, "wamid.CUSTOMER1", "customer", "1234", mime_type, len(data),
                         hashlib.sha256(data).hexdigest(), filename, None, key if status == "stored" else None,
                         status, error)
    with runtime.database.transaction() as cursor:
        insert_media(cursor, record)
    return media_id


async def get(app, path, headers):
    _, response = await app.asgi_client.get(f"/webhooks/attendant{path}", headers=headers)
    return response


async def post_file(app, conversation_id=JOAO, headers=None, file=None, caption=None, **kwargs):
    """POST /conversations/{id}/media with `file` = (name, bytes, content type) as multipart/form-data."""
    form = {"files": {"file": file}} if file is not None else {}
    if caption is not None:
        form["data"] = {"caption": caption}
    _, response = await app.asgi_client.post(
        f"/webhooks/attendant/conversations/{conversation_id}/media", headers=auth() if headers is None else headers,
        **form, **kwargs,
    )
    return response


# --- GET /media/{id} ------------------------------------------------------------------------------------------------


async def test_a_stored_file_is_served_byte_for_byte_with_its_type_and_length(app):
    media_id = a_customer_file(JPEG)
    answer = await get(app, f"/media/{media_id}", auth())
    assert answer.status == 200
    assert answer.body == JPEG
    assert (answer.headers["content-type"], answer.headers["content-length"]) == ("image/jpeg", str(len(JPEG)))
    assert (answer.headers["accept-ranges"], answer.headers["x-content-type-options"]) == ("bytes", "nosniff")


@pytest.mark.parametrize(
    "stored, served",
    [("audio/ogg; codecs=opus", "audio/ogg; codecs=opus"), ("text/html\r\nSet-Cookie: a=b", "application/octet-stream"),
     ("not a type", "application/octet-stream")],
)
async def test_the_content_type_is_the_stored_one_only_when_it_is_a_media_type(app, stored, served):
    media_id = a_customer_file(JPEG, stored)
    answer = await get(app, f"/media/{media_id}", auth())
    assert (answer.status, answer.headers["content-type"], answer.body) == (200, served, JPEG)


async def test_a_document_is_served_with_its_file_name(app):
    media_id = a_customer_file(PDF, "application/pdf", filename="orçamento 2026.pdf")
    answer = await get(app, f"/media/{media_id}", auth())
    assert answer.body == PDF
    assert answer.headers["content-disposition"] == "inline; filename*=UTF-8''or%C3%A7amento%202026.pdf"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic YW5hOnB3"}])
async def test_without_a_valid_token_no_byte_is_served(app, headers):
    media_id = a_customer_file(JPEG)
    answer = await get(app, f"/media/{media_id}", headers)
    assert answer.status == 401
    assert answer.json["error"] == "unauthorized"


@pytest.mark.parametrize(
    "asked, first, last",
    [("bytes=2-5", 2, 5), ("bytes=1000-", 1000, len(JPEG) - 1), ("bytes=-24", len(JPEG) - 24, len(JPEG) - 1),
     ("bytes=10-99999", 10, len(JPEG) - 1), ("bytes=-99999", 0, len(JPEG) - 1), ("bytes=0-0", 0, 0)],
)
async def test_a_byte_range_is_answered_206_with_its_content_range(app, asked, first, last):
    media_id = a_customer_file(JPEG)
    answer = await get(app, f"/media/{media_id}", {**auth(), "Range": asked})
    assert answer.status == 206
    assert answer.body == JPEG[first:last + 1]
    assert answer.headers["content-range"] == f"bytes {first}-{last}/{len(JPEG)}"
    assert answer.headers["content-length"] == str(last - first + 1)


@pytest.mark.parametrize("asked", ["bytes=1035-", "bytes=5000-6000", "bytes=-0"])
async def test_a_range_past_the_end_is_416_with_the_size(app, asked):
    media_id = a_customer_file(JPEG)
    assert len(JPEG) == 1035
    answer = await get(app, f"/media/{media_id}", {**auth(), "Range": asked})
    assert (answer.status, answer.json["error"]) == (416, "range_not_satisfiable")
    assert answer.headers["content-range"] == "bytes */1035"


@pytest.mark.parametrize("asked", ["bytes=5-2", "bytes=0-1,4-5", "items=0-5", "bytes=a-b", "bytes=-", ""])
async def test_a_range_that_is_malformed_or_multiple_is_ignored(app, asked):
    media_id = a_customer_file(JPEG)
    answer = await get(app, f"/media/{media_id}", {**auth(), "Range": asked})
    assert (answer.status, answer.body) == (200, JPEG)


async def test_a_file_larger_than_a_chunk_is_streamed_whole_and_in_ranges(app, monkeypatch):
    monkeypatch.setattr(media_routes, "CHUNK_BYTES", 100)
    data = bytes(range(256)) * 3 + b"tail"
    media_id = a_customer_file(data, "audio/ogg")
    whole = await get(app, f"/media/{media_id}", auth())
    assert (whole.status, whole.body, whole.headers["content-length"]) == (200, data, str(len(data)))
    part = await get(app, f"/media/{media_id}", {**auth(), "Range": "bytes=150-620"})
    assert (part.status, part.body, part.headers["content-range"]) == (206, data[150:621], f"bytes 150-620/{len(data)}")


@pytest.mark.parametrize(
    "status, error, code, message",
    [("pending", None, "media_pending", "The file is still being fetched from WhatsApp; try again shortly."),
     ("failed", "sha256 mismatch", "media_unavailable", "The file could not be fetched from WhatsApp: sha256 mismatch.")],
)
async def test_a_file_not_stored_is_404_saying_why(app, status, error, code, message):
    media_id = a_customer_file(JPEG, status=status, error=error)
    answer = await get(app, f"/media/{media_id}", auth())
    assert (answer.status, answer.json) == (404, {"error": code, "message": message})


async def test_an_unknown_id_and_a_purged_file_are_404(app):
    assert (await get(app, "/media/m_nothing", auth())).json == {"error": "not_found", "message": "No media with that id."}
    media_id = a_customer_file(JPEG)
    get_runtime().media_store.delete(storage_key(JOAO, media_id))
    answer = await get(app, f"/media/{media_id}", auth())
    assert (answer.status, answer.json["error"]) == (404, "media_gone")


def test_byte_range_reads_the_three_forms_and_refuses_what_starts_past_the_end():
    assert byte_range("bytes=0-9", 10) == (0, 9)
    assert byte_range("BYTES = 3 - ", 10) == (3, 9)
    assert byte_range("bytes=-4", 10) == (6, 9)
    assert byte_range(None, 10) is None
    with pytest.raises(RangeNotSatisfiable):
        byte_range("bytes=10-", 10)
    with pytest.raises(RangeNotSatisfiable):
        byte_range("bytes=-1", 0)


# --- POST /conversations/{id}/media ---------------------------------------------------------------------------------


async def test_the_holder_sends_a_photo_uploaded_to_whatsapp_then_sent_by_its_media_id(sending, fake):
    a_customer(status="human", holder="ana")
    answer = await post_file(sending, file=("crack.jpg", JPEG, "image/jpeg"), caption="Is this the crack?")
    assert answer.status == 202
    assert fake.uploads() == [Upload("whatsapp", "image/jpeg", JPEG, "crack.jpg", "image/jpeg")]
    whatsapp_id = outbox_messages()[0]["image"]["id"]
    assert outbox_messages() == [{"type": "image", "image": {"id": whatsapp_id, "caption": "Is this the crack?"}}]
    message = answer.json["message"]
    media_id = message["media"]["id"]
    assert answer.json["id"] == message["id"] == "out-1"
    assert (message["sender"], message["type"], message["text"], message["attendant_id"]) == (
        "attendant", "image", "Is this the crack?", "ana")
    assert message["media"] == {
        "id": media_id, "mime_type": "image/jpeg", "size": len(JPEG), "filename": "crack.jpg",
        "caption": "Is this the crack?", "transcript": None, "url": f"/webhooks/attendant/media/{media_id}",
        "status": "stored", "error": None}
    record = load_media(get_runtime().database, media_id)
    assert (record.direction, record.message_ref, record.whatsapp_media_id, record.sha256) == (
        "attendant", "1", whatsapp_id, hashlib.sha256(JPEG).hexdigest())
    assert (await get(sending, message["media"]["url"].removeprefix("/webhooks/attendant"), auth())).body == JPEG
    runtime = get_runtime()
    sender = OutboxSender(runtime.database, runtime.graph, runtime.retry_policy, "test", rng=lambda: 1.0)
    assert await sender.send_due_once() == 1
    assert fake.sent_messages() == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": JOAO, "type": "image",
        "image": {"id": whatsapp_id, "caption": "Is this the crack?"}, "biz_opaque_callback_data": "outbox:1"}]


async def test_a_document_keeps_its_file_name_and_a_failed_send_is_retried_like_text(sending, fake):
    a_customer(status="human", holder="ana")
    answer = await post_file(sending, file=("C:\\quotes\\quote.pdf", PDF, "application/pdf"))
    assert answer.status == 202
    assert [(upload.type, upload.filename) for upload in fake.uploads()] == [("application/pdf", "quote.pdf")]
    whatsapp_id = outbox_messages()[0]["document"]["id"]
    assert outbox_messages() == [{"type": "document", "document": {"id": whatsapp_id, "filename": "quote.pdf"}}]
    fake.script_error("send_error_131000.json", status=500)
    runtime = get_runtime()
    sender = OutboxSender(runtime.database, runtime.graph, runtime.retry_policy, "test", rng=lambda: 1.0)
    assert await sender.send_due_once() == 1  # refused: back in line at once (backoff base 0 s)
    assert await sender.send_due_once() == 1
    sends = fake.sent_messages()
    assert [send["document"] for send in sends] == [{"id": whatsapp_id, "filename": "quote.pdf"}] * 2
    state = runtime.database.execute("SELECT state, attempts FROM outbox_messages")[0]
    assert (state["state"], state["attempts"]) == ("sent", 2)


async def test_audio_goes_without_caption_and_a_caption_on_it_is_400(sending, fake):
    a_customer(status="human", holder="ana")
    refused = await post_file(sending, file=("note.ogg", OGG, "audio/ogg; codecs=opus"), caption="listen")
    assert (refused.status, refused.json["error"]) == (400, "invalid_caption")
    answer = await post_file(sending, file=("note.ogg", OGG, "audio/ogg; codecs=opus"))
    assert answer.status == 202
    assert outbox_messages() == [{"type": "audio", "audio": {"id": outbox_messages()[0]["audio"]["id"]}}]
    assert [upload.type for upload in fake.uploads()] == ["audio/ogg"]


@pytest.mark.parametrize(
    "status, holder, code",
    [("human", "bruno", "not_holder"), ("waiting", None, "not_holder"), ("bot", None, "not_holder")],
)
async def test_only_the_holder_may_send_a_file(sending, fake, status, holder, code):
    a_customer(status=status, holder=holder)
    answer = await post_file(sending, file=("crack.jpg", JPEG, "image/jpeg"))
    assert (answer.status, answer.json["error"]) == (409, code)
    assert (fake.uploads(), outbox_messages()) == ([], [])


async def test_outside_the_24_hour_window_nothing_is_sent(sending, fake):
    a_customer(status="human", holder="ana", wrote_hours_ago=25)
    answer = await post_file(sending, file=("crack.jpg", JPEG, "image/jpeg"))
    assert answer.status == 409
    assert answer.json == {"error": "window_closed", "message": "The 24-hour window is closed; send a template instead."}
    assert (fake.uploads(), outbox_messages()) == ([], [])


@pytest.mark.parametrize(
    "file, limit_kind",
    [(("big.jpg", b"\xff\xd8\xff" + b"\x00" * (MEDIA_LIMITS["image"][1] - 2), "image/jpeg"), "image"),
     (("big.webp", b"RIFF\x00\x00\x00\x00WEBP" + b"\x00" * MEDIA_LIMITS["sticker"][1], "image/webp"), "sticker")],
)
async def test_a_file_over_whatsapps_limit_for_its_type_is_413(sending, fake, file, limit_kind):
    a_customer(status="human", holder="ana")
    answer = await post_file(sending, file=file)
    limit = MEDIA_LIMITS[limit_kind][1]
    assert (answer.status, answer.json["error"]) == (413, "media_too_large")
    assert answer.json["message"] == f"{limit_kind} files may have at most {limit} bytes; this one has {len(file[1])}."
    assert (fake.uploads(), outbox_messages()) == ([], [])


async def test_a_body_over_the_routes_own_ceiling_is_413_before_it_is_read(sending, fake, monkeypatch):
    monkeypatch.setattr(media_routes, "UPLOAD_BODY_MAX", 1000)
    a_customer(status="human", holder="ana")
    answer = await post_file(sending, file=("quote.pdf", PDF * 3, "application/pdf"))
    assert (answer.status, answer.json["error"]) == (413, "payload_too_large")
    assert (fake.uploads(), outbox_messages()) == ([], [])


@pytest.mark.parametrize(
    "file, message",
    [(("cat.gif", b"GIF89a" + b"\x00" * 50, "image/gif"), "WhatsApp does not accept image/gif files."),
     (("photos.zip", b"PK\x03\x04" + b"\x00" * 50, "application/zip"), "WhatsApp does not accept application/zip files."),
     (("fake.jpg", b"not an image at all", "image/jpeg"),
      "The file is declared image/jpeg but is not a JPEG, PNG or WebP image.")],
)
async def test_a_type_whatsapp_refuses_is_415(sending, fake, file, message):
    a_customer(status="human", holder="ana")
    answer = await post_file(sending, file=file)
    assert (answer.status, answer.json) == (415, {"error": "unsupported_media_type", "message": message})
    assert (fake.uploads(), outbox_messages()) == ([], [])


async def test_a_png_named_jpg_goes_as_what_its_bytes_are(sending, fake):
    a_customer(status="human", holder="ana")
    answer = await post_file(sending, file=("screenshot.jpg", PNG, "image/jpeg"))
    assert (answer.status, answer.json["message"]["media"]["mime_type"]) == (202, "image/png")
    assert fake.uploads()[0].type == "image/png"


@pytest.mark.parametrize(
    "form, code",
    [({}, "no_file"), ({"file": ("empty.jpg", b"", "image/jpeg")}, "no_file"),
     ({"content": json.dumps({"file": "x"}), "headers": {**auth(), "Content-Type": "application/json"}}, "malformed_form"),
     ({"content": b"--x\r\nContent-Disposition form-data\r\n\r\nhi\r\n--x--",
       "headers": {**auth(), "Content-Type": "multipart/form-data; boundary=x"}}, "malformed_form")],
)
async def test_without_a_file_the_answer_is_400(sending, fake, form, code):
    a_customer(status="human", holder="ana")
    if "file" in form:
        answer = await post_file(sending, file=form["file"])
    elif "content" in form:
        answer = await post_file(sending, headers=form["headers"], content=form["content"])
    else:  # a form with a caption only
        answer = await post_file(sending, files={"caption": (None, "only words")})
    assert (answer.status, answer.json["error"]) == (400, code)
    assert (fake.uploads(), outbox_messages()) == ([], [])


async def test_an_unknown_conversation_is_404_and_no_token_is_401(sending, fake):
    unknown = await post_file(sending, conversation_id="19995550000", file=("crack.jpg", JPEG, "image/jpeg"))
    assert (unknown.status, unknown.json["error"]) == (404, "not_found")
    anonymous = await post_file(sending, headers={}, file=("crack.jpg", JPEG, "image/jpeg"))
    assert (anonymous.status, anonymous.json["error"]) == (401, "unauthorized")
    assert fake.uploads() == []


async def test_when_whatsapp_refuses_the_upload_nothing_is_queued_or_kept(sending, fake, tmp_path):
    a_customer(status="human", holder="ana")
    fake.script_error("send_error_100_invalid_param.json", route=UPLOAD)
    answer = await post_file(sending, file=("crack.jpg", JPEG, "image/jpeg"))
    assert (answer.status, answer.json["error"]) == (502, "upload_failed")
    assert outbox_messages() == []
    assert get_runtime().database.execute("SELECT COUNT(*) AS n FROM media_files")[0]["n"] == 0
    assert [path for path in (tmp_path / "media").rglob("*") if path.is_file()] == []


async def test_without_a_whatsapp_token_the_file_is_kept_and_the_send_only_logged(app):
    a_customer(status="human", holder="ana")
    answer = await post_file(app, file=("crack.jpg", JPEG, "image/jpeg"))
    assert answer.status == 202
    media_id = answer.json["message"]["media"]["id"]
    assert outbox_messages() == [{"type": "image", "image": {"id": media_id}}]
    assert load_media(get_runtime().database, media_id).whatsapp_media_id is None
    runtime = get_runtime()
    sender = OutboxSender(runtime.database, None, runtime.retry_policy, "test")
    assert await sender.send_due_once() == 1
    assert runtime.database.execute("SELECT state FROM outbox_messages")[0]["state"] == "logged"
    assert (await get(app, f"/media/{media_id}", auth())).body == JPEG


def test_on_a_real_socket_the_upload_passes_the_servers_own_body_ceiling(sending, fake):
    """Sanic refuses bodies over REQUEST_MAX_SIZE (SERVER_MAX_BODY_BYTES) on buffered routes; this one streams its body."""
    sending.config.REQUEST_MAX_SIZE = 100_000
    a_customer(status="human", holder="ana")
    photo = PNG + b"\x00" * 300_000
    _, answer = sending.test_client.post(
        f"/webhooks/attendant/conversations/{JOAO}/media", headers=auth(), files={"file": ("big.png", photo, "image/png")}
    )
    assert answer.status == 202, answer.text
    assert [len(upload.data) for upload in fake.uploads()] == [len(photo)]
