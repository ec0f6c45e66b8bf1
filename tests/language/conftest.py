"""Golden-file support for the language tests: ``--update-goldens`` rewrites expected files.

Run ``pytest tests/language --update-goldens`` after an intended change of output, then
review the rewritten ``*.expected`` and ``*.expected.json`` files with ``git diff``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """Compare text with a golden file, or rewrite the file under ``--update-goldens``."""
    update = bool(request.config.getoption("--update-goldens"))

    def compare(path: Path, actual: str) -> None:
        if update:
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"{path} is missing; run pytest with --update-goldens"
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path}; see the diff above"

    return compare
