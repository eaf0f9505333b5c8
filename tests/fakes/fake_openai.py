"""A fake OpenAI speaking Chat Completions and audio transcriptions (`POST /v1/audio/transcriptions`) on loopback.

Answers have the real shapes (completion with choices, tool calls and usage; errors as
`{"error": {"message", "type", "param", "code"}}`). Queue answers with `reply_text`,
`reply_tool_call` or `script(CHAT, ...)`; with none queued it answers `DEFAULT_ANSWER`.
A request without the expected `Authorization: Bearer <key>` gets OpenAI's 401.
Transcriptions take OpenAI's multipart form (`file`, `model`), refuse a file whose name has no
supported extension with OpenAI's 400, and answer `{"text", "usage"}` (token usage, as the
gpt-4o-*-transcribe models report it): the text given with `add_transcript` for those bytes, a
scripted answer (`script(TRANSCRIBE, ...)`), else `DEFAULT_TRANSCRIPT`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from tests.fakes.server import LoopbackServer, ScriptedAnswer

CHAT = "chat"  # route key for `script()`
TRANSCRIBE = "transcribe"  # route key for `script()`: POST /v1/audio/transcriptions
DEFAULT_TRANSCRIPT = "Hello, I would like to know your opening hours."
# What OpenAI's transcription endpoint accepts, by file name extension.
TRANSCRIPTION_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
FAKE_API_KEY = "sk-fake-test-key-0123456789abcdef"
DEFAULT_ANSWER = "Studio Lumen is open Monday to Friday 9:00-18:00."
DEFAULT_USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}

_ids = itertools.count(1)


def chat_completion(
    content: Optional[str] = None,
    tool_calls: Optional[List[Dict[str, Any]]] = None,
    usage: Optional[Dict[str, int]] = None,
    model: str = "gpt-4o-mini-2024-07-18",
) -> Dict[str, Any]:
    """A `chat.completion` object as OpenAI returns it."""
    number = next(_ids)
    return {
        "id": f"chatcmpl-fake{number:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "tool_calls": tool_calls, "refusal": None},
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": dict(usage or DEFAULT_USAGE),
        "system_fingerprint": "fp_fake",
    }


def tool_call(name: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """One entry of `message.tool_calls`: a function call with JSON-encoded arguments."""
    return {
        "id": f"call_fake{next(_ids):06d}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def openai_error(status: int, message: str, error_type: str, code: Optional[str], delay: float = 0.0) -> ScriptedAnswer:
    """An error answer with OpenAI's error body."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return ScriptedAnswer(status=status, body=body, delay=delay, headers={"x-request-id": f"req_fake{next(_ids)}"})


def rate_limited() -> ScriptedAnswer:
    """429 as OpenAI sends it when the requests-per-minute limit is hit."""
    return openai_error(
        429,
        "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.",
        "rate_limit_error",
        "rate_limit_exceeded",
    )


def server_error() -> ScriptedAnswer:
    """500 as OpenAI sends it on an internal fault."""
    return openai_error(
        500, "The server had an error while processing your request. Sorry about that!", "server_error", None
    )


def slow_answer(delay: float) -> ScriptedAnswer:
    """A normal answer sent only after `delay` seconds (to trip the client's timeout)."""
    return ScriptedAnswer(status=200, body=chat_completion(DEFAULT_ANSWER), delay=delay)


