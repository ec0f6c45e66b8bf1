"""Renderings of a run for people and programs: stable JSON, text summaries, an HTML report.

Stage: after ``engine`` (a :class:`~foedus.engine.model.RunResult` goes in); the
interfaces (CLI, API, web) call these and print or serve what comes out.
"""

from foedus.report.data import (
    clause_counts,
    decision_to_json,
    done_late,
    duration,
    event_explanation_to_json,
    explanation_to_json,
    head_to_json,
    iso,
    minutes,
    obligation_to_json,
    result_to_json,
    short_time,
    sorted_decisions,
    sorted_obligations,
    status_counts,
    tally_counts,
    time_left,
)
from foedus.report.html import render_html
from foedus.report.jsonl import jsonl_blocks, jsonl_lines
from foedus.report.text import explain_event, explain_item

__all__ = [
    "clause_counts",
    "decision_to_json",
    "done_late",
    "duration",
    "event_explanation_to_json",
    "explain_event",
    "explain_item",
    "explanation_to_json",
    "head_to_json",
    "iso",
    "jsonl_blocks",
    "jsonl_lines",
    "minutes",
    "obligation_to_json",
    "render_html",
    "result_to_json",
    "short_time",
    "sorted_decisions",
    "sorted_obligations",
    "status_counts",
    "tally_counts",
    "time_left",
]
