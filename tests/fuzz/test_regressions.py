"""Saved reproducers of the fuzz harness, run again: each must now be handled well.

A folder under ``regressions/`` holds the input files and ``case.json``: the arguments
(``argv``, run in that folder), special files to make (``specials``), standard input
(``stdin``) and ``expected``: the exit code, and text that standard error or standard
output must contain. A case must also pass the harness's own judgement: no traceback,
crash, hang, memory blow-up, wrong exit code or raw terminal escape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Case, Limits, Runner

REGRESSIONS = Path(__file__).parent / "regressions"
FOLDERS = sorted(p.parent for p in REGRESSIONS.glob("*/case.json"))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("regressions"), Limits(timeout=10.0))


def test_there_are_regressions() -> None:
    assert len(FOLDERS) >= 10


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_regression(folder: Path, runner: Runner) -> None:
    case = Case.load(folder)
    outcome = runner.run(case)
    stderr = outcome.stderr.decode("utf-8", "replace")
    stdout = outcome.stdout.decode("utf-8", "replace")
    shown = f"{case.note}\n{outcome.describe()}\n--- stderr:\n{stderr[-3000:]}"
    assert outcome.ok, shown
    expected = case.expected or {}
    if "exit" in expected:
        assert outcome.exit == expected["exit"], shown
    for fragment in expected.get("stderr_contains", []):
        assert fragment in stderr, shown
    for fragment in expected.get("stdout_contains", []):
        assert fragment in stdout, f"{shown}\n--- stdout:\n{stdout[-3000:]}"
