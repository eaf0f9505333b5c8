"""A `multipart/form-data` body read into fields and files, copying each file's bytes once.

Sanic's own parser splits the whole body into parts and slices every part again (three copies of
a 100 MB document) and raises ValueError on a header line without a colon. This one finds the
delimiters in place and refuses a malformed body with MalformedForm, which the API answers 400.
"""

from __future__ import annotations

import dataclasses
import email.utils
import urllib.parse
from typing import Dict, Optional, Tuple

from sanic.headers import parse_content_header

MAX_PART_HEADER_BYTES = 8 * 1024


class MalformedForm(ValueError):
    """The body is not the multipart/form-data its Content-Type promises."""


@dataclasses.dataclass(frozen=True)
class FormFile:
    """One file part: its bytes, the file name and the Content-Type the client gave."""

    data: bytes
    filename: str
    content_type: Optional[str]


def _part_headers(raw: bytes) -> Dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedForm("part headers must be UTF-8") from None
    headers: Dict[str, str] = {}
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MalformedForm("a part header line has no name")
        headers[name.strip().lower()] = value.strip()
    return headers


def _filename(parameters: Dict[str, str]) -> Optional[str]:
    """`filename`, or the RFC 2231 `filename*` that some clients send for non-ASCII names."""
    if parameters.get("filename") is not None:
        return parameters["filename"]
    extended = parameters.get("filename*")
    if extended is None:
        return None
    charset, _, value = email.utils.decode_rfc2231(extended)
    try:
        return urllib.parse.unquote(value, encoding=charset or "utf-8", errors="strict")
    except (LookupError, UnicodeDecodeError):
        raise MalformedForm("filename* is not in a known encoding") from None


def parse_form(body: bytes, content_type: Optional[str]) -> Tuple[Dict[str, str], Dict[str, FormFile]]:
    """Text fields and file parts of a multipart/form-data body (the first of each name wins)."""
    mime, parameters = parse_content_header(content_type or "")
    boundary = parameters.get("boundary")
    if mime.lower() != "multipart/form-data" or not boundary:
        raise MalformedForm("the body must be multipart/form-data with a boundary")
    delimiter = b"--" + str(boundary).encode("latin-1", errors="replace")
    fields: Dict[str, str] = {}
    files: Dict[str, FormFile] = {}
    position = body.find(delimiter)
    if position < 0:
        raise MalformedForm("the body has no part")
    while True:
        position += len(delimiter)
        if body[position : position + 2] == b"--":
            return fields, files
        if body[position : position + 2] != b"\r\n":
            raise MalformedForm("a boundary line must end with CRLF")
        headers_end = body.find(b"\r\n\r\n", position + 2, position + 2 + MAX_PART_HEADER_BYTES)
        if headers_end < 0:
            raise MalformedForm("a part has no end of headers")
        headers = _part_headers(body[position + 2 : headers_end])
        end = body.find(b"\r\n" + delimiter, headers_end + 4)
        if end < 0:
            raise MalformedForm("the body ends before its closing boundary")
        disposition, disposition_parameters = parse_content_header(headers.get("content-disposition", ""))
        name = disposition_parameters.get("name")
        if disposition.lower() == "form-data" and name:
            filename = _filename(disposition_parameters)
            if filename is not None:
                files.setdefault(name, FormFile(body[headers_end + 4 : end], filename, headers.get("content-type")))
            else:
                try:
                    fields.setdefault(name, body[headers_end + 4 : end].decode("utf-8"))
                except UnicodeDecodeError:
                    raise MalformedForm(f"field {name} must be UTF-8 text") from None
        position = end + 2
