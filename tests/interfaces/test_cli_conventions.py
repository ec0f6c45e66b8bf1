"""The command line's conventions, through the real `foedus` command (docs/cli.md).

Each test runs ``python -m foedus`` in a subprocess, as a user or an editor would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_process import AS_OF, FLAGSHIP, LOG, foedus_cmd, text

import foedus


def test_version_in_every_spelling() -> None:
    """-V and --version print the package's version, which foedus.__version__ also gives."""
    for flag in ("-V", "--version"):
        done = foedus_cmd(flag)
        assert done.returncode == 0
        assert text(done) == f"foedus {foedus.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", foedus.__version__)


def test_help_is_short_h_too_and_shows_no_bool_metavars() -> None:
    """-h is --help; flags show no `<bool>`; the top level names only commands that exist."""
    top = text(foedus_cmd("-h"))
    assert "Usage: foedus" in top and "<bool>" not in top
    listed = re.findall(r"^  (\w+)\s", top.split("Commands:")[1], re.MULTILINE)
    assert listed == ["check", "describe", "fmt", "run", "explain", "report"]
    for command in listed:
        shown = text(foedus_cmd(command, "-h"))
        assert shown.startswith(f"Usage: foedus {command}") and "<bool>" not in shown


def test_usage_errors_exit_2_and_findings_exit_1(tmp_path: Path) -> None:
    """Like linters: 0 clean, 1 findings or input errors, 2 usage."""
    assert foedus_cmd("run", FLAGSHIP).returncode == 2  # EVENTS missing
    assert foedus_cmd("run", FLAGSHIP, LOG, "--format", "yaml").returncode == 2
    assert foedus_cmd("run", FLAGSHIP, LOG, "--as-of", AS_OF).returncode == 0
    violated = foedus_cmd("run", FLAGSHIP, LOG, "--as-of", AS_OF, "--fail-on", "violated")
    assert violated.returncode == 1
    assert "failing: 10 violated" in violated.stderr.decode()
    assert foedus_cmd("run", FLAGSHIP, LOG, "--as-of", "2022-03-30",
                      "--fail-on", "violated").returncode == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "e1"}\n', encoding="utf-8")
    assert foedus_cmd("run", FLAGSHIP, bad).returncode == 1


def test_standard_input_for_treaties_and_logs() -> None:
    """- reads the treaty, or the log (JSON Lines unless --events-format says), from stdin."""
    by_files = text(foedus_cmd("run", FLAGSHIP, LOG, "--as-of", AS_OF, "--format", "json"))
    treaty_in = foedus_cmd("run", "-", LOG, "--as-of", AS_OF, "--format", "json",
                           stdin=FLAGSHIP.read_bytes())
    log_in = foedus_cmd("run", FLAGSHIP, "-", "--as-of", AS_OF, "--format", "json",
                        stdin=LOG.read_bytes())
    assert text(treaty_in) == by_files == text(log_in)
    checked = foedus_cmd("check", "-", stdin=FLAGSHIP.read_bytes())
    assert checked.returncode == 0 and text(checked).startswith("ok <stdin>: treaty istanbul")
    both = foedus_cmd("run", "-", "-", stdin=b"")
    assert both.returncode == 2 and b"cannot both be read from -" in both.stderr


def test_a_log_on_stdin_is_named_stdin_in_messages() -> None:
    """Problems of a log read from standard input point at <stdin>, its line and field."""
    done = foedus_cmd("run", FLAGSHIP, "-", stdin=b'{"id": "e1", "at": "2022-01-01T00:00:00Z"'
                      b', "type": "signature", "by": "UK"}\n')
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "--> <stdin>:1:" in err and "did you mean `GB`?" in err


