"""No sentence a customer or an attendant's phone can see lives in Python: such text is a domain response.

`test_no_sentence_like_literal_outside_the_domain` reads every string literal of `actions/`,
`channels/` and `supportdesk/` (an AST scan: comments are not seen, docstrings are skipped) and fails
on sentence-like ones: two or more words. Text that only developers, operators or the model read is
recognised by where it stands (log calls, exceptions, SQL, regular expressions, API error messages,
API and tool descriptions); what is left and still allowed is listed, with the reason, in `ALLOWED`,
and an entry whose text has left Python fails `test_the_allow_list_has_no_stale_entries`.
`test_every_response_named_in_python_exists` checks that every `utter_*` literal is a domain response.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from supportdesk.platform.responses import load_responses

ROOT = Path(__file__).resolve().parent.parent
SCANNED_FOLDERS = ("actions", "channels", "supportdesk")
# Whole modules written for developers only.
DEVELOPER_MODULES = {
    "supportdesk/attendant/openapi.py",  # the OpenAPI document describing the attendant API
    "supportdesk/attendant/openapi_workspace.py",  # its part describing the attendant's workspace
    "supportdesk/platform/schema.py",  # table definitions and the notes of each migration
}
# A word: letters (apostrophes and hyphens inside), maybe wrapped in quotes, brackets, *bold* or punctuation.
_WORD = re.compile(r"[\"'(¿¡*_]*[^\W\d_]+(?:['’\-][^\W\d_]+)*[.,:;!?)\"'*_…]*")
_SQL = re.compile(
    r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|WHERE|ORDER BY|FROM|SET|VALUES|ON CONFLICT|PRAGMA)\b"
)
# SQL fragments: an upper-case keyword and a parameter or comparison ("state IN ({}) AND received_at < ?").
_SQL_KEYWORD = re.compile(r"\b(?:AND|OR|IN|IS|NOT|NULL|FROM|WHERE|JOIN|LIMIT|ORDER BY|GROUP BY|RETURNING)\b")
_SQL_OPERATOR = re.compile(r"\?|%s|[<>=]")
_UPPER_CASE = re.compile(r"[A-Z0-9_ ()]+")  # SQL column types: "BIGSERIAL PRIMARY KEY"
_IDENTIFIER_LIST = re.compile(r"\s*\w+(?:\s*,\s*\w+)+\s*")  # SQL column lists: "id, status, customer_name"
_ERROR_CODE = re.compile(r"[a-z]+(?:_[a-z]+)*")  # "not_found", "held_by_other"
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
_LOGGERS = {"logger", "logging", "log"}
_DEVELOPER_KEYWORDS = {"help", "description", "error"}  # argparse help, diagnostics kept for developers
_DEVELOPER_KEYS = {"description", "summary"}  # API and model tool descriptions
_DEVELOPER_CALLS = {
    "_require",  # guards that raise with a developer-facing message
    "print",  # command-line output for operators (`make token`)
    "check_team_file",  # what `make validate` prints about a team's YAML file
}
_REGEX_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}

# Sentence-like literals that stay in Python, as (module, text); an f-string's values show as `{}`.
ALLOWED: Set[Tuple[str, str]] = {
    # Protocol text nobody reads as a sentence: Server-Sent Events framing (":" lines are comments) and a header.
    ("channels/attendant/stream.py", "id: {}\nevent: {}\ndata: {}\n\n"),
    ("channels/attendant/stream.py", "retry: 3000\n: connected as {}\n\n"),
    ("channels/console.py", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                            "media-src 'self' blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; "
                            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    # Customer input rewritten before the time is parsed ("day after tomorrow" -> "in 2 days"); never shown.
    ("supportdesk/scheduling/time_phrases.py", "em 2 dias"),
    ("supportdesk/scheduling/time_phrases.py", "in 2 days"),
    ("supportdesk/scheduling/time_phrases.py", "que vem"),
    # Instructions to the model (the language it writes a conversation's answers, summaries and drafts in).
    ("supportdesk/knowledge/prompt.py", "Answer in English."),
    ("supportdesk/knowledge/prompt.py", "Answer in Brazilian Portuguese."),
    # An example of the BUSINESS_HOURS setting, in the SettingsError operators read.
    ("supportdesk/scheduling/business_hours.py", "mon-fri 09:00-18:00; sat 09:00-13:00"),
    # A developer-facing exception message whose class is picked at run time (`cls(...)`).
    ("supportdesk/whatsapp/graph_errors.py", "HTTP {} without a Graph error body"),
    # The console simulator's made-up customer: a WhatsApp profile name (data), not our wording.
    ("supportdesk/console/simulator.py", "Simulated customer"),
}


def sentence_like(text: str) -> bool:
    """Two or more words: what a person reads, as opposed to names, codes, formats and numbers."""
    return sum(1 for token in text.split() if _WORD.fullmatch(token)) >= 2


def _developer_text(text: str) -> bool:
    return bool(
        _SQL.match(text)
        or (_SQL_KEYWORD.search(text) and _SQL_OPERATOR.search(text))
        or _UPPER_CASE.fullmatch(text)
        or _IDENTIFIER_LIST.fullmatch(text)
    )


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_log_call(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in _LOG_METHODS
            and isinstance(func.value, ast.Name) and func.value.id in _LOGGERS)


def _is_regex_call(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in _REGEX_FUNCTIONS
            and isinstance(func.value, ast.Name) and func.value.id == "re")


def _api_error_messages(node: ast.Call) -> Iterator[ast.AST]:
    """The message after an error code, as in `error_response(404, "not_found", "No conversation with that id.")`."""
    for code, message in zip(node.args, node.args[1:]):
        if isinstance(code, ast.Constant) and isinstance(code.value, str) and _ERROR_CODE.fullmatch(code.value):
            yield message


def _exempt_nodes(tree: ast.AST, module: str) -> Set[int]:
    """Ids of the nodes whose strings only developers, operators or the model read."""
    roots: List[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                roots.append(first.value)  # docstring
        elif isinstance(node, ast.Raise) and node.exc is not None:
            roots.append(node.exc)
        elif isinstance(node, ast.Call):
            name = _callee(node)
            if (_is_log_call(node) or _is_regex_call(node) or name in _DEVELOPER_CALLS
                    or name.endswith(("Error", "Exception"))):
                roots.append(node)
            roots.extend(keyword.value for keyword in node.keywords if keyword.arg in _DEVELOPER_KEYWORDS)
            if module.startswith("channels/"):
                roots.extend(_api_error_messages(node))
        elif isinstance(node, ast.Compare):  # compared with input or another system's text ("unable to open" in x)
            for operand in (node.left, *node.comparators):
                items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                roots.extend(item for item in items if isinstance(item, ast.Constant))
        elif isinstance(node, ast.Dict):
            roots.extend(value for key, value in zip(node.keys, node.values)
                         if isinstance(key, ast.Constant) and key.value in _DEVELOPER_KEYS)
    return {id(sub) for root in roots for sub in ast.walk(root)}


def _literals(tree: ast.AST) -> Iterator[Tuple[ast.AST, str]]:
    """Every string literal and f-string (its values as `{}`), each once."""
    parts: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts.update(id(value) for value in node.values)
            yield node, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            yield node, node.value


def python_modules() -> List[Path]:
    """The scanned modules, as paths relative to the project root."""
    return sorted(path.relative_to(ROOT) for folder in SCANNED_FOLDERS for path in (ROOT / folder).rglob("*.py"))


def sentence_like_literals() -> Dict[Tuple[str, str], int]:
    """(module, text) of each sentence-like literal not recognised as developer text, with its line."""
    found: Dict[Tuple[str, str], int] = {}
    for path in python_modules():
        module = path.as_posix()
        if module in DEVELOPER_MODULES:
            continue
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=module)
        exempt = _exempt_nodes(tree, module)
        for node, text in _literals(tree):
            if id(node) not in exempt and sentence_like(text) and not _developer_text(text):
                found.setdefault((module, text), node.lineno)
    return found


def test_no_sentence_like_literal_outside_the_domain() -> None:
    offending = {key: line for key, line in sentence_like_literals().items() if key not in ALLOWED}
    listed = "\n".join(f"{module}:{line}: {text!r}" for (module, text), line in sorted(offending.items()))
    assert not offending, f"wording belongs in domain/*.yml as responses (utter_<feature>_<what>):\n{listed}"


def test_the_allow_list_has_no_stale_entries() -> None:
    stale = ALLOWED - set(sentence_like_literals())
    assert not stale, f"these texts left Python: remove them from ALLOWED: {sorted(stale)}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("asked for a person", True),
        ("tomorrow at ", True),
        ("New message from {}", True),
        ("Please choose:", True),
        ("handoff.claimed", False),
        ("utter_handoff_queued", False),
        ("%A at %H:%M", False),
        ("{customer}: {reason}", False),
        ("Monday", False),
    ],
)
def test_what_counts_as_a_sentence(text: str, expected: bool) -> None:
    assert sentence_like(text) is expected


def test_developer_text_is_recognised_by_where_it_stands() -> None:
    source = '''
"""Module docstring with several words."""
logger.info("handoff.claimed", extra={"why": "a log detail in words"})
raise ValueError("a developer message in words")
failure = TransportError("Graph API connection failed")
pattern = re.compile(r"in two days")
rows = database.execute("SELECT id FROM conversations WHERE status = 'waiting'")
where = f"state IN ({marks}) AND received_at < ?"
schema = {"description": "The customer's WhatsApp id"}
greeting = "Hello there, how are you?"
broken = "unable to open" in message or send("Sorry, try again") is None
'''
    tree = ast.parse(source)
    exempt = _exempt_nodes(tree, "supportdesk/example.py")
    left = [text for node, text in _literals(tree) if id(node) not in exempt and sentence_like(text)
            and not _developer_text(text)]
    assert left == ["Hello there, how are you?", "Sorry, try again"]


def test_api_error_messages_are_recognised_in_channels_only() -> None:
    source = 'error_response(404, "not_found", "No conversation with that id.")'
    for module, left in (("channels/attendant.py", []), ("supportdesk/example.py", ["No conversation with that id."])):
        tree = ast.parse(source)
        exempt = _exempt_nodes(tree, module)
        assert [t for node, t in _literals(tree) if id(node) not in exempt and sentence_like(t)] == left


_RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]+")
NOT_RESPONSE_NAMES = {"utter_action"}  # the key Rasa puts the response name under in a rendered message


def response_names_in_python() -> Dict[str, str]:
    """Every `utter_*` string literal of the scanned modules, with the first module naming it."""
    names: Dict[str, str] = {}
    for path in python_modules():
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _RESPONSE_NAME.fullmatch(node.value):
                names.setdefault(node.value, path.as_posix())
    return {name: module for name, module in names.items() if name not in NOT_RESPONSE_NAMES}


def test_every_response_named_in_python_exists() -> None:
    defined = set(load_responses().names())
    named = response_names_in_python()
    missing = sorted(f"{name} ({module})" for name, module in named.items() if name not in defined)
    assert named and not missing, f"not defined in domain.yml or domain/*.yml: {missing}"
