"""The README's newcomer commands, run as written, and every setting documented where the docs say.

Blocks marked `<!-- readme-test: NAME -->` in README.md are read from the README itself, so a
command that drifts from the code fails here. `make` runs in a copy of what a fresh clone needs
(Makefile, scripts, the package, the existing venv linked), never in the working tree.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from sanic import Sanic

from channels.attendant import AttendantInput
from channels.console import ConsoleInput
from channels.whatsapp import WhatsAppInput
from supportdesk.attendant.tokens import Attendant, TokenRejected, verify_token
from supportdesk.platform.settings import load_settings, reset_settings_cache
from supportdesk.runtime import get_runtime

PROJECT = Path(__file__).resolve().parents[2]
README = (PROJECT / "README.md").read_text(encoding="utf-8")
SETTING_NAMES = tuple(
    dict.fromkeys(re.findall(r'env, "([A-Z0-9_]+)"', (PROJECT / "supportdesk/platform/settings.py").read_text()))
)
DEV_SECRETS = Path("var/dev-secrets.env")
MAKE_RUN_ADDRESS = "127.0.0.1:5005"
CUSTOMER = "16315551181"
RECIPE_SECONDS = 60


def readme_block(name: str) -> str:
    """The bash block right after `<!-- readme-test: name -->` in README.md."""
    found = re.search(rf"<!-- readme-test: {re.escape(name)} -->\n```bash\n(.*?)```", README, re.S)
    assert found, f"README.md has no block marked <!-- readme-test: {name} -->"
    return found.group(1)


def readme_commands(name: str) -> List[str]:
    """The commands of a marked block, continuation lines joined and comments dropped."""
    joined = readme_block(name).replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def newcomer_env(extra_path: str = "") -> Dict[str, str]:
    """A fresh terminal: none of the service's settings, no outer make."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTING_NAMES and not key.startswith("MAKE") and key != "MFLAGS"
    }
    if extra_path:
        env["PATH"] = f"{extra_path}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(command: str, cwd: Path, env: Optional[Dict[str, str]] = None) -> str:
    """Run one shell command like a user would; its stdout, or a failure showing stderr."""
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env or newcomer_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{command!r} failed ({done.returncode}): {done.stderr}"
    return done.stdout


