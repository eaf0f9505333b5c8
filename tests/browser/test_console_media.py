"""Media in the browser: a simulator customer's photo and voice note in the inbox, and an attendant's files back.

The real service runs with the simulator on and no Graph token: the customer's files go through the
signed webhook and the real download path (the simulator's stand-in for Graph serves their bytes),
and the inbox shows them from the token-protected `GET /media/{id}`, fetched with the header.
"""

from __future__ import annotations

import io
import struct
import wave
import zlib
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.browser.conftest import save_screenshot
from tests.browser.pages import InboxPage
from tests.browser.test_console_modules import run_module_script

IMAGE_READY = "const img = arguments[0]; return img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');"
PLAYER_READY = "const media = arguments[0]; return media.readyState >= 1 && media.duration > 0 && media.src.startsWith('blob:');"


def png(path: Path, width: int = 180, height: int = 120) -> Path:
    """A real PNG (green and white stripes) the browser can decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    colours = (b"\x0b\x6b\x4f", b"\xe6\xf4\xee")
    rows = b"".join(b"\x00" + colours[(y // 20) % 2] * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def wav(path: Path, seconds: float = 0.6) -> Path:
    """A short, silent WAV recording the browser can play (WhatsApp takes no WAV from a business)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(8000)
        recording.writeframes(b"\x00\x00" * int(8000 * seconds))
    path.write_bytes(buffer.getvalue())
    return path


def mp3(path: Path, frames: int = 40) -> Path:
    """About a second of silent MP3 (audio/mpeg, which WhatsApp takes): MPEG-1 Layer III frames, mono,
    128 kbit/s at 44.1 kHz, 417 bytes each, whose all-zero side information decodes as silence."""
    frame = b"\xff\xfb\x90\xc4" + bytes(417 - 4)
    path.write_bytes(frame * frames)
    return path


def media_of(page, sender: str, kind: str):
    """The media elements (`img`, `audio`) in the open history's entries from `sender`."""
    tag = "img" if kind == "image" else kind
    return page.all(f'#history li[data-sender="{sender}"] .media[data-kind="{kind}"] {tag}')


def ready(page, elements, check: str) -> bool:
    return bool(elements) and all(page.script(check, element) for element in elements)


def test_a_customers_photo_and_voice_note_show_as_an_image_and_a_player_in_the_inbox(simulator, inbox, tmp_path):
    customer = "15550004411"
    simulator.use_customer(customer, "Marta Photo")
    for file in (png(tmp_path / "broken-box.png"), wav(tmp_path / "voice.wav")):
        sent = len(simulator.all("li.from-customer[data-state=sent]"))
        simulator.css("#attach-file").send_keys(str(file))
        simulator.wait(lambda d, sent=sent: len(simulator.all("li.from-customer[data-state=sent]")) == sent + 1,
                       f"the webhook accepting {file.name}")
    assert simulator.all("li.from-customer img.wa-picture") and simulator.all("li.from-customer audio.wa-player")

    inbox.wait_in_queue(customer)
    inbox.open_conversation(customer, "Marta Photo")
    inbox.wait(lambda d: ready(inbox, media_of(inbox, "customer", "image"), IMAGE_READY), "the customer's photo shown")
    inbox.wait(lambda d: ready(inbox, media_of(inbox, "customer", "audio"), PLAYER_READY), "a player for the voice note")
    [photo] = media_of(inbox, "customer", "image")
    link = photo.find_element(By.XPATH, "..")
    assert (link.tag_name, link.get_attribute("target"), link.get_attribute("href")) == ("a", "_blank", photo.get_attribute("src"))
    assert media_of(inbox, "customer", "audio")[0].get_attribute("controls") is not None
    inbox.dismiss_toast()
    save_screenshot(inbox.focus(), "inbox-customer-media.png")


def test_the_holder_attaches_a_photo_and_an_audio_file_and_the_customer_sees_them(simulator, inbox, tmp_path):
    customer = "15550004412"
    simulator.use_customer(customer, "Rui Attach")
    simulator.send("I want to talk to a person")
    inbox.wait_in_queue(customer, "waiting")
    inbox.open_conversation(customer, "Rui Attach")
    inbox.claim()
    assert inbox.css("#attach").is_displayed()
    inbox.css("#reply-text").send_keys("Here is the label to print")
    inbox.css("#attach-file").send_keys(str(png(tmp_path / "label.png")))
    inbox.wait(lambda d: ready(inbox, media_of(inbox, "attendant", "image"), IMAGE_READY), "the sent photo in the history")
    inbox.css("#attach-file").send_keys(str(mp3(tmp_path / "instructions.mp3")))
    inbox.wait(lambda d: ready(inbox, media_of(inbox, "attendant", "audio"), PLAYER_READY), "the sent audio in the history")
    # The history re-renders as the stream reports the sends: read it inside a wait, which looks again on a stale element.
    inbox.wait(lambda d: ("attendant", "Here is the label to print") in inbox.history(), "the caption in the history")
    inbox.wait(lambda d: inbox.css("#reply-text").get_attribute("value") == "", "the reply box emptied")
    inbox.dismiss_toast()
    save_screenshot(inbox.focus(), "inbox-attendant-media.png", readme_name="console-media.png")

    simulator.wait(lambda d: simulator.all('li.from-business[data-origin="attendant"] img.wa-picture')
                   and simulator.all('li.from-business[data-origin="attendant"] audio.wa-player'),
                   "the attendant's photo and audio on the customer's phone")
    assert simulator.count_business("Here is the label to print") == 1


