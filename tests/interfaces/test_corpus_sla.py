"""The commercial SLA example: business days around holidays, end of day, and service credits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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


def test_every_corpus_example_checks_cleanly() -> None:
    """Each example treaty checks without a single diagnostic."""
    for path in sorted(EXAMPLES.glob("*.foedus")):
        result = foedus.check_file(path)
        assert result.diagnostics == [], path