def dev_secret(clone: Path, name: str) -> str:
    """The value `make run` generated for `name` into var/dev-secrets.env."""
    values = dict(line.split("=", 1) for line in (clone / DEV_SECRETS).read_text().splitlines() if "=" in line)
    return values[name]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """What `make token` and `make help` need of a fresh clone, with no .env and no var/."""
    if not (PROJECT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv: run `make install` first")
    copy = tmp_path / "clone"
    copy.mkdir()
    for name in ("Makefile", "requirements.lock", ".env.example", "credentials.example.yml"):
        shutil.copy2(PROJECT / name, copy / name)
    shutil.copytree(PROJECT / "scripts", copy / "scripts")
    shutil.copytree(PROJECT / "supportdesk", copy / "supportdesk", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".venv").symlink_to(PROJECT / ".venv")
    return copy


def after_make_run(clone: Path) -> None:
    """What `make run` leaves behind for `make token`: its secret step (the servers are not started)."""
    run("scripts/run-service.sh --exec true", clone)


def test_make_help_lists_every_target_the_readme_names(clone):
    [help_command, _] = readme_commands("other-targets")
    listed = {line.split()[0] for line in run(help_command, clone).splitlines() if line.strip()}
    named = set(re.findall(r"(?:^|[`(])make (?:-s )?([a-z][a-z-]*)", README, re.M))
    assert named - listed == set()


def test_make_token_after_make_run_is_accepted_with_make_runs_secret(clone):
    after_make_run(clone)
    [_, token_command] = readme_commands("other-targets")
    token = run(token_command, clone).strip()
    secret = dev_secret(clone, "ATTENDANT_JWT_SECRET")
    assert verify_token(secret, f"Bearer {token}") == Attendant(id="ana", name="Ana", role="attendant")
    assert dev_secret(clone, "ATTENDANT_JWT_SECRET") == secret  # kept, not regenerated


def test_make_token_before_make_run_generates_the_secret_make_run_then_uses(clone):
    [_, token_command] = readme_commands("other-targets")
    token = run(token_command, clone).strip()
    servers_secret = run("scripts/run-service.sh --exec printenv ATTENDANT_JWT_SECRET", clone).strip()
    assert servers_secret == dev_secret(clone, "ATTENDANT_JWT_SECRET")
    assert verify_token(servers_secret, f"Bearer {token}").id == "ana"


def test_make_token_prefers_the_environment_then_dotenv_over_the_generated_secret(clone):
    after_make_run(clone)
    (clone / ".env").write_text("ATTENDANT_JWT_SECRET=from-dotenv-0123456789abcdef0123456789\n")
    from_dotenv = run("make -s token SUB=ana", clone).strip()
    environment = {**newcomer_env(), "ATTENDANT_JWT_SECRET": "from-environment-0123456789abcdef0123456789"}
    from_environment = run("make -s token SUB=ana", clone, environment).strip()
    assert verify_token("from-dotenv-0123456789abcdef0123456789", f"Bearer {from_dotenv}").id == "ana"
    assert verify_token("from-environment-0123456789abcdef0123456789", f"Bearer {from_environment}").id == "ana"
    with pytest.raises(TokenRejected):
        verify_token(dev_secret(clone, "ATTENDANT_JWT_SECRET"), f"Bearer {from_dotenv}")


def test_make_token_without_sub_says_how_to_call_it(clone):
    done = subprocess.run(["make", "-s", "token"], cwd=clone, env=newcomer_env(), capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert "usage: make token SUB=ana [NAME=Ana] [ROLE=attendant|admin]" in done.stderr


def test_copying_env_example_changes_no_setting_and_keeps_the_simulator(clone, tmp_path):
    example = PROJECT / ".env.example"
    assert load_settings(environ={}, dotenv=example) == load_settings(environ={}, dotenv=tmp_path / "no.env")
    shutil.copy(example, clone / ".env")
    assert run("scripts/run-service.sh --exec printenv SIMULATOR_ENABLED", clone).strip() == "true"


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_every_setting_is_documented_and_deployed(name):
    env_example = (PROJECT / ".env.example").read_text()
    deploy_readme = (PROJECT / "deploy/README.md").read_text()
    k8s = (PROJECT / "deploy/k8s/configmap.yaml").read_text() + (PROJECT / "deploy/k8s/secret.example.yaml").read_text()
    assert re.search(rf"^(# )?{name}=", env_example, re.M), f"{name} is not in .env.example"
    assert re.search(rf"^\|[^\n]*`{name}`", README, re.M), f"{name} is not in README.md's settings table"
    assert re.search(rf"^\|[^\n]*`{name}`", deploy_readme, re.M), f"{name} is not in deploy/README.md's table"
    assert re.search(rf"^\s*(# )?{name}:", k8s, re.M), f"{name} is in neither the ConfigMap nor the Secret"


def recipe_app() -> Sanic:
    """The channels the recipe talks to, mounted as Rasa mounts them; the dialogue does not run."""
    app = Sanic(f"readme_recipe_{uuid.uuid4().hex[:8]}")
    for channel, prefix in (
        (WhatsAppInput(process_messages=False), "/webhooks/whatsapp"),
        (AttendantInput(run_timers=False), "/webhooks/attendant"),
        (ConsoleInput(), "/console"),
    ):
        app.blueprint(channel.blueprint(_ignore), url_prefix=prefix)
    return app


async def _ignore(_message) -> None:
    return None


def curl_recorder(directory: Path) -> Path:
    """A `curl` that runs the real one and also writes each call's status, method and URL to stderr."""
    real = shutil.which("curl")
    if real is None:
        if os.environ.get("CI") == "true":
            pytest.fail("curl is required under CI=true (the README's recipe uses it)")
        pytest.skip("curl is not installed")
    directory.mkdir()
    wrapper = directory / "curl"
    wrapper.write_text(
        f"#!/bin/sh\nexec {real} \"$@\" --write-out '\\n%{{stderr}}%{{http_code}} %{{method}} %{{url_effective}}\\n'\n"
    )
    wrapper.chmod(0o755)
    return directory


async def test_the_handoff_recipe_works_against_make_runs_services(clone, tmp_path, monkeypatch):
    after_make_run(clone)
    # The servers get what scripts/run-service.sh exports to them.
    monkeypatch.setenv("ATTENDANT_JWT_SECRET", dev_secret(clone, "ATTENDANT_JWT_SECRET"))
    monkeypatch.setenv("WHATSAPP_APP_SECRET", dev_secret(clone, "WHATSAPP_APP_SECRET"))
    monkeypatch.setenv("SIMULATOR_ENABLED", "true")
    reset_settings_cache()
    recipe = readme_block("handoff-recipe")
    assert MAKE_RUN_ADDRESS in recipe
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = await recipe_app().create_server(sock=listener, return_asyncio_server=True, access_log=False)
    await server.startup()  # finalises the routes; the server already listens
    try:
        shell = await asyncio.create_subprocess_exec(
            "bash", "-e", "-c", recipe.replace(MAKE_RUN_ADDRESS, f"127.0.0.1:{port}"),
            cwd=clone, env=newcomer_env(str(curl_recorder(tmp_path / "bin"))),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(shell.communicate(), RECIPE_SECONDS)
    finally:
        server.close()
        await server.wait_closed()
    assert shell.returncode == 0, err.decode()
    calls = _calls(err.decode(), port)
    bodies = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    conversation = f"/webhooks/attendant/conversations/{CUSTOMER}"
    assert calls == [
        (202, "POST", "/console/simulator/api/messages"),
        (200, "GET", "/webhooks/attendant/conversations?status=waiting"),
        (200, "POST", f"{conversation}/claim"),
        (202, "POST", f"{conversation}/messages"),
        (200, "GET", f"{conversation}/messages"),
        (200, "GET", f"/console/simulator/api/messages?wa_id={CUSTOMER}"),
        (200, "POST", f"{conversation}/release"),
    ]
    posted, waiting, claimed, reply, _history, phone, released = bodies
    assert posted["webhook_status"] == 200 and posted["wamid"].startswith("wamid.SIM")
    assert waiting == {"conversations": [], "next_before": None}  # the dialogue does not run here, so the bot never hands over
    assert (claimed["id"], claimed["status"], claimed["assigned_to"]) == (CUSTOMER, "human", "ana")
    assert reply["id"].startswith("out-")
    assert phone["messages"] == []  # no sender runs here: Ana's reply is still pending in the outbox
    assert (released["status"], released["assigned_to"]) == ("bot", None)
    rows = get_runtime().database.execute(
        "SELECT origin, attendant_id, message FROM outbox_messages WHERE conversation_id = ? ORDER BY id", (CUSTOMER,)
    )
    assert [(row["origin"], row["attendant_id"]) for row in rows][0] == ("attendant", "ana")
    assert json.loads(rows[0]["message"])["text"]["body"] == "Hi Kerry, Ana here. How can I help?"


def _calls(stderr: str, port: int) -> List[Tuple[int, str, str]]:
    """(status, method, path) of each curl call, from the recorder's lines."""
    prefix = f"http://127.0.0.1:{port}"
    found = re.findall(r"^(\d{3}) ([A-Z]+) (\S+)$", stderr, re.M)
    return [(int(status), method, url.removeprefix(prefix)) for status, method, url in found]
