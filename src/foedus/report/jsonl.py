"""A run as JSON Lines: one line per verdict, written block by block, then a summary.

Stage: after ``engine``; ``foedus run --format jsonl`` writes what :func:`jsonl_blocks`
yields. Each line is what :func:`dumps` gives (``json.dumps(..., sort_keys=True,
ensure_ascii=False)``, with the characters JSON allows raw that could drive a terminal
escaped) for :func:`~foedus.report.data.obligation_to_json` without the explanation (``record``:
"obligation"), for each decision (``record``: "decision") and for the summary
(``record``: "summary"). A run may have millions of verdicts, so their lines are built a
block of rows at a time from the result's columns (``RunResult.table``) with
``pyarrow.compute``, following the same field list (``VERDICT_FIELDS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from foedus.diagnostics import UNSAFE_BEYOND_C0, char_class
from foedus.engine.model import RunResult
from foedus.report.data import (
    LATE_KEY,
    VERDICT_FIELDS,
    decision_to_json,
    duration,
    head_to_json,
)

__all__ = ["BLOCK_ROWS", "dumps", "jsonl_blocks", "jsonl_lines", "verdict_block"]

BLOCK_ROWS = 1 << 16
# what JSON must escape in a string (ensure_ascii=False): quotes, backslashes, controls;
# and what it may leave raw but a terminal would obey: DEL, C1 controls, U+2028/9, and
# the marks that reorder text (bidirectional overrides and isolates)
NEEDS_ESCAPE = '["\\\\\\x00-\\x1f' + char_class(UNSAFE_BEYOND_C0, "\\x{{{:X}}}") + "]"  # RE2
_RAW_IN_JSON = re.compile(f"[{char_class(UNSAFE_BEYOND_C0)}]")


def dumps(data: Any, indent: int | None = None) -> str:
    """JSON for output: keys sorted, text as UTF-8, and the characters JSON allows raw
    that could drive a terminal (DEL, C1 controls, U+2028/9) escaped."""
    return _terminal_safe(json.dumps(data, sort_keys=True, ensure_ascii=False, indent=indent))


def _terminal_safe(text: str) -> str:
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _json_text(col: pa.Array) -> pa.Array:
    """A text column as JSON values: quoted and escaped strings, or ``null``.

    A column of few distinct values (clauses, parties, states) is formatted once per value.
    """
    col = col.cast(pa.string())
    if len(col) > 64:
        encoded = pc.dictionary_encode(col)
        if len(encoded.dictionary) * 8 < len(col):
            return pc.fill_null(_json_text(encoded.dictionary).take(encoded.indices), "null")
    quoted = pc.binary_join_element_wise('"', col, '"', "")
    escape = pc.fill_null(pc.match_substring_regex(col, NEEDS_ESCAPE), False)
    if pc.any(escape).as_py():
        escaped = [_terminal_safe(encode_basestring(v))
                   for v in col.filter(escape).to_pylist()]
        quoted = pc.replace_with_mask(quoted, escape, pa.array(escaped, pa.string()))
    return pc.fill_null(quoted, "null")


def _json_time(col: pa.Array) -> pa.Array:
    """A timestamp column as JSON values: ``"2022-03-29T07:00:00Z"`` (microseconds only
    when the instant has them), or ``null``. (Zone-less casts to text are ten times
    faster than ``strftime``; the instants are UTC.)"""
    micros = pc.cast(col, pa.int64())
    naive = pc.cast(micros, pa.timestamp("us"))
    fraction = pc.fill_null(pc.not_equal(
        pc.subtract(micros, pc.multiply(pc.divide(micros, 10**6), 10**6)), 0), False)
    text = pc.cast(pc.cast(naive, pa.timestamp("s"), safe=False), pa.string())
    if pc.any(fraction).as_py():
        text = pc.if_else(fraction, pc.cast(naive, pa.string()), text)
    text = pc.binary_join_element_wise('"', pc.replace_substring(text, " ", "T"), 'Z"', "")
    return pc.fill_null(text, "null")


_TIMES = {key for key, is_time in VERDICT_FIELDS if is_time}
_KEYS = sorted([key for key, _ in VERDICT_FIELDS] + ["record", LATE_KEY])


def _json_late(table: pa.Table) -> pa.Array:
    """How late each verdict was performed, as JSON: ``duration`` of ``performed_at -
    due_at`` for the few performed late (formatted as the JSON of a verdict does), or
    ``null``."""
    done = table.column("performed_at").combine_chunks()
    text = pa.nulls(len(done), pa.string())
    late = done.is_valid()
    if pc.any(late).as_py():
        due = table.column("due_at").combine_chunks().filter(late).to_pylist()
        spans = [dumps(duration(a - b)) for a, b in zip(done.filter(late).to_pylist(), due,
                                                         strict=True)]
        text = pc.replace_with_mask(text, late, pa.array(spans, pa.string()))
    return pc.fill_null(text, "null")


def verdict_block(table: pa.Table) -> str:
    """The lines of a block of verdict rows (``RunResult.table`` columns), each ending in a
    newline."""
    n = table.num_rows
    if n == 0:
        return ""
    parts: list[Any] = []
    for i, key in enumerate(_KEYS):
        parts.append(("{" if i == 0 else ", ") + _terminal_safe(encode_basestring(key)) + ": ")
        if key == "record":
            parts.append('"obligation"')
        elif key == LATE_KEY:
            parts.append(_json_late(table))
        elif key == "action_fields":  # JSON already
            parts.append(pc.fill_null(table.column(key).combine_chunks().cast(pa.string()),
                                      "null"))
        elif key in _TIMES:
            parts.append(_json_time(table.column(key).combine_chunks()))
        else:
            parts.append(_json_text(table.column(key).combine_chunks()))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    return "".join(lines.to_pylist())


def jsonl_blocks(result: RunResult) -> Iterator[str]:
    """Every verdict in the order it arose, block by block, then every decision and the
    summary; each block is whole lines."""
    for table in result.table_blocks():
        yield verdict_block(table)
    tail = [dumps({"record": "decision", **decision_to_json(d)}) for d in result.decisions]
    tail.append(dumps({"record": "summary", **head_to_json(result)}))
    yield "".join(line + "\n" for line in tail)


def jsonl_lines(result: RunResult) -> Iterator[str]:
    """The lines of :func:`jsonl_blocks`, one at a time, without their newlines."""
    for block in jsonl_blocks(result):
        yield from block.split("\n")[:-1]  # (JSON escapes every newline inside a value)

