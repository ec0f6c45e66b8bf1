"""A treaty's own time zone (`treaty t "T" zone "Europe/Kyiv"`): defaults, dates, description."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from foedus.language import model as m
from foedus.language.check import check_source
from foedus.language.describe import describe_treaty

BODY = """
party UA "Ukraine", PL "Poland"
event request(by: party actor)
event answer(by: party actor, to: party)
clause reply quote "q" when request(by: UA) as r PL must answer(to: UA) within 10 days of r
clause dated quote "q" PL must answer(to: UA) by 2022-04-12
clause quiet quote "q" each party must not request() from 2022-04-01
"""


def _treaty(header: str) -> m.Treaty:
    result = check_source(header + BODY)
    assert result.treaty is not None, result.diagnostics
    return result.treaty


def _deadline(treaty: m.Treaty, clause_id: str) -> m.Deadline:
    clause = treaty.clause(clause_id)
    assert clause is not None and isinstance(clause.body, m.Obligation)
    return clause.body.deadline


def _window(treaty: m.Treaty) -> m.Window:
    clause = treaty.clause("quiet")
    assert clause is not None and isinstance(clause.body, m.Prohibition)
    return clause.body.window


def test_without_a_zone_everything_is_utc() -> None:
    """A header without `zone` gives UTC deadlines and dates that begin and end in UTC."""
    treaty = _treaty('treaty t "T"')
    assert treaty.zone == "UTC"
    assert _deadline(treaty, "reply").zone == "UTC"
    assert _deadline(treaty, "dated").at == datetime(2022, 4, 12, 23, 59, 59, 999999, UTC)
    assert _window(treaty).start_at == datetime(2022, 4, 1, tzinfo=UTC)
    assert "Times are in" not in describe_treaty(treaty)


def test_deadlines_and_dates_follow_the_treaty_zone() -> None:
    """Deadlines without `in` take the treaty's zone; a bare date is a day in that zone."""
    treaty = _treaty('treaty t "T" zone "Europe/Kyiv"')
    assert treaty.zone == "Europe/Kyiv"
    assert _deadline(treaty, "reply").zone == "Europe/Kyiv"
    assert _deadline(treaty, "dated").at == datetime(2022, 4, 12, 20, 59, 59, 999999, UTC)
    assert _window(treaty).start_at == datetime(2022, 3, 31, 21, 0, tzinfo=UTC)
    assert describe_treaty(treaty).splitlines()[:2] == ["T (t)", "Times are in Europe/Kyiv."]


def test_a_day_ends_at_the_later_midnight_when_clocks_turn_back() -> None:
    """Santiago turned its clocks from 24:00 back to 23:00 on 2 April 2022; that day ended
    at 04:00 UTC, after the second 23:59."""
    result = check_source(
        'treaty t "T" zone "America/Santiago"' + BODY.replace("2022-04-12", "2022-04-02")
    )
    assert result.treaty is not None
    at = _deadline(result.treaty, "dated").at
    assert at is not None
    assert at.astimezone(UTC) == datetime(2022, 4, 3, 3, 59, 59, 999999, UTC)


def test_unknown_treaty_zone_is_reported_once() -> None:
    """An unknown zone is one `unknown-zone` error at the header; deadlines are not reported."""
    result = check_source('treaty t "T" zone "Mars/Olympus"' + BODY)
    assert result.treaty is None
    assert [(d.code, d.span.line if d.span else 0) for d in result.diagnostics] == [
        ("unknown-zone", 1)
    ]


def test_only_the_main_file_sets_the_zone(tmp_path: Path) -> None:
    """An imported file's header is an error, and its zone is not even read."""
    (tmp_path / "shared.foedus").write_text('treaty other "O" zone "Mars/Olympus"\n')
    main = tmp_path / "main.foedus"
    result = check_source('treaty t "T"\nimport "shared.foedus"\n' + BODY, str(main), tmp_path)
    assert [d.code for d in result.diagnostics] == ["import-not-declarations"]
