"""The commercial SLA example: business days around holidays, end of day, and service credits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cli_process import foedus_cmd, text

import foedus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _states() -> dict[str, tuple[str, str]]:
    treaty = foedus.check_file(EXAMPLES / "sla.foedus").treaty
    assert treaty is not None
    events, problems = foedus.load_events(EXAMPLES / "sla.events.jsonl", treaty)
    assert problems == []
    monitor = foedus.Monitor(treaty)
    monitor.feed_many(events)
    result = monitor.status(as_of=datetime(2027, 1, 20, tzinfo=UTC))
    return {
        o.id: (str(o.state), o.due_at.isoformat() if o.due_at else "") for o in result.obligations
    }


def test_one_business_day_skips_the_christmas_holidays_and_the_weekend() -> None:
    """A sev-2 report on 24 December is due on Monday 28 December, so 29 December is late."""
    assert _states()["ack_sev2/i1/HOST"] == ("violated", "2026-12-28T16:30:00+00:00")


def test_a_missed_hour_obliges_a_service_credit_within_five_business_days() -> None:
    """The late sev-1 acknowledgement triggers the credit clause, met by the credit on 7 January."""
    states = _states()
    assert states["ack_sev1/i2/HOST"][0] == "violated"
    assert states["credit/ack_sev1/i2/HOST/HOST"] == ("fulfilled", "2027-01-11T23:10:00+00:00")


def test_end_of_the_next_day_is_the_last_instant_of_that_local_day() -> None:
    """A sev-1 resolution is due at the end of the day after the report, Dublin time."""
    assert _states()["fix_sev1/i2/HOST"] == ("fulfilled", "2027-01-05T23:59:59.999999+00:00")


def test_the_late_acknowledgements_are_recorded_as_performed_late() -> None:
    """Both acknowledgements came after their due times: violated, and performed late."""
    treaty = foedus.check_file(EXAMPLES / "sla.foedus").treaty
    assert treaty is not None
    events, _ = foedus.load_events(EXAMPLES / "sla.events.jsonl", treaty)
    monitor = foedus.Monitor(treaty)
    monitor.feed_many(events)
    result = monitor.status(as_of=datetime(2027, 1, 20, tzinfo=UTC))
    late = {o.id: (o.performed_by, str(o.late_by)) for o in result.obligations
            if o.performed_by}
    assert late == {"ack_sev2/i1/HOST": ("a1", "16:45:00"), "ack_sev1/i2/HOST": ("a2", "0:30:00")}


def test_run_json_and_explain_show_the_late_act() -> None:
    """`foedus run --format json` carries performed_by, performed_at and late_by;
    `foedus explain` says how late, by which event."""
    args = (EXAMPLES / "sla.foedus", EXAMPLES / "sla.events.jsonl", "--as-of",
            "2027-01-20T00:00:00Z")
    data = json.loads(text(foedus_cmd("run", *args, "--format", "json")))
    got = {o["id"]: (o["state"], o["performed_by"], o["performed_at"], o["late_by"])
           for o in data["obligations"]}
    assert got["ack_sev1/i2/HOST"] == ("violated", "a2", "2027-01-04T23:40:00Z", "PT30M")
    assert got["ack_sev2/i1/HOST"] == ("violated", "a1", "2026-12-29T09:15:00Z", "PT16H45M")
    assert got["fix_sev1/i2/HOST"] == ("fulfilled", None, None, None)
    out = text(foedus_cmd("explain", EXAMPLES / "sla.foedus", EXAMPLES / "sla.events.jsonl",
                          "ack_sev1/i2/HOST", "--as-of", "2027-01-20T00:00:00Z"))
    assert "It was performed 30 min late by a2 at 2027-01-04T23:40Z." in out
    assert "performed 30 min late by a2 acknowledgement(by: HOST, ticket: T-101) at " \
        "2027-01-04T23:40:00+00:00" in out
    table = text(foedus_cmd("run", *args))
    assert "done 30m late" in table


def test_every_corpus_example_checks_cleanly() -> None:
    """Each example treaty checks without a single diagnostic."""
    for path in sorted(EXAMPLES.glob("*.foedus")):
        result = foedus.check_file(path)
        assert result.diagnostics == [], path
