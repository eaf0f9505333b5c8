"""Property-based webhook bodies: whatever a correctly signed POST carries, the answer is 200 or 400, never 5xx.

Bodies are arbitrary JSON or mutations of the real fixtures (wrong types, integers past 2^63, nested
objects, unicode, lone surrogates and NULs as JSON escapes, over-long ids, repeated messages), signed
with the app secret and posted through Sanic's test client on SQLite and on PostgreSQL. For every
accepted body each usable message (a string wamid and sender for our business number) is stored
exactly once, nothing else is stored, and posting the same body again stores nothing new.
The run is bounded and derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sanic import Sanic

from channels.whatsapp import WhatsAppInput
from supportdesk.platform.settings import reset_settings_cache
from supportdesk.runtime import get_runtime, reset_runtime
from supportdesk.whatsapp.signature import sign
from supportdesk.whatsapp.webhook_values import MAX_ID_CHARS
from tests.fixture_files import APP_SECRET, PHONE_NUMBER_ID, WHATSAPP_FIXTURES, fixture_bytes, webhook_fixture_names

SEED_FILES = [*webhook_fixture_names("inbound_"), *webhook_fixture_names("status_")]
UPDATE_FILES = sorted(path.name for path in (WHATSAPP_FIXTURES / "updates").glob("*.json"))
SEEDS = [json.loads(fixture_bytes(name)) for name in SEED_FILES] + [
    json.loads((WHATSAPP_FIXTURES / "updates" / name).read_bytes()) for name in UPDATE_FILES
]
pytestmark = pytest.mark.filterwarnings("ignore:You have set a listener:UserWarning")  # ASGI test client
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- What to throw at it ------------------------------------------------------------------------------------------

UNINDEXABLE = "".join(hashlib.sha256(bytes([n])).hexdigest() for n in range(48))  # 3 kB that does not compress
HUGE_INTS = st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**64, 10**30, 2**31, -1, 0, 253402300800])
NASTY_TEXT = st.sampled_from(
    ["", " ", "\ud800", "a\udfffb", "\x00", "wamid.\x00", "/restart", "/inform{\"x\": 1}", "9" * 400, "x" * 3000,
     "\u202e\u0000\ufeff", "\U0001f487\u200d\u2640\ufe0f", "1e999", "NaN", "true", "null", "-0", "1795529100.0",
     UNINDEXABLE]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), HUGE_INTS, st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), NASTY_TEXT, HUGE_INTS.map(str),
)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ODD_SHAPES = st.sampled_from([None, True, 1.5, [], {}, [1], {"x": 1}])
NUMBERS = st.one_of(HUGE_INTS, HUGE_INTS.map(str), HUGE_INTS, st.sampled_from(["", "1e9", "12abc", " 1795529100 "]), ODD_SHAPES)
IDS = st.one_of(NASTY_TEXT, st.sampled_from([0, 10**30, -1, "wamid.\x00x", "\ud800\udc00"]), ODD_SHAPES)
SHARPEST = ("timestamp", "code", "id", "from", "name")  # clocks, integer columns, unique keys, customer text
# Keys whose values reach database columns, indexes, clocks or the dialogue, with the values that hurt them most.
TARGETED = {
    "timestamp": NUMBERS, "code": NUMBERS, "expiration_timestamp": NUMBERS,
    "latitude": NUMBERS, "longitude": NUMBERS, "id": IDS, "from": IDS, "from_user_id": IDS, "wa_id": IDS,
    "user_id": IDS, "recipient_id": IDS, "message_id": IDS, "phone_number_id": IDS, "status": IDS, "type": IDS,
    "field": IDS, "body": IDS, "name": IDS, "caption": IDS, "title": IDS, "payload": IDS, "emoji": IDS,
    "messages": JSON_VALUES, "statuses": JSON_VALUES, "errors": JSON_VALUES, "contacts": JSON_VALUES,
    "entry": JSON_VALUES, "changes": JSON_VALUES, "value": JSON_VALUES,
}


def _paths(value: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Any, ...]]:
    """Every place in a document, parents before children."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _at(document: Any, path: Tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@st.composite
