"""`foedus explain TREATY EVENTS EVENT-ID` on the flagship log, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from foedus.cli import run_commands

ROOT = Path(__file__).resolve().parents[2]
FILES = (ROOT / "examples" / "istanbul_2022.foedus",
         ROOT / "examples" / "istanbul_2022.events.jsonl")
AS_OF = ("--as-of", "2022-10-15T00:00:00+03:00")


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """Test application."""

    run_commands.register(app)
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def test_explain_event_text_names_what_it_did_and_why_not() -> None:
    """The Sevastopol attack: a violation, the carve-out, and territories outside scope."""
    result = invoke("explain", *FILES, "e09", *AS_OF)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("event e09 armed_attack(")
    assert "  no_force_crimea: violated no_force_crimea/e09/RU - RU did" in out
    assert ("  consult: not triggered - place Sevastopol is within Crimea, which clause "
            "consult excludes") in out
    assert "  stop_kyiv: not violated - place Sevastopol is not within Kyiv_oblast" in out
    assert "not concerned (no pattern names armed_attack): signing," in out


def test_explain_event_text_groups_the_instances_it_triggered() -> None:
    result = invoke("explain", *FILES, "e17", *AS_OF)
    assert result.exit_code == 0, result.output
    assert "  consult: triggered 7 instance(s): consult/e17/CN (violated)," in result.output


def test_explain_event_json() -> None:
    """JSON: the event, its effects and misses with the run's keys (`clause`, `state`)."""
    result = invoke("explain", *FILES, "e41", *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["record"] == "event"
    assert data["event"] == {"id": "e41", "type": "consultations",
                             "at": "2022-10-12T09:00:00Z", "fields": {"by": "CN", "with": "UA"}}
    assert data["effects"] == [{
        "clause": "consult", "kind": "fulfilled", "item": "consult/e35/CN",
        "state": "fulfilled", "reason": data["effects"][0]["reason"]}]
    assert {"clause": "consult", "kind": "not_fulfilled", "item": "consult/e17/CN",
            "state": "violated",
            "reason": "it came after the deadline 2022-09-04T04:00+03:00"} in data["misses"]


def test_explain_unknown_id_suggests_events_too() -> None:
    """An id that is neither a verdict, a clause nor an event: today's error, with hints
    over events as well."""
    result = invoke("explain", *FILES, "e099")
    assert result.exit_code == 1
    assert "error[unknown-item]" in result.output
    assert "did you mean `e09`?" in result.output
