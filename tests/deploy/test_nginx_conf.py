"""The proxy's logs never hold a customer's full number (conversation ids are WhatsApp numbers, in paths)."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
MAPS = re.compile(r"^    map \$\w+ \$\w+ \{\n.*?^    \}\n", re.S | re.M)
LOG_FORMAT = re.compile(r"^    log_format json .*?;\n", re.S | re.M)
PATHS = {
    "/webhooks/attendant/conversations/16315551181/messages": "/webhooks/attendant/conversations/****1181/messages",
    "/webhooks/attendant/customers/5511988887777": "/webhooks/attendant/customers/****7777",
    "/webhooks/attendant/appointments/12/confirm": "/webhooks/attendant/appointments/12/confirm",
    "/x/12345678/y/447700900123": "/x/****5678/y/****0123",
}


def masked_by_the_maps(path: str) -> str:
    """What the conf's maps make of `path`, read with Python's re (nginx's PCRE syntax, translated)."""
    value = path
    for block in MAPS.findall(CONF.read_text()):
        for pattern, replacement in re.findall(r'^\s+"~(.+)" "(.+)";$', block, re.M):
            regex = re.compile(pattern.replace("(?<", "(?P<").replace("(?P<!", "(?<!"))
            value = regex.sub(re.sub(r"\$\{(\w+)\}", r"\\g<\1>", replacement), value, count=1)
    return value


def test_the_access_log_writes_the_masked_path_only():
    log_format = LOG_FORMAT.search(CONF.read_text()).group(0)
    assert '"uri":"$uri_masked"' in log_format
    assert not re.search(r"\$(request_uri|request|uri|args|query_string|http_referer)\b(?!_)", log_format)


def test_the_maps_keep_the_last_four_digits_of_each_long_number():
    assert {path: masked_by_the_maps(path) for path in PATHS} == PATHS


def test_error_lines_which_quote_the_request_line_are_not_written():
    assert re.findall(r"^\s*error_log (\S+) (\w+);", CONF.read_text(), re.M) == [("/dev/stderr", "crit")]


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_a_real_nginx_logs_masked_paths(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = " ".join(f"{kind}_temp_path {tmp_path};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log crit;\n"
        "events { worker_connections 16; }\n"
        f"http {{ {temp}\n{''.join(MAPS.findall(CONF.read_text()))}{LOG_FORMAT.search(CONF.read_text()).group(0)}"
        f"access_log {tmp_path}/access.log json;\n"
        f"server {{ listen 127.0.0.1:{port}; location / {{ return 404; }} }} }}\n"
    )
    nginx = subprocess.Popen(["nginx", "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        for path in PATHS:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?hub.verify_token=secret-123456789", timeout=5)
                except urllib.error.HTTPError:
                    break
                except OSError:
                    assert time.monotonic() < deadline, "nginx did not start"
                    with contextlib.suppress(subprocess.TimeoutExpired):  # not listening yet: give it a moment
                        pytest.fail(f"nginx exited: {nginx.wait(0.05)} {nginx.stderr.read().decode()}")
    finally:
        nginx.terminate()
        nginx.wait(10)
    logged = (tmp_path / "access.log").read_text()
    assert re.findall(r'"uri":"([^"]*)"', logged) == list(PATHS.values())
    assert "secret" not in logged
