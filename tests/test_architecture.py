"""The pipeline's shape is enforced: imports only point from later stages to earlier ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import foedus

SRC = Path(__file__).resolve().parents[1] / "src" / "foedus"

# What each package may import from inside foedus, besides itself.
ALLOWED: dict[str, set[str]] = {
    "language": {"diagnostics"},
    "events": {"diagnostics", "language"},
    "engine": {"diagnostics", "language", "events"},
    "analysis": {"diagnostics", "language", "events", "engine"},
    "report": {"diagnostics", "language", "events", "engine"},
    # Interfaces use the public API (the `foedus` package itself), the diagnostics
    # contract and the renderings; never the internals of a stage.
    "cli": {"", "diagnostics", "report"},
}


def _foedus_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "foedus"]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "foedus"
        ):
            found.append((node.lineno, node.module))
    return found


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_backwards(package: str) -> None:
    """A stage imports only from itself and the stages before it."""
    allowed = ALLOWED[package] | {package}
    offences = []
    for path in sorted((SRC / package).rglob("*.py")):
        for line, module in _foedus_imports(path):
            if _package_of(module) not in allowed:
                offences.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert offences == []


def test_public_api_is_sorted_and_importable() -> None:
    """Every name in foedus.__all__ exists, and the list is kept sorted (as ruff sorts
    it: constants, then classes, then functions)."""
    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert foedus.__all__ == sorted(foedus.__all__, key=group)
    missing = [name for name in foedus.__all__ if not hasattr(foedus, name)]
    assert missing == []


# Inside the engine, each module's layer: a module imports only from lower layers, so the
# rules (plan) come before the executors, and the executors before the results' readers.
ENGINE_LAYERS: dict[str, int] = {
    "model": 0, "matching": 0, "deadlines": 0,
    "plan": 1,
    "caches": 2, "records": 2, "spill": 2,
    "clock": 3,
    "status": 4, "obligations": 4, "prohibitions": 4, "decisions": 4,
    "state": 5, "event_explain": 5,
    "results": 6,
    "columns": 7, "monitor": 7,
    "batch": 8,
}


def test_engine_layers_point_backwards() -> None:
    """Inside the engine, a module imports only from lower layers (no cycles, no reaching up)."""
    modules = {p.stem for p in (SRC / "engine").glob("*.py") if p.stem != "__init__"}
    assert modules == set(ENGINE_LAYERS), "give every engine module a layer"
    offences = []
    for name, layer in ENGINE_LAYERS.items():
        path = SRC / "engine" / f"{name}.py"
        for line, module in _foedus_imports(path):
            parts = module.split(".")
            if parts[:2] != ["foedus", "engine"] or len(parts) < 3:
                continue
            if ENGINE_LAYERS[parts[2]] >= layer:
                offences.append(f"engine/{name}.py:{line} imports {module}")
    assert offences == []
