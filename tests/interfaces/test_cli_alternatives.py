"""`foedus run`, `explain`, `describe`, `report` and `fmt` on a treaty whose patterns list
several event types: a strike logged once, as whichever type, counts for every clause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_process import foedus_cmd, text

TREATY = """\
treaty kyiv "The operation in Kyiv and Chernihiv will stop" zone "Europe/Kyiv"

role guarantor

party UA "Ukraine", RU "Russia"
party US "United States", GB "United Kingdom" role guarantor

territory Ukraine
territory Kyiv_oblast within Ukraine
territory Crimea within Ukraine

event military_operation(by: party, place: territory)
event armed_attack(aggressor: party, victim: party, place: territory)
event consultations(by: party actor, with: party)
event talks(by: party actor, with: party)

clause stop_kyiv "Operations will stop in Kyiv"
  quote "The operation in Kyiv and Chernihiv will stop"
  RU
    must not military_operation | armed_attack(place: within Kyiv_oblast) from 2022-03-30

clause consult "Consultations within three days"
  quote "consultations should take place within 3 days"
  when armed_attack | military_operation(place: not within Crimea) as strike
  each guarantor
    must consultations | talks(with: UA) within 3 days of strike
"""

EVENTS = [
    {"id": "e1", "at": "2022-04-01T10:00:00+03:00", "type": "armed_attack",
     "aggressor": "RU", "victim": "UA", "place": "Kyiv_oblast"},
    {"id": "e2", "at": "2022-04-01T12:00:00+03:00", "type": "talks", "by": "US", "with": "UA"},
    {"id": "e3", "at": "2022-04-02T10:00:00+03:00", "type": "consultations", "by": "GB",
     "with": "UA"},
    {"id": "e4", "at": "2022-04-03T08:00:00+03:00", "type": "military_operation", "by": "RU",
     "place": "Crimea"},
]
AS_OF = "2022-04-10T00:00:00+03:00"


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    treaty = tmp_path / "kyiv.foedus"
    treaty.write_text(TREATY, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return treaty, events


def test_run_sees_one_strike_in_every_clause(files: tuple[Path, Path]) -> None:
    """One armed attack in Kyiv both breaks the prohibition and triggers the obligation,
    which talks and consultations fulfil alike; an operation in Crimea is carved out."""
    done = foedus_cmd("run", *files, "--as-of", AS_OF, "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(text(done))
    states = {o["id"]: (o["state"], o["settled_by"]) for o in data["obligations"]}
    assert states == {
        "stop_kyiv/e1/RU": ("violated", "e1"),
        "consult/e1/GB": ("fulfilled", "e3"),
        "consult/e1/US": ("fulfilled", "e2"),
    }
    stop = data["obligations"][0]
    assert stop["action"] == "military_operation | armed_attack(place: within Kyiv_oblast)"
    assert stop["action_fields"] == {
        "event": "military_operation", "alternatives": ["armed_attack"],
        "fields": {"place": {"op": "within", "value": "Kyiv_oblast"}}}
    assert data["not_arisen"] == [{
        "clause": "consult", "event": "e4",
        "reason": "place Crimea is within Crimea, which clause consult excludes"}]


def test_explain_names_the_type_of_the_event(files: tuple[Path, Path]) -> None:
    """The explanation of an instance names the type its trigger or act had."""
    stop = text(foedus_cmd("explain", *files, "stop_kyiv/e1/RU", "--as-of", AS_OF))
    assert "why: RU did armed_attack(place: within Kyiv_oblast) (event e1 at " in stop
    consult = text(foedus_cmd("explain", *files, "consult/e1/US", "--as-of", AS_OF))
    assert "why: It arose from armed_attack e1 at 2022-04-01T10:00+03:00;" in consult
    assert "fulfilled by e2 at 2022-04-01T12:00+03:00: consultations | talks(with: UA) by US." \
        in consult


def test_describe_report_and_fmt(files: tuple[Path, Path], tmp_path: Path) -> None:
    """`describe` says "or", the report shows the action, `fmt` leaves the text as it is."""
    treaty, events = files
    described = text(foedus_cmd("describe", treaty))
    assert "must never do “military operation” or “armed attack” where place is within " \
        "Kyiv_oblast" in described
    page = tmp_path / "report.html"
    assert foedus_cmd("report", treaty, events, "--as-of", AS_OF, "-o", page).returncode == 0
    assert "military_operation | armed_attack(place: within Kyiv_oblast)" in page.read_text(
        encoding="utf-8")
    assert foedus_cmd("fmt", "--check", treaty).returncode == 0
