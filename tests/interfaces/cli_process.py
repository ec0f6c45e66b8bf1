"""Running the real `foedus` command in a subprocess, as a user or an editor would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "examples" / "istanbul_2022.foedus"
LOG = ROOT / "examples" / "istanbul_2022.events.jsonl"
AS_OF = "2022-10-15T00:00:00+03:00"


def foedus_cmd(*args: str | Path, stdin: bytes | None = None, columns: int = 200,
               env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """``python -m foedus ARGS`` with a fixed width and no colour; output as bytes."""
    environment = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", **(env or {})}
    environment.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "foedus", *map(str, args)], input=stdin,
                          capture_output=True, env=environment, timeout=timeout, check=False)


def text(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode("utf-8")
