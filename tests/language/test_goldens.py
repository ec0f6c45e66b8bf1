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


SINGLE_MISTAKE = [p for p in BAD if p.stem != "five_mistakes"]


@pytest.mark.parametrize("path", SINGLE_MISTAKE, ids=lambda p: p.stem)
def test_bad_file_named_after_its_code(path: Path) -> None:
    """Each single-mistake bad source reports its error code, the one it is named after."""
    codes = {d.code for d in check_file(_relative(path)).diagnostics}
    code = path.stem.replace("_", "-")
    assert code in codes or any(code.startswith(c) for c in codes), (path.name, codes)


def test_five_mistakes() -> None:
    """Five different mistakes in one file are all reported, each at its line and column."""
    path = _relative(HERE / "bad" / "five_mistakes.foedus")
    found = [
        (d.code, d.span.line, d.span.column, d.message, d.suggestion)
        for d in check_file(path).diagnostics
        if d.span is not None
    ]
    assert found == [
        ("unknown-party", 21, 30, "unknown party `UK`", "did you mean `GB`?"),
        (
            "deadline-not-positive",
            27,
            41,
            "a deadline must be a positive whole number of days, not `0`",
            None,
        ),
        ("unknown-event", 31, 8, "unknown event `armed_atack`", "did you mean `armed_attack`?"),
        (
            "unexpected-token",
            38,
            5,
            "unexpected name `shall`",
            "obligations are written with `must`; permissions with `may`",
        ),
        (
            "type-mismatch",
            42,
            53,
            "`Crimea` is a territory, but a party is expected here",
            None,
        ),
    ]


def test_unreadable_file_is_reported() -> None:
    """A file that cannot be read gives one `cannot-read` diagnostic naming it."""
    result = check_file(Path("tests/language/bad/no_such_file.foedus"))
    assert result.treaty is None
    assert [(d.code, d.message) for d in result.diagnostics] == [
        (
            "cannot-read",
            "cannot read `tests/language/bad/no_such_file.foedus`: No such file or directory",
        )
    ]


def test_too_large_file_is_refused() -> None:
    """A source over the size limit is refused before parsing, with a hint to split it."""
    from foedus.language.parser import MAX_SOURCE_BYTES

    result = check_file(Path("big.foedus"), read=lambda _: b"#" * (MAX_SOURCE_BYTES + 1))
    assert render_text(result.diagnostics, result.sources) == (
        f"error[file-too-large]: the file is larger than the limit of "
        f"{MAX_SOURCE_BYTES:,} bytes\n"
        "  --> big.foedus:1:1\n"
        "   = help: split the treaty and `import` shared declarations\n"
    )


def test_import_without_a_file() -> None:
    """Source text with no file cannot import, and says so at the import."""
    from foedus.language.check import check_source

    result = check_source('treaty t "T"\nimport "shared.foedus"\n')
    assert render_text(result.diagnostics, result.sources) == (
        "error[import-without-file]: imports are resolved relative to the importing file, "
        "and this source has no file\n"
        "  --> <input>:2:1\n"
        "  |\n"
        '2 | import "shared.foedus"\n'
        "  | ^^^^^^^^^^^^^^^^^^^^^^\n"
    )