def transcription(text: str, audio_tokens: int = 0) -> Dict[str, Any]:
    """A transcription answer (`response_format=json`) as gpt-4o-mini-transcribe returns it."""
    audio_tokens = audio_tokens or max(1, len(text) // 2)
    output_tokens = max(1, len(text) // 4)
    return {
        "text": text,
        "usage": {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": output_tokens,
            "total_tokens": audio_tokens + output_tokens,
        },
    }


def _form(content_type: str, body: bytes) -> Tuple[Dict[str, str], Optional[Tuple[str, bytes]]]:
    """A multipart form's text fields and its `file` part (name, bytes), parsed as a server would."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: Dict[str, str] = {}
    upload = None
    for part in parsed.iter_parts() if parsed.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if name == "file":
            upload = (part.get_filename() or "", part.get_payload(decode=True) or b"")
        elif name:
            fields[name] = part.get_content().strip()
    return fields, upload


class FakeOpenAi(LoopbackServer):
    """Records every chat request; `chat_bodies()` gives their JSON."""

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self._answered = 0
        self._answered_changed = threading.Condition()
        self.transcripts: Dict[str, str] = {}  # sha256 (hex) of an audio file -> its transcript

    def routes(self, app: web.Application) -> None:
        """The endpoints the project uses."""
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)

    @property
    def base_url(self) -> str:
        """The value for `OPENAI_BASE_URL` (OpenAI's base URL includes `/v1`)."""
        return f"{self.url}/v1"

    def reply_text(self, content: str, usage: Optional[Dict[str, int]] = None) -> None:
        """Queue a plain text answer."""
        self.script(CHAT, ScriptedAnswer(status=200, body=chat_completion(content, usage=usage)))

    def reply_tool_call(self, name: str, arguments: Dict[str, Any], usage: Optional[Dict[str, int]] = None) -> None:
        """Queue an answer that calls the tool `name` with `arguments` (and no text)."""
        body = chat_completion(None, tool_calls=[tool_call(name, arguments)], usage=usage)
        self.script(CHAT, ScriptedAnswer(status=200, body=body))

    def wait_for_answers(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` answers were handed back, slow ones included (even to a client that gave up)."""
        with self._answered_changed:
            if not self._answered_changed.wait_for(lambda: self._answered >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} answers, gave {self._answered}")

    def add_transcript(self, audio: bytes, text: str) -> None:
        """Transcribe these exact bytes as `text`."""
        with self._lock:
            self.transcripts[hashlib.sha256(audio).hexdigest()] = text

    def transcription_forms(self) -> List[Tuple[Dict[str, str], Optional[Tuple[str, bytes]]]]:
        """The transcription requests received: (text fields, (file name, bytes) or None), in order."""
        with self._lock:
            requests = [r for r in self.requests if r.path == "/v1/audio/transcriptions"]
        return [_form(r.headers.get("Content-Type", ""), r.body) for r in requests]

    def chat_bodies(self) -> List[Dict[str, Any]]:
        """The JSON bodies of the chat requests received so far, in order."""
        return [request.json() for request in self.requests if request.path == "/v1/chat/completions"]

    async def _chat(self, request: web.Request) -> web.Response:
        await self.record(request)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            unauthorized = openai_error(
                401,
                "Incorrect API key provided. "
                "You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
            return await self.answer(unauthorized)
        scripted = self.next_scripted(CHAT)
        response = await self.answer(scripted or ScriptedAnswer(status=200, body=chat_completion(DEFAULT_ANSWER)))
        with self._answered_changed:
            self._answered += 1
            self._answered_changed.notify_all()
        return response

    async def _transcribe(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return await self.answer(_unauthorized())
        fields, upload = _form(request.headers.get("Content-Type", ""), recorded.body)
        if upload is None or not fields.get("model"):
            missing = "file" if upload is None else "model"
            return await self.answer(
                openai_error(400, f"you must provide a {missing} parameter", "invalid_request_error", None)
            )
        extension = upload[0].rsplit(".", 1)[-1].lower() if "." in upload[0] else ""
        if extension not in TRANSCRIPTION_FORMATS:
            supported = ", ".join(f"'{name}'" for name in TRANSCRIPTION_FORMATS)
            message = f"Invalid file format. Supported formats: [{supported}]"
            return await self.answer(openai_error(400, message, "invalid_request_error", None))
        scripted = self.next_scripted(TRANSCRIBE)
        if scripted is not None:
            return await self.answer(scripted)
        with self._lock:
            text = self.transcripts.get(hashlib.sha256(upload[1]).hexdigest(), DEFAULT_TRANSCRIPT)
        return await self.answer(ScriptedAnswer(status=200, body=transcription(text)))


def _unauthorized() -> ScriptedAnswer:
    return openai_error(
        401,
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    )
