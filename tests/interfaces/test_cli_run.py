"""`foedus run`, `explain` and `report` on a small guarantee treaty and its event log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from foedus.cli import run_commands

TREATY = """\
treaty mini "Mini <guarantee> & co"
role guaranteed, guarantor
party UA "Ukraine" role guaranteed
party US "United States", GB "United Kingdom", RU "Russia" role guarantor
territory Ukraine, Crimea within Ukraine
event armed_attack(aggressor: party actor, victim: party, place: territory)
event consultations(by: party actor, with: party)
event ceasefire_breach(by: party actor)

clause consult "3 days"
  quote "In case of an attack, consultations should take place within 3 days"
  when armed_attack(victim: UA, place: not within Crimea) as attack
  each guarantor except attack.aggressor must consultations(with: UA) within 3 days of attack

clause talks "talks"
  quote "a breach of the ceasefire calls for talks within a day"
  when ceasefire_breach() as b
  each guarantor must consultations(with: UA) within 1 day of b
"""

EVENTS = [
    {
        "id": "e1",
        "at": "2022-04-01T10:00:00+03:00",
        "type": "armed_attack",
        "fields": {"aggressor": "RU", "victim": "UA", "place": "Ukraine"},
    },
    {"id": "e2", "at": "2022-04-02T09:00:00Z", "type": "consultations", "by": "US", "with": "UA"},
    {
        "id": "e3",
        "at": "2022-04-05T12:00:00Z",
        "type": "armed_attack",
        "aggressor": "RU",
        "victim": "UA",
        "place": "Crimea",
    },
    {
        "id": "e4",
        "at": "2022-04-05T13:00:00Z",
        "type": "armed_attack",
        "aggressor": "RU",
        "victim": "UA",
        "place": "Ukraine",
    },
]


def _app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """Test application."""

    run_commands.register(app)
    return app


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    treaty = tmp_path / "mini.foedus"
    treaty.write_text(TREATY, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return treaty, events


def invoke(*args: str | Path):
    # A wide terminal, so that table cells are not wrapped.
    result = CliRunner().invoke(_app(), [str(a) for a in args], env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_run_prints_obligations_and_treaty_status(files: tuple[Path, Path]) -> None:
    """The table lists each obligation with its state, and the treaty's status at the end."""
    result = invoke("run", *files)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Verdicts as of 2022-04-05 13:00 (times in UTC)" in out
    assert "fulfilled" in out and "violated" in out and "pending" in out
    assert "overdue by 1d 6h" in out  # GB's deadline of e1 passed 30 h before the last event
    assert "3d left" in out
    assert re.search(r"Treaty mini: .*Obligations: 2 pending, 1 fulfilled, 1 violated\.", out)


def test_run_json_is_sorted_and_deterministic(files: tuple[Path, Path]) -> None:
    """JSON output has sorted keys and the same bytes on every run."""
    first = invoke("run", *files, "--format", "json")
    second = invoke("run", *files, "--format", "json")
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    data = json.loads(first.output)
    assert list(data) == sorted(data)
    assert data["as_of"] == "2022-04-05T13:00:00Z"  # machine output: UTC
    states = {o["id"]: o["state"] for o in data["obligations"]}
    assert states == {
        "consult/e1/US": "fulfilled",
        "consult/e1/GB": "violated",
        "consult/e4/US": "pending",
        "consult/e4/GB": "pending",
    }
    assert [o["id"] for o in data["obligations"]][:2] == ["consult/e1/GB", "consult/e1/US"]


def test_as_of_moves_deadlines_past(files: tuple[Path, Path]) -> None:
    """A later --as-of turns pending obligations whose deadline passed into violations."""
    result = invoke("run", *files, "--format", "jsonl", "--as-of", "2022-04-09T00:00:00Z")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["record"] for line in lines] == ["obligation"] * 4 + ["summary"]
    assert lines[-1]["counts"] == {"consult": {"fulfilled": 1, "violated": 3}}


def test_naive_as_of_is_rejected(files: tuple[Path, Path]) -> None:
    """--as-of without a zone is a diagnostic, not a guess."""
    result = invoke("run", *files, "--as-of", "2022-04-09T00:00:00")
    assert result.exit_code == 1
    assert "error[naive-as-of]: time `2022-04-09T00:00:00` has no time zone" in result.output
    assert "add a UTC offset such as +03:00 or Z" in result.output


def test_bad_treaty_renders_diagnostics(tmp_path: Path, files: tuple[Path, Path]) -> None:
    """A treaty with errors is reported with file and line, exit 1, no traceback."""
    bad = tmp_path / "bad.foedus"
    bad.write_text(TREATY.replace("each guarantor except", "each guarantr except"), "utf-8")
    result = invoke("run", bad, files[1])
    assert result.exit_code == 1
    assert f"--> {bad}:" in result.output
    assert "error[" in result.output


def test_missing_files_are_diagnostics(tmp_path: Path, files: tuple[Path, Path]) -> None:
    """Missing treaty or events files are named in plain words."""
    result = invoke("run", tmp_path / "none.foedus", files[1])
    assert result.exit_code == 1
    assert "cannot read" in result.output and "none.foedus" in result.output
    result = invoke("run", files[0], tmp_path / "none.jsonl")
    assert result.exit_code == 1
    assert f"error[events-file-missing]: events file `{tmp_path / 'none.jsonl'}`" in result.output


def test_bad_events_name_line_and_field(files: tuple[Path, Path]) -> None:
    """An invalid event stops the run with a message naming its line and field."""
    treaty, events = files
    text = events.read_text().replace('"by": "US"', '"by": "UK"')
    events.write_text(text)
    result = invoke("run", treaty, events)
    assert result.exit_code == 1
    assert "error[event-unknown-party]: unknown party `UK` in field `by`" in result.output
    assert f"--> {events}:2:" in result.output
    assert "did you mean `GB`?" in result.output


