"""Golden tests of the checker: good sources give the expected model, bad ones the expected text.

``good/*.foedus`` -> ``*.expected.json`` (the checked model, as ``foedus check --json``
prints it); ``bad/*.foedus`` -> ``*.expected`` (every diagnostic, rendered as the CLI
prints it). Rewrite them with ``pytest tests/language --update-goldens``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from foedus.diagnostics import render_text
from foedus.language.check import check_file
from foedus.language.model import to_json

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GOOD = sorted((HERE / "good").glob("*.foedus"))
BAD = sorted((HERE / "bad").glob("*.foedus"))


@pytest.fixture(autouse=True)
def _at_root() -> Iterator[None]:
    """Run from the repository root so that file names in output are stable and relative."""
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(previous)


def _relative(path: Path) -> Path:
    return path.relative_to(ROOT)


def model_json(path: Path) -> str:
    """The checked model of ``path`` as ``foedus check --json`` prints its ``treaty``."""
    result = check_file(_relative(path))
    assert result.treaty is not None, render_text(result.diagnostics, result.sources)
    return json.dumps(to_json(result.treaty), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def diagnostics_text(path: Path) -> str:
    """Every diagnostic for ``path``, rendered exactly as ``foedus check`` prints them."""
    result = check_file(_relative(path))
    return render_text(result.diagnostics, result.sources)


def test_enough_goldens() -> None:
    """The suite holds at least 8 good and 45 bad sources, each with its expected file."""
    assert len(GOOD) >= 8
    assert len(BAD) >= 45


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good(path: Path, golden: Callable[[Path, str], None]) -> None:
    """A good source checks without any diagnostic and gives exactly the expected model."""
    result = check_file(_relative(path))
    assert result.diagnostics == [], render_text(result.diagnostics, result.sources)
    golden(path.with_suffix(".expected.json"), model_json(path))


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad(path: Path, golden: Callable[[Path, str], None]) -> None:
    """A bad source is rejected with exactly the expected rendered diagnostics."""
    result = check_file(_relative(path))
    assert result.treaty is None
    assert result.diagnostics, "a bad source must be reported"
    golden(path.with_suffix(".expected"), render_text(result.diagnostics, result.sources))


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file_named_after_its_code(path: Path) -> None:
    """Each single-mistake bad source reports its error code, the one it is named after."""
    if path.stem == "five_mistakes":
        pytest.skip("holds several mistakes; checked by test_five_mistakes")
    codes = {d.code for d in check_file(_relative(path)).diagnostics}
    code = path.stem.replace("_", "-")
    assert code in codes or any(code.startswith(c) for c in codes), (path.name, codes)
