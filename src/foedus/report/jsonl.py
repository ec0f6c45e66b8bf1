"""A run as JSON Lines: one line per verdict, written as they are read, then a summary.

Stage: after ``engine``; ``foedus run --format jsonl`` writes what :func:`jsonl_lines`
yields. Lines are what ``json.dumps(..., sort_keys=True, ensure_ascii=False)`` gives for
:func:`~foedus.report.data.obligation_to_json` without the explanation (``record``:
"obligation"), for each decision (``record``: "decision") and for the summary
(``record``: "summary"); verdict lines are built directly from the same field list,
since a run may have millions of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from foedus.engine.model import ObligationInstance, RunResult
from foedus.report.data import VERDICT_FIELDS, decision_to_json, head_to_json

__all__ = ["jsonl_lines", "utc_text", "verdict_line"]

_DAYS: dict[int, str] = {}
_HOURS = [f"{h:02d}:" for h in range(24)]
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)]
# (key in sorted order, position in the row or -1 for the record tag, is a time)
_LAYOUT = sorted(
    [(key, i, is_time) for i, (key, is_time) in enumerate(VERDICT_FIELDS)]
    + [("record", -1, False)]
)
_PREFIXES = [("{" if n == 0 else ", ") + encode_basestring(key) + ": "
             for n, (key, _, _) in enumerate(_LAYOUT)]


def utc_text(at: datetime) -> str:
    """:func:`~foedus.report.data.iso` of ``at``, fast for whole seconds.

    >>> from datetime import timezone, timedelta
    >>> utc_text(datetime(2022, 3, 29, 10, 0, 5, tzinfo=timezone(timedelta(hours=3))))
    '2022-03-29T07:00:05Z'
    """
    if at.microsecond:
        return at.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    seconds = int(at.timestamp())
    day, rest = divmod(seconds, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = at.astimezone(UTC).strftime("%Y-%m-%dT")
        if len(prefix) != 11:  # a year before 1000 or after 9999: let isoformat pad it
            return at.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        _DAYS[day] = prefix
    hour, rest = divmod(rest, 3600)
    return prefix + _HOURS[hour] + _MINUTES_SECONDS[rest]


def _value(value: Any, is_time: bool) -> str:
    if value is None:
        return "null"
    if is_time:
        return '"' + utc_text(value) + '"'
    return str(encode_basestring(str(value)))


def verdict_line(o: ObligationInstance) -> str:
    """One verdict's line, without its explanation."""
    row = o.row()
    parts = []
    for prefix, (_, index, is_time) in zip(_PREFIXES, _LAYOUT, strict=True):
        parts.append(prefix)
        parts.append('"obligation"' if index < 0 else _value(row[index], is_time))
    parts.append("}")
    return "".join(parts)


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def jsonl_lines(result: RunResult) -> Iterator[str]:
    """Every verdict in the order it arose, every decision, then the summary."""
    for o in result.obligations:
        yield verdict_line(o)
    for d in result.decisions:
        yield _dumps({"record": "decision", **decision_to_json(d)})
    yield _dumps({"record": "summary", **head_to_json(result)})
