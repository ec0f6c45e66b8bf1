"""The seed's guarantee system run on its scenario, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from foedus.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
TREATY = str(ROOT / "examples" / "istanbul_2022.foedus")
EVENTS = str(ROOT / "examples" / "istanbul_2022.events.jsonl")
AS_OF = "2022-10-15T00:00:00+03:00"


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _states() -> dict[str, str]:
    data = json.loads(_run("run", TREATY, EVENTS, "--as-of", AS_OF, "--format", "json"))
    return {o["id"]: o["state"] for o in data["obligations"]}


def test_treaty_enters_into_force_after_the_ordered_conditions() -> None:
    """Ceasefire, end of emergency, referendum and signature put the treaty in force (S8, S9)."""
    data = json.loads(_run("run", TREATY, EVENTS, "--as-of", AS_OF, "--format", "json"))
    assert data["treaty_status"] == "in_force"
    assert data["conditions"] == {"entry_into_force": "met at 2022-07-10T12:00+03:00 (event e08)"}


def test_attack_outside_crimea_obliges_every_guarantor_but_the_aggressor() -> None:
    """An attack on Kyiv region obliges the seven guarantors other than RU to consult (S3, S4)."""
    states = _states()
    consult = {k.rsplit("/", 1)[1]: v for k, v in states.items() if k.startswith("consult/e17/")}
    assert consult == {
        "CN": "violated",
        "DE": "fulfilled",
        "FR": "fulfilled",
        "GB": "fulfilled",
        "IL": "violated",
        "TR": "fulfilled",
        "US": "fulfilled",
    }


def test_support_follows_the_majority_decision_and_a_late_assistance_violates() -> None:
    """The adopted decision obliges support; late assistance by TR violates it (S5)."""
    states = _states()
    support = {k.rsplit("/", 1)[1]: v for k, v in states.items() if k.startswith("support/")}
    assert support["TR"] == "violated"
    assert support["US"] == "fulfilled"
    assert "RU" not in support


def test_prohibitions_and_unilateral_commitments_are_monitored() -> None:
    """Accession to an alliance, force over Crimea and operations near Chernihiv are violations."""
    data = json.loads(_run("run", TREATY, EVENTS, "--as-of", AS_OF, "--format", "json"))
    obligations = data["obligations"]
    violated = {(o["clause"], o["obligor"]) for o in obligations if o["state"] == "violated"}
    assert ("neutrality", "UA") in violated  # S6
    assert ("no_force_crimea", "RU") in violated  # S7
    assert ("stop_chernihiv", "RU") in violated  # S11
    respected = {o["clause"] for o in data["obligations"] if o["state"] == "respected"}
    assert {"no_repression", "stop_kyiv"} <= respected  # S12, S11


def test_explain_names_the_crimea_carve_out() -> None:
    """Explaining the consultation clause says why the attack on Sevastopol obliged nobody (S7)."""
    out = _run("explain", TREATY, EVENTS, "consult", "--as-of", AS_OF)
    assert "event e09: place Sevastopol is within Crimea, which clause consult excludes" in out


def test_explain_a_violation_names_the_deadline_and_the_trigger() -> None:
    """Explaining CN's missed consultation cites clause, words, attack and deadline."""
    out = _run("explain", TREATY, EVENTS, "consult/e17/CN", "--as-of", AS_OF)
    assert "obligation consult/e17/CN: violated" in out
    assert "In case of an attack, consultations should take place within 3 days" in out
    assert "due 2022-09-04T04:00+03:00" in out
    assert "armed_attack e17" in out
