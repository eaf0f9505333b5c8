"""The one error body of every Sanic channel."""

import json

from supportdesk.platform.http_errors import error_response


def test_error_body_status_and_content_type() -> None:
    answer = error_response(409, "not_holder", "Claim the conversation before replying.")
    assert answer.status == 409
    assert answer.content_type == "application/json"
    assert json.loads(answer.body) == {"error": "not_holder", "message": "Claim the conversation before replying."}


def test_extra_headers_are_added() -> None:
    answer = error_response(404, "not_found", "No such console file.", {"X-Frame-Options": "DENY"})
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert json.loads(answer.body) == {"error": "not_found", "message": "No such console file."}