def mutated_fixture(draw: st.DrawFn) -> Any:
    """A real body with one id, time, code or name made hostile, then up to three places replaced, dropped,
    nested deeper or repeated."""
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    sharpest = [path for path in _paths(document) if path and path[-1] in SHARPEST]
    if sharpest:
        path = draw(st.sampled_from(sorted(sharpest, key=lambda path: SHARPEST.index(path[-1]))))
        _at(document, path[:-1])[path[-1]] = copy.deepcopy(draw(TARGETED[path[-1]]))  # never edit a drawn value
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        places = [path for path in _paths(document) if path][::-1]  # leaves first: Hypothesis favours early picks
        if not places:
            break
        sharp = [path for path in places if path[-1] in TARGETED]
        path = draw(st.sampled_from(sharp if sharp and draw(st.booleans()) else places))
        parent, last = _at(document, path[:-1]), path[-1]
        action = draw(st.sampled_from(["replace", "replace", "drop", "deepen", "repeat"]))
        if action == "replace":
            parent[last] = copy.deepcopy(draw(TARGETED.get(last, JSON_VALUES) if draw(st.booleans()) else JSON_VALUES))
        elif action == "drop":
            del parent[last]
        elif action == "deepen":
            for _ in range(draw(st.integers(min_value=1, max_value=70))):
                parent[last] = {"x": parent[last]} if draw(st.booleans()) else [parent[last]]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))  # the same message (or status) twice in one POST
    return document


def _encode(document: Any, ascii_only: bool) -> bytes:
    """JSON text; lone surrogates can only travel as `\\udXXX` escapes, as Meta sends non-ASCII."""
    if not ascii_only:
        try:
            return json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            pass
    return json.dumps(document).encode("ascii")


BODY_KINDS = {
    "mutated fixture": st.tuples(mutated_fixture(), st.booleans()).map(lambda pair: _encode(*pair)),
    "any JSON": st.tuples(JSON_VALUES, st.booleans()).map(lambda pair: _encode(*pair)),
    "any entry": st.tuples(st.fixed_dictionaries({"entry": JSON_VALUES}), st.booleans()).map(lambda pair: _encode(*pair)),
    "any bytes": st.binary(max_size=64),
}
# Three in four bodies are mutated fixtures: that is where a real delivery's numbers and ids can go wrong.
BODIES = st.sampled_from(["mutated fixture"] * 9 + ["any JSON", "any entry", "any bytes"]).flatmap(BODY_KINDS.get)

# --- What must hold ----------------------------------------------------------------------------------------------


def _stored_form(text: str) -> str:
    """A string as the parser keeps it: unpaired surrogates and NULs become U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\x00", "\ufffd")


def _messages(document: Any) -> Iterator[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """(value, message item) for every dict item under entry[].changes[field=messages].value.messages[]."""
    entries = document.get("entry") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or change.get("field") != "messages" or not isinstance(change.get("value"), dict):
                continue
            value = change["value"]
            items = value.get("messages")
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    yield value, item


def _as_text(value: Any) -> Optional[str]:
    """An id as the parser reads it: a string, or an integer written out."""
    if isinstance(value, bool):
        return None
    return str(value) if isinstance(value, int) else value if isinstance(value, str) else None


def _usable_id(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not value:
        return None
    stored = _stored_form(value)
    return stored if len(stored) <= MAX_ID_CHARS else None


def expected_wamids(document: Any) -> Tuple[Set[str], Set[str]]:
    """(wamids that must be stored, every string that may be a stored wamid)."""
    must, may = set(), set()
    for value, item in _messages(document):
        if _as_text(item.get("id")):
            may.add(_stored_form(_as_text(item["id"])))
        metadata = value.get("metadata")
        number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        ours = number in (None, "", PHONE_NUMBER_ID)
        phone = _as_text(item.get("from"))  # the customer's number wins over their BSUID, as in the parser
        wamid, sender = _usable_id(item.get("id")), _usable_id(phone) if phone else _usable_id(item.get("from_user_id"))
        if wamid and sender and ours:
            must.add(wamid)
    return must, may


def stored_wamids() -> List[str]:
    return [row["wamid"] for row in get_runtime().database.execute("SELECT wamid FROM inbox_messages")]


async def post_signed(app: Sanic, body: bytes):
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    _, response = await app.asgi_client.post("/webhooks/whatsapp/webhook", content=body, headers=headers)
    return response


def forget_deliveries() -> None:
    """Examples start from empty tables, so a failing one fails again when Hypothesis replays it."""
    for table in ("inbox_messages", "delivery_statuses", "stream_events", "conversations"):
        get_runtime().database.execute(f"DELETE FROM {table}")


async def check_delivery(app: Sanic, body: bytes) -> None:
    """The properties every signed body must keep."""
    before = stored_wamids()
    response = await post_signed(app, body)
    assert response.status in (200, 400), (response.status, response.text, body[:300])
    after = stored_wamids()
    assert len(after) == len(set(after))
    if response.status == 400:
        assert (after, set(response.json)) == (before, {"error", "message"})
        return
    must, may = expected_wamids(json.loads(body))
    new = set(after) - set(before)
    assert must <= set(after), (must - set(after), body[:300])
    assert new <= may, (new - may, body[:300])
    again = await post_signed(app, body)
    assert (again.status, again.json["new"], stored_wamids()) == (200, 0, after)


# --- The runs ----------------------------------------------------------------------------------------------------


async def _ignore(_message) -> None:
    return None


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Sanic:
    """The channel (storing only) on the test's SQLite file, then on a fresh PostgreSQL database."""
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    if request.param == "postgres":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
    reset_settings_cache()
    reset_runtime()
    app = Sanic(f"whatsapp_fuzz_{request.param}_{request.node.name.__hash__() & 0xFFFFFF:x}")
    app.blueprint(WhatsAppInput(process_messages=False).blueprint(_ignore), url_prefix="/webhooks/whatsapp")
    return app