def test_a_file_whatsapp_refuses_is_explained_and_nothing_is_sent(simulator, inbox, tmp_path):
    customer = "15550004413"
    simulator.use_customer(customer, "Lia Refused")
    simulator.send("I want to talk to a person")
    inbox.wait_in_queue(customer, "waiting")
    inbox.open_conversation(customer, "Lia Refused")
    inbox.claim()
    gif = tmp_path / "funny.gif"
    gif.write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    inbox.css("#attach-file").send_keys(str(gif))
    inbox.wait(lambda d: inbox.css("#toast").is_displayed()
               and "WhatsApp does not take this kind of file." in inbox.css("#toast-text").text, "the refusal explained")
    assert "image/gif" in inbox.css("#toast-text").text
    assert inbox.all('#history li[data-sender="attendant"]') == []


RENDER_SCRIPT = """
const media = await import('/console/js/media.js');
const fetched = [];
window.fetch = async (url, init) => {  // the API, answered in the page: which files were asked for, with which token
  fetched.push([url, init.headers.Authorization]);
  if (url.endsWith('/m_gone')) return new Response(JSON.stringify({error: 'media_gone', message: 'No longer kept.'}), {status: 404});
  return new Response(new Blob([new Uint8Array([1, 2, 3])], {type: 'video/mp4'}));
};
sessionStorage.setItem('supportdesk.attendantToken', 'header.payload.signature');
const file = (id, extra) => ({id, mime_type: 'video/mp4', size: 2500000, filename: null, caption: null, transcript: null,
                              url: `/webhooks/attendant/media/${id}`, status: 'stored', error: null, ...extra});
const blocks = {
  video: media.mediaBlock({sender: 'customer', type: 'video', text: '', media: file('m_video')}),
  document: media.mediaBlock({sender: 'customer', type: 'document', text: '',
                              media: file('m_doc', {mime_type: 'application/pdf', filename: 'orçamento.pdf', size: 20480})}),
  failed: media.mediaBlock({sender: 'customer', type: 'image', text: '',
                            media: file('m_failed', {status: 'failed', error: 'sha256_mismatch: not the file sent'})}),
  gone: media.mediaBlock({sender: 'customer', type: 'image', text: '', media: file('m_gone', {mime_type: 'image/jpeg'})}),
  voice: media.mediaBlock({sender: 'customer', type: 'audio', text: 'quero falar com uma pessoa',
                           media: file('m_voice', {mime_type: 'audio/ogg', transcript: 'quero falar com uma pessoa'})}),
  none: media.mediaBlock({sender: 'customer', type: 'text', text: 'hi', media: null}),
};
Object.values(blocks).forEach((block) => block && document.body.append(block));
await new Promise((resolve) => setTimeout(resolve, 100));
const before = fetched.length;
blocks.document.querySelector('button').click();
await new Promise((resolve) => setTimeout(resolve, 100));
done({
  video: blocks.video.querySelector('video')?.src.startsWith('blob:'),
  document: blocks.document.textContent, documentFetched: fetched.length - before,
  failed: blocks.failed.textContent, gone: blocks.gone.textContent,
  voiceTranscriptShownTwice: Boolean(blocks.voice.querySelector('.media-transcript:not(.hint)')),
  none: blocks.none, tokens: [...new Set(fetched.map(([, token]) => token))],
  urls: fetched.map(([url]) => url).sort(),
});
"""


def test_each_kind_of_media_is_drawn_from_a_fetch_with_the_token(browser, console_service):
    page = InboxPage(browser, 1000, 700)
    try:
        result = run_module_script(page.open(console_service.url), RENDER_SCRIPT)
    finally:
        page.close()
    assert result == {
        "video": True,
        "document": "📄 orçamento.pdf 20 KB", "documentFetched": 1,
        "failed": "Media unavailable: sha256_mismatch: not the file sent",
        "gone": "Media unavailable: No longer kept.",
        "voiceTranscriptShownTwice": False,
        "none": None,
        "tokens": ["Bearer header.payload.signature"],
        "urls": ["/webhooks/attendant/media/m_doc", "/webhooks/attendant/media/m_gone", "/webhooks/attendant/media/m_video",
                 "/webhooks/attendant/media/m_voice"],
    }
