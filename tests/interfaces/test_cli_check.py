"""`foedus check` and `foedus describe` as a person runs them: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from foedus.language.check import check_file

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = "examples/istanbul_2022.foedus"
BAD = "tests/language/bad/unknown_party.foedus"
GOOD = "tests/language/good/verdicts.foedus"


def foedus(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the `foedus` command line in a fresh interpreter, from ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "foedus.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb"},
        timeout=120,
    )


def test_check_flagship_succeeds() -> None:
    """Checking the flagship exits 0 and reports its parties and clauses, with nothing on stderr."""
    done = foedus("check", FLAGSHIP)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ok {FLAGSHIP}: treaty istanbul_2022 — 9 parties, 14 clauses\n"
    assert done.stderr == ""


def test_check_bad_file_fails_with_rendered_message() -> None:
    """A bad file exits 1 and prints the full rendered diagnostic and a count on stderr."""
    done = foedus("check", BAD)
    assert done.returncode == 1
    expected = (ROOT / BAD).with_suffix(".expected").read_text(encoding="utf-8")
    assert done.stderr == expected + f"{BAD}: 1 error\n"
    assert "did you mean `GB`?" in done.stderr
    assert done.stdout == ""


def test_check_json_matches_golden_model() -> None:
    """`check --json` prints parseable JSON whose treaty equals the golden model."""
    done = foedus("check", GOOD, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    golden = json.loads((ROOT / GOOD).with_suffix(".expected.json").read_text(encoding="utf-8"))
    assert payload["ok"] is True
    assert payload["file"] == GOOD
    assert payload["diagnostics"] == []
    assert payload["treaty"] == golden


def test_check_json_reports_errors() -> None:
    """`check --json` on a bad file exits 1 and lists the diagnostics as JSON objects."""
    done = foedus("check", BAD, "--json")
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["ok"] is False and payload["treaty"] is None
    assert [(d["code"], d["message"], d["suggestion"]) for d in payload["diagnostics"]] == [
        ("unknown-party", "unknown party `UK`", "did you mean `GB`?")
    ]
    assert payload["diagnostics"][0]["span"] == {
        "file": BAD,
        "line": 21,
        "column": 30,
        "end_line": 21,
        "end_column": 32,
    }


def test_describe_flagship_mentions_every_clause_and_quote() -> None:
    """`describe` names every clause of the flagship by id and repeats each of its quotes."""
    done = foedus("describe", FLAGSHIP)
    assert done.returncode == 0, done.stderr
    treaty = check_file(ROOT / FLAGSHIP).treaty
    assert treaty is not None
    for clause in treaty.clauses:
        assert f"[{clause.id}]" in done.stdout, clause.id
        for quote in clause.quotes:
            assert quote in done.stdout, (clause.id, quote)


def test_missing_file_has_no_traceback(tmp_path: Path) -> None:
    """A missing file is reported as `cannot-read`, exit 1, without a Python traceback."""
    missing = tmp_path / "nowhere.foedus"
    for command in ("check", "describe"):
        done = foedus(command, str(missing))
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith(
            f"error[cannot-read]: cannot read `{missing}`: No such file or directory\n"
        )


def test_folder_without_sources_has_no_traceback(tmp_path: Path) -> None:
    """A folder with no .foedus files is an error, exit 1, not silent success."""
    done = foedus("check", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        f"error[no-sources]: the folder `{tmp_path}` holds no .foedus files\n"
        f"  --> {tmp_path}\n"
        "   = help: name a treaty file, or a folder that contains some\n"
    )


def test_binary_input_has_no_traceback(tmp_path: Path) -> None:
    """Binary bytes are refused with `binary-file` or `invalid-utf8`, exit 1, no traceback."""
    nul = tmp_path / "nul.foedus"
    nul.write_bytes(b"treaty t\n\x00\x01\x02")
    done = foedus("check", str(nul))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        "error[binary-file]: the file contains NUL bytes; it looks binary, not a Foedus source\n"
        f"  --> {nul}:2:1\n"
        f"{nul}: 1 error\n"
    )
    latin = tmp_path / "latin.foedus"
    latin.write_bytes(b"\x89PNG\r\n\x1a\n")
    done = foedus("describe", str(latin))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        "error[invalid-utf8]: the file is not valid UTF-8 (byte 0x89)\n"
        f"  --> {latin}:1:1\n"
        "  |\n"
        "1 | \ufffdPNG\n"
        "  | ^\n"
        "   = help: save the file as UTF-8 text\n"
    )
