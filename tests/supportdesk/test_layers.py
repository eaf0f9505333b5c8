"""The packages of `supportdesk` form layers: a package imports only from its own layer or below."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "supportdesk"
# Lowest first. Features sit on the shared layers; `runtime` wires everything and sits on top.
LAYERS = {
    "platform": 0,
    "whatsapp": 1,
    "messaging": 2,
    "attendant": 3,
    "handoff": 4,
    "knowledge": 4,
    "scheduling": 4,
    "console": 4,
    "media": 4,
    "runtime": 5,
    "processes": 5,  # the web process and the dialogue workers: entry points beside the runtime
}


def _imports(path: Path) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("supportdesk."):
            yield node.lineno, node.module.split(".")[1]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("supportdesk."):
                    yield node.lineno, alias.name.split(".")[1]


def _package_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_every_package_has_a_layer() -> None:
    found = {_package_of(path) for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE}
    assert found <= set(LAYERS), f"give these a layer in LAYERS: {sorted(found - set(LAYERS))}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_points_upward(path: Path) -> None:
    if path == PACKAGE / "__init__.py":
        return
    own = LAYERS[_package_of(path)]
    upward = [(line, target) for line, target in _imports(path) if LAYERS.get(target, 0) > own]
    assert not upward, f"{path.relative_to(PACKAGE)} imports from a higher layer: {upward}"