async def test_every_seed_body_is_accepted_and_its_messages_stored_once(app):
    for name in [*SEED_FILES, *(f"updates/{name}" for name in UPDATE_FILES)]:
        body = fixture_bytes(name)
        before = set(stored_wamids())
        await check_delivery(app, body)
        must, _ = expected_wamids(json.loads(body))
        assert set(stored_wamids()) - before == must - before, name


def _fixture_with(name: str, *changes: Tuple[Tuple[Any, ...], Any]) -> bytes:
    """A fixture body with values set at paths under `entry[0].changes[0].value` (a regression example)."""
    document = json.loads(fixture_bytes(name))
    value = document["entry"][0]["changes"][0]["value"]
    for path, new in changes:
        _at(value, path[:-1])[path[-1]] = new
    return _encode(document, ascii_only=True)


def _nested(levels: int) -> Any:
    deep: Any = "bottom"
    for _ in range(levels):
        deep = {"x": deep}
    return deep


# Every bug the fuzzing found, replayed on every run whatever Hypothesis draws.
@example(body=_fixture_with("inbound_text.json", (("messages", 0, "timestamp"), 2**63)))
@example(body=_fixture_with("inbound_text.json", (("messages", 0, "timestamp"), "253402300800")))
@example(body=_fixture_with("status_read.json", (("statuses", 0, "timestamp"), str(2**63))))
@example(body=_fixture_with("status_failed_131047.json", (("statuses", 0, "errors", 0, "code"), 2**63)))
@example(body=_fixture_with("inbound_unsupported.json", (("messages", 0, "errors", 0, "code"), 2**31)))
@example(body=_fixture_with("inbound_text.json", (("contacts", 0, "profile", "name"), "Kerry\x00")))
@example(body=_fixture_with("inbound_text.json", (("messages", 0, "id"), "wamid.\x00")))
@example(body=_fixture_with("inbound_text.json", (("messages", 0, "id"), UNINDEXABLE)))
@example(body=_fixture_with("inbound_text.json", (("messages", 0, "from"), UNINDEXABLE), (("contacts",), [])))
@example(body=_fixture_with("status_read.json", (("statuses", 0, "id"), UNINDEXABLE)))
@example(body=_fixture_with("inbound_text.json", (("messages", 0, "id"), "\ud800")))
@example(body=_fixture_with("inbound_referral_ad.json", (("messages", 0, "referral"), _nested(80))))
@FUZZ
@given(body=BODIES)
async def test_no_signed_body_gets_a_5xx_and_usable_messages_are_stored_once(app, body):
    forget_deliveries()
    await check_delivery(app, body)