def test_skip_invalid_warns_and_runs(files: tuple[Path, Path]) -> None:
    """With --skip-invalid the valid events are applied and a warning counts the rest."""
    treaty, events = files
    events.write_text(events.read_text() + '{"id": "e9", "at": "soon"}\n')
    result = invoke("run", treaty, events, "--skip-invalid", "--format", "json")
    assert result.exit_code == 0
    assert "warning: skipped 1 invalid event record(s)" in result.output
    assert "4 valid event(s) read" in result.output


def test_explain_obligation(files: tuple[Path, Path]) -> None:
    """explain gives the clause, its quoted words, the trigger and the passed deadline."""
    result = invoke("explain", *files, "consult/e1/GB")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("obligation consult/e1/GB: violated\n")
    assert '"In case of an attack, consultations should take place within 3 days"' in out
    assert "trigger: e1 armed_attack(aggressor: RU, place: Ukraine, victim: UA)" in out
    assert "due: 2022-04-04T10:00:00+03:00" in out or "due: 2022-04-04T07:00:00+00:00" in out
    assert "violated: the deadline" in out


def test_explain_fulfilled_names_the_event(files: tuple[Path, Path]) -> None:
    """A fulfilled obligation names the event that fulfilled it."""
    result = invoke("explain", *files, "consult/e1/US")
    assert result.exit_code == 0, result.output
    assert "fulfilled by: e2 consultations(by: US, with: UA)" in result.output


def test_explain_clause_where_nothing_arose(files: tuple[Path, Path]) -> None:
    """For a clause with no obligation, explain says that nothing arose and why."""
    result = invoke("explain", *files, "talks")
    assert result.exit_code == 0, result.output
    assert result.output.startswith('clause talks "talks" (obligation)\n')
    assert "nothing arose from this clause as of 2022-04-05T13:00:00+00:00" in result.output


def test_explain_unknown_item_suggests(files: tuple[Path, Path]) -> None:
    """An unknown item id is an error with a close suggestion."""
    result = invoke("explain", *files, "consult/e1/GBR")
    assert result.exit_code == 1
    assert "error[unknown-item]" in result.output
    assert "did you mean `consult/e1/GB`?" in result.output


def test_report_is_one_self_contained_escaped_page(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    """The HTML report loads nothing from outside and escapes the treaty's text."""
    out = tmp_path / "report.html"
    result = invoke("report", *files, "-o", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Mini &lt;guarantee&gt; &amp; co" in page
    assert "<guarantee>" not in page
    assert "<svg" in page and "as of" in page
    for external in ("<script", "<link", "src=", "@import", "url("):
        assert external not in page
    assert re.findall(r"https?://[^\"']+", page) == ["http://www.w3.org/2000/svg"]
    assert page.count('class="expl"') == 4  # every explanation
    assert "#c62828" in page and "#2e7d32" in page and "#f9a825" in page


def test_installed_command_runs_in_a_subprocess(files: tuple[Path, Path]) -> None:
    """The installed `foedus` script runs end to end and exits 0."""
    script = Path(sys.executable).with_name("foedus")
    assert script.exists(), "the foedus script is installed next to the interpreter"
    done = subprocess.run(
        [str(script), "run", *map(str, files), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["treaty"] == "mini"


def test_report_is_the_same_bytes_every_time(tmp_path: Path, files: tuple[Path, Path]) -> None:
    """Same treaty, events and as-of give the same HTML, byte for byte."""
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    for out in (a, b):
        assert invoke("report", *files, "-o", out, "--as-of", "2022-04-10T00:00:00Z").exit_code == 0
    assert a.read_bytes() == b.read_bytes()


STATES_TREATY = """\
treaty outside "Guarantees against an attack by any state"
role guarantor
party UA "Ukraine"
party US "United States", GB "United Kingdom", RU "Russia" role guarantor
state BY "Belarus"
territory Ukraine
event armed_attack(aggressor: state, victim: party, place: territory)
event consultations(by: party actor, with: party)

clause consult "3 days"
  quote "In case of an attack, consultations should take place within 3 days"
  when armed_attack(victim: UA, aggressor: not RU) as attack
  each guarantor except attack.aggressor must consultations(with: UA) within 3 days of attack
"""
BY_ATTACKS = ('{"id": "a1", "at": "2022-04-01T10:00:00Z", "type": "armed_attack", '
              '"aggressor": "%s", "victim": "UA", "place": "Ukraine"}\n')


def test_run_an_attack_by_a_state_that_is_not_a_party(tmp_path: Path) -> None:
    """`foedus run`: an attack by Belarus obliges every guarantor, none excepted; an
    undeclared state in the log is refused with a hint."""
    treaty = tmp_path / "outside.foedus"
    treaty.write_text(STATES_TREATY, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(BY_ATTACKS % "BY", encoding="utf-8")
    result = invoke("run", treaty, events, "--format", "json", "--as-of", "2022-04-02T00:00:00Z")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {o["id"]: o["state"] for o in data["obligations"]} == {
        "consult/a1/GB": "pending", "consult/a1/RU": "pending", "consult/a1/US": "pending"}
    events.write_text(BY_ATTACKS % "BLR", encoding="utf-8")
    result = invoke("run", treaty, events)
    assert result.exit_code == 1
    assert "error[event-unknown-state]: unknown state `BLR` in field `aggressor`" in result.output
    assert "did you mean `BY`?" in result.output
