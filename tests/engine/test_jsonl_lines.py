"""JSON Lines: every verdict line is the JSON of the verdict, whatever its text and times."""

from __future__ import annotations

import json
from datetime import timedelta

from engine_builders import at, attack, consult, run, three_days, treaty
from hypothesis import given, settings
from hypothesis import strategies as st

from foedus.report.data import decision_to_json, head_to_json, obligation_to_json
from foedus.report.jsonl import jsonl_lines

ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",))
              | st.sampled_from('\x1b\x7f\x85\x9b\u2028\u2029\u202e\u2067"\\'), min_size=1,
              max_size=8).filter(lambda s: s.strip() != "")


def _expected(result: object) -> list[str]:
    def dumps(data: object) -> str:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        # what JSON leaves raw but a terminal obeys is escaped too
        unsafe = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x2028, 0x2029, 0x61C,
                                              0x200E, 0x200F, *range(0x202A, 0x202F),
                                              *range(0x2066, 0x206A))}
        return text.translate(unsafe)

    lines = [dumps({"record": "obligation", **obligation_to_json(o, explanation=False)})
             for o in result.obligations]  # type: ignore[attr-defined]
    lines += [dumps({"record": "decision", **decision_to_json(d)})
              for d in result.decisions]  # type: ignore[attr-defined]
    return [*lines, dumps({"record": "summary", **head_to_json(result)})]  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(ids, min_size=2, max_size=6, unique=True),
       st.integers(0, 10**6), st.integers(0, 5))
def test_each_line_is_the_json_of_its_verdict(names: list[str], micros: int, late: int) -> None:
    """Ids with quotes, backslashes, controls and any script; times with microseconds."""
    shift = timedelta(microseconds=micros)
    events = [attack(names[0], at(0) + shift)]
    guarantors = ("US", "GB", "FR", "DE", "TR")
    events += [consult(name, at(hours=10 * (i + late)) + shift, guarantors[i])
               for i, name in enumerate(names[1:])]
    result = run(treaty(three_days()), events).status(at(days=4) + shift)
    assert list(jsonl_lines(result)) == _expected(result)