def test_fmt_dash_writes_the_formatted_text_to_stdout() -> None:
    """What an editor calls: source in, canonical source out; --check only says."""
    messy = FLAGSHIP.read_text(encoding="utf-8").replace("\n  quote", "\n        quote", 3)
    done = foedus_cmd("fmt", "-", stdin=messy.encode())
    assert done.returncode == 0
    assert text(done) == FLAGSHIP.read_text(encoding="utf-8")
    assert foedus_cmd("fmt", "-", "--check", stdin=messy.encode()).returncode == 1
    assert foedus_cmd("fmt", "-", "--check", stdin=FLAGSHIP.read_bytes()).returncode == 0


def test_report_to_stdout() -> None:
    """report -o - writes the page to standard output."""
    done = foedus_cmd("report", FLAGSHIP, LOG, "--as-of", AS_OF, "-o", "-")
    assert done.returncode == 0
    assert text(done).startswith("<!DOCTYPE html>") and "consult/e17/CN" in text(done)


def test_as_of_now_and_bare_dates_in_the_treaty_zone() -> None:
    """`now` is the clock; a date is its first instant in the treaty's zone (Kyiv here)."""
    dated = json.loads(text(foedus_cmd("run", FLAGSHIP, LOG, "--as-of", "2022-10-15",
                                       "--format", "json")))
    assert dated["as_of"] == "2022-10-14T21:00:00Z"  # midnight in Kyiv (UTC+3)
    now = json.loads(text(foedus_cmd("run", FLAGSHIP, LOG, "--as-of", "now",
                                     "--format", "json")))
    assert now["as_of"] > "2026-01-01"
    naive = foedus_cmd("run", FLAGSHIP, LOG, "--as-of", "2022-10-15T10:00")
    assert naive.returncode == 1 and b"read in the treaty's zone (Europe/Kyiv)" in naive.stderr


def test_one_format_option_everywhere() -> None:
    """--format json on check (--json its alias), describe, run and explain."""
    assert json.loads(text(foedus_cmd("check", FLAGSHIP, "--format", "json"))) == json.loads(
        text(foedus_cmd("check", FLAGSHIP, "--json")))
    described = json.loads(text(foedus_cmd("describe", FLAGSHIP, "--format", "json")))
    assert described["zone"] == "Europe/Kyiv"
    assert [c["id"] for c in described["clauses"]][:3] == ["signing", "referendum", "consult"]
    explained = json.loads(text(foedus_cmd("explain", FLAGSHIP, LOG, "consult/e17/CN",
                                           "--as-of", AS_OF, "--format", "json")))
    assert (explained["record"], explained["state"]) == ("obligation", "violated")
    assert explained["action_fields"] == {"event": "consultations", "fields": {"with": "UA"}}
    assert explained["explanation"]["clause"] == "consult"


@pytest.mark.parametrize("columns", [80, 120])
def test_tables_fit_the_terminal(columns: int) -> None:
    """No line wider than the terminal, headers whole, every id whole (to copy)."""
    done = foedus_cmd("run", FLAGSHIP, LOG, "--as-of", AS_OF, columns=columns)
    assert done.returncode == 0
    lines = text(done).splitlines()
    assert max(len(line) for line in lines) <= columns
    header = next(line for line in lines if "id (for explain)" in line)
    assert all(word in header for word in ("due", "state"))
    ids = {o["id"] for o in json.loads(text(foedus_cmd(
        "run", FLAGSHIP, LOG, "--as-of", AS_OF, "--format", "json")))["obligations"]}
    shown = text(done)
    assert all(i in shown for i in ids)


def test_colour_on_demand() -> None:
    """--color colours even into a pipe; --no-color and NO_COLOR never colour."""
    coloured = foedus_cmd("--color", "run", FLAGSHIP, LOG, "--as-of", AS_OF,
                          env={"NO_COLOR": ""})
    assert b"\x1b[" in coloured.stdout
    plain = foedus_cmd("--no-color", "run", FLAGSHIP, LOG, "--as-of", AS_OF,
                       env={"FORCE_COLOR": "1"})
    assert b"\x1b[" not in plain.stdout
