"""Reading event logs: every kind of bad record gets one clear message; good logs round-trip."""
# ruff: noqa: E501  (golden messages quote whole input lines)

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foedus.diagnostics import EventError, render_text
from foedus.events import Acceptor, Event, load_events, read_events_text, write_events
from foedus.events.tables import check_batch
from foedus.events.where import Where
from foedus.language import model as m
from foedus.language.check import check_file

K = m.FieldKind


def _field(name: str, kind: m.FieldKind, options: tuple[str, ...] = ()) -> m.FieldDecl:
    return m.FieldDecl(name, m.FieldType(kind, options))


TREATY = m.Treaty(
    name="t",
    title="",
    parties=tuple(m.Party(c, c, ()) for c in ("UA", "RU", "US", "GB")),
    roles=(),
    groups=(),
    territories=(
        m.Territory("Ukraine", "Ukraine", None),
        m.Territory("Crimea", "Crimea", "Ukraine"),
    ),
    events=(
        m.EventType(
            "armed_attack",
            (_field("aggressor", K.PARTY), _field("victim", K.PARTY), _field("place", K.TERRITORY)),
            "aggressor",
        ),
        m.EventType(
            "join_alliance",
            (
                _field("member", K.PARTY),
                _field("alliance", K.TEXT),
                _field("kind", K.ENUM, ("military", "political")),
            ),
            "member",
        ),
        m.EventType("aid", (_field("by", K.PARTY), _field("amount", K.NUMBER)), "by"),
        m.EventType("incursion", (_field("intruder", K.STATE), _field("victim", K.PARTY)),
                    "victim"),
    ),
    calendars=(),
    clauses=(),
    states=(m.State("BY", "Belarus"), m.State("KP", "North Korea")),
)

ATTACK = '"type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"'


def rendered(text: str, file: str = "ev.jsonl", fmt: str = "jsonl") -> str:
    with pytest.raises(EventError) as caught:
        read_events_text(text, TREATY, file, fmt=fmt)
    return render_text(caught.value.diagnostics, {file: text})


def test_nested_and_flat_fields_read_the_same() -> None:
    """A record may nest its fields under `fields` or give them at the top level."""
    nested = (
        '{"id": "e1", "at": "2022-03-29T10:00:00+03:00", "type": "armed_attack", '
        '"fields": {"aggressor": "RU", "victim": "UA", "place": "Crimea"}}'
    )
    flat = '{"id": "e1", "at": "2022-03-29T10:00:00+03:00", ' + ATTACK + "}"
    (a,), _ = read_events_text(nested, TREATY)
    (b,), _ = read_events_text(flat, TREATY)
    assert a == b
    assert a.at == datetime(2022, 3, 29, 7, tzinfo=UTC)
    assert a.source == "<events>:1"


CASES = [
    (
        "unknown event type",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_atack"}',
        """\
error[event-unknown-type]: unknown event type `armed_atack`
  --> ev.jsonl:1:52   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_atack"}
  |                                                    ^^^^^^^^^^^^^
   = note: the treaty declares: aid, armed_attack, incursion, join_alliance
   = help: did you mean `armed_attack`?
""",
    ),
    (
        "missing field",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA"}',
        """\
error[event-missing-field]: event of type `armed_attack` lacks field `place`
  --> ev.jsonl:1:1   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA"}
  | ^
   = note: `armed_attack` is declared as armed_attack(aggressor: party, victim: party, place: territory)
   = help: add `place`: a territory
""",
    ),
    (
        "extra field",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea", "weapon": "tank"}',
        """\
error[event-extra-field]: event type `armed_attack` has no field `weapon`
  --> ev.jsonl:1:122   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea", "weapon": "tank"}
  |                                                                                                                          ^^^^^^^^
   = note: `armed_attack` is declared as armed_attack(aggressor: party, victim: party, place: territory)
   = help: remove the field
""",
    ),
    (
        "misspelt field",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "aid", "by": "US", "amuont": 3}',
        """\
error[event-extra-field]: event type `aid` has no field `amuont`
  --> ev.jsonl:1:71   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "aid", "by": "US", "amuont": 3}
  |                                                                       ^^^^^^^^
   = note: `aid` is declared as aid(by: party, amount: number)
   = help: did you mean `amount`?

error[event-missing-field]: event of type `aid` lacks field `amount`
  --> ev.jsonl:1:1   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "aid", "by": "US", "amuont": 3}
  | ^
   = note: `aid` is declared as aid(by: party, amount: number)
   = help: add `amount`: a number
""",
    ),
    (
        "number expected",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "aid", "by": "US", "amount": "ten"}',
        """\
error[event-wrong-type]: field `amount` must be a number, found text `ten`
  --> ev.jsonl:1:81   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "aid", "by": "US", "amount": "ten"}
  |                                                                                 ^^^^^
   = help: write a number such as 3 or 2.5, without quotes
""",
    ),
    (
        "text expected",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "join_alliance", "member": "UA", "alliance": 7, "kind": "military"}',
        """\
error[event-wrong-type]: field `alliance` must be text, found a number `7`
  --> ev.jsonl:1:97   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "join_alliance", "member": "UA", "alliance": 7, "kind": "military"}
  |                                                                                                 ^
   = help: write it as a JSON string in quotes
""",
    ),
    (
        "unknown party",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UK", "place": "Crimea"}',
        """\
error[event-unknown-party]: unknown party `UK` in field `victim`
  --> ev.jsonl:1:97   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UK", "place": "Crimea"}
  |                                                                                                 ^^^^
   = note: the treaty's parties are: GB, RU, UA, US
   = help: did you mean `GB`?
""",
    ),
    (
        "unknown state",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "incursion", "intruder": "BLR", "victim": "UA"}',
        """\
error[event-unknown-state]: unknown state `BLR` in field `intruder`
  --> ev.jsonl:1:77   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "incursion", "intruder": "BLR", "victim": "UA"}
  |                                                                             ^^^^^
   = note: the treaty's parties and other states are: BY, GB, KP, RU, UA, US
   = help: did you mean `BY`?
""",
    ),
    (
        "state where a party is expected",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "incursion", "intruder": "RU", "victim": "BY"}',
        """\
error[event-unknown-party]: `BY` in field `victim` is a state that is not a party
  --> ev.jsonl:1:93   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "incursion", "intruder": "RU", "victim": "BY"}
  |                                                                                             ^^^^
   = note: the treaty's parties are: GB, RU, UA, US
""",
    ),
    (
        "unknown territory",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Krim"}',
        """\
error[event-unknown-territory]: unknown territory `Krim` in field `place`
  --> ev.jsonl:1:112   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Krim"}
  |                                                                                                                ^^^^^^
   = note: the treaty's territories are: Crimea, Ukraine
   = help: did you mean `Crimea`?
""",
    ),
    (
        "unknown enum option",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "join_alliance", "member": "UA", "alliance": "NATO", "kind": "militray"}',
        """\
error[event-unknown-option]: `militray` is not an option of field `kind`
  --> ev.jsonl:1:113   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "join_alliance", "member": "UA", "alliance": "NATO", "kind": "militray"}
  |                                                                                                                 ^^^^^^^^^^
   = note: `kind` is one of: military | political
   = help: did you mean `military`?
""",
    ),
    (
        "unparseable time",
        '{"id": "e1", "at": "29/03/2022 10:00", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}',
        """\
error[event-bad-time]: cannot read time `29/03/2022 10:00`
  --> ev.jsonl:1:20   (event e1)
  |
1 | {"id": "e1", "at": "29/03/2022 10:00", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}
  |                    ^^^^^^^^^^^^^^^^^^
   = help: write an ISO 8601 time with a UTC offset, such as 2022-03-29T10:00:00+03:00
""",
    ),
    (
        "naive time",
        '{"id": "e1", "at": "2022-03-29T10:00:00", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}',
        """\
error[event-naive-time]: time `2022-03-29T10:00:00` has no time zone
  --> ev.jsonl:1:20   (event e1)
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}
  |                    ^^^^^^^^^^^^^^^^^^^^^
   = help: add a UTC offset such as +03:00 or Z
""",
    ),
    (
        "duplicate id",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}\n{"id": "e1", "at": "2022-03-30T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}',
        """\
error[event-duplicate-id]: event id `e1` is used twice
  --> ev.jsonl:2:8   (event e1)
  |
2 | {"id": "e1", "at": "2022-03-30T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}
  |        ^^^^
   = note: first used at ev.jsonl:1
   = help: every event needs its own id
""",
    ),
    (
        "invalid JSON",
        '{"id": "e1", "at": "2022-03-29T10:00:00Z" "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}',
        """\
error[event-invalid-json]: line is not valid JSON: Expecting ',' delimiter
  --> ev.jsonl:1:43
  |
1 | {"id": "e1", "at": "2022-03-29T10:00:00Z" "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}
  |                                           ^
   = help: each line must hold one complete JSON object
""",
    ),
    (
        "empty id",
        '{"id": " ", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}',
        """\
error[event-empty-id]: event has an empty id
  --> ev.jsonl:1:8
  |
1 | {"id": " ", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU", "victim": "UA", "place": "Crimea"}
  |        ^^^
   = help: give every event a unique, non-empty `id`
""",
    ),
    (
        "non-object record",
        '["e1", "2022-03-29T10:00:00Z", "armed_attack"]',
        """\
error[event-not-object]: each record must be a JSON object, found a list
  --> ev.jsonl:1:1
  |
1 | ["e1", "2022-03-29T10:00:00Z", "armed_attack"]
  | ^
   = help: write one object per line: {"id": ..., "at": ..., "type": ...}
""",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_bad_record_has_one_clear_message(name: str, text: str, expected: str) -> None:
    """A bad JSON Lines record is reported with its line, its field and a hint."""
    assert rendered(text) == expected


def test_csv_errors_point_at_the_cell() -> None:
    """In CSV the caret is under the offending cell, and an empty cell means absent."""
    text = "id,at,type,by,amount,victim\ne1,2022-03-29T10:00:00Z,aid,US,lots,\n"
    assert (
        rendered(text, "ev.csv", "csv")
        == """\
error[event-wrong-type]: field `amount` must be a number, found text `lots`
  --> ev.csv:2:32   (event e1)
  |
2 | e1,2022-03-29T10:00:00Z,aid,US,lots,
  |                                ^^^^
   = help: write a number such as 3 or 2.5
"""
    )


def test_csv_header_must_name_the_reserved_columns() -> None:
    """A CSV without an `at` column is rejected on its header line."""
    text = "id,type,by\ne1,aid,US\n"
    assert (
        rendered(text, "ev.csv", "csv")
        == """\
error[events-missing-column]: CSV header lacks column `at`
  --> ev.csv:1:1
  |
1 | id,type,by
  | ^^^^^^^^^^
   = help: the first line must name the columns: id,at,type, then one per field
"""
    )


def test_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    """A missing events file is reported by name, not as a traceback."""
    path = tmp_path / "nope.jsonl"
    with pytest.raises(EventError) as caught:
        load_events(path, TREATY)
    assert (
        render_text(caught.value.diagnostics, {})
        == f"""\
error[events-file-missing]: events file `{path}` does not exist
  --> {path}
   = help: check the path; events are read from .jsonl, .csv, .parquet or .arrow files
"""
    )


GOOD = '{"id": "e0", "at": "2022-03-29T10:00:00Z", ' + ATTACK + "}"
BAD = '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "aid", "by": "US", "amount": "x"}'


def test_all_or_nothing_without_skip_invalid() -> None:
    """One bad record and no event at all is returned."""
    with pytest.raises(EventError) as caught:
        read_events_text(GOOD + "\n" + BAD, TREATY)
    assert [d.code for d in caught.value.diagnostics] == ["event-wrong-type"]


def test_skip_invalid_keeps_the_valid_events() -> None:
    """With skip_invalid the valid events come back beside the diagnostics of the others."""
    events, diags = read_events_text(
        GOOD + "\n" + BAD + "\n\n" + GOOD.replace("e0", "e2"), TREATY, skip_invalid=True
    )
    assert [e.id for e in events] == ["e0", "e2"]
    assert [(d.code, d.span.line if d.span else 0) for d in diags] == [("event-wrong-type", 2)]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".arrow"])
def test_tables_and_csv_report_like_json_lines(tmp_path: Path, suffix: str) -> None:
    """Bad rows of a CSV, Parquet or Arrow log get the record rule's messages."""
    events = [
        Event("e1", datetime(2022, 3, 29, tzinfo=UTC), "aid", {"by": "US", "amount": 1.0}),
        Event("e2", datetime(2022, 3, 30, tzinfo=UTC), "aid", {"by": "UK", "amount": 2.0}),
        Event(
            "e3",
            datetime(2022, 3, 31, tzinfo=UTC),
            "armed_attack",
            {"aggressor": "RU", "victim": "UA", "place": "Krim"},
        ),
        Event("e1", datetime(2022, 4, 1, tzinfo=UTC), "aid", {"by": "US", "amount": 3.0}),
    ]
    path = tmp_path / f"ev{suffix}"
    write_events(path, events)
    with pytest.raises(EventError) as caught:
        load_events(path, TREATY)
    found = [(d.code, d.message) for d in caught.value.diagnostics]
    assert found == [
        ("event-unknown-party", "unknown party `UK` in field `by`"),
        ("event-unknown-territory", "unknown territory `Krim` in field `place`"),
        ("event-duplicate-id", "event id `e1` is used twice"),
    ]
    line = 2 if suffix == ".csv" else 1
    assert caught.value.diagnostics[2].notes == (f"first used at {path}:{line}",)
    valid, diags = load_events(path, TREATY, skip_invalid=True)
    assert [e.id for e in valid] == ["e1"]
    assert len(diags) == 3


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".arrow"])
def test_a_state_field_takes_a_declared_party_or_state(tmp_path: Path, suffix: str) -> None:
    """A state field holds a declared party or a declared state, in every format; any
    other value is refused with the message and hint of a party field."""
    at = datetime(2022, 3, 29, tzinfo=UTC)
    events = [
        Event("e1", at, "incursion", {"intruder": "BY", "victim": "UA"}),
        Event("e2", at, "incursion", {"intruder": "RU", "victim": "UA"}),
        Event("e3", at, "incursion", {"intruder": "BLR", "victim": "UA"}),
        Event("e4", at, "incursion", {"intruder": "RU", "victim": "BY"}),
    ]
    path = tmp_path / f"ev{suffix}"
    write_events(path, events)
    valid, diags = load_events(path, TREATY, skip_invalid=True)
    assert [e.id for e in valid] == ["e1", "e2"]
    assert [(d.code, d.message, d.suggestion) for d in diags] == [
        ("event-unknown-state", "unknown state `BLR` in field `intruder`", "did you mean `BY`?"),
        ("event-unknown-party", "`BY` in field `victim` is a state that is not a party", None),
    ]


def test_columns_vouch_for_declared_states(tmp_path: Path) -> None:
    """The column check of a table accepts the states the rule accepts: no valid row of a
    state field is handed to the rule, every invalid one is."""
    import pyarrow.parquet as pq

    at = datetime(2022, 3, 29, tzinfo=UTC)
    codes = ["BY", "KP", "UA", "GB", "BLR", "Crimea"]
    events = [Event(f"e{i}", at, "incursion", {"intruder": code, "victim": "UA"})
              for i, code in enumerate(codes)]
    write_events(tmp_path / "log.parquet", events)
    checked = check_batch(pq.read_table(tmp_path / "log.parquet"), Acceptor(TREATY),
                          "log.parquet", 1)
    assert checked.rows.column("intruder").to_pylist() == ["BY", "KP", "UA", "GB"]
    assert checked.extra == []
    assert [d.code for d in checked.problems] == ["event-unknown-state"] * 2


def test_tables_reject_naive_timestamps(tmp_path: Path) -> None:
    """A timestamp column without a zone is an error on every row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": ["e1"],
            "at": pa.array([datetime(2022, 3, 29)], pa.timestamp("us")),
            "type": ["aid"],
            "by": ["US"],
            "amount": [1.0],
        }
    )
    pq.write_table(table, tmp_path / "ev.parquet")
    with pytest.raises(EventError) as caught:
        load_events(tmp_path / "ev.parquet", TREATY)
    (d,) = caught.value.diagnostics  # one problem for the column, not one per row
    assert d.code == "event-naive-time"
    assert d.message == "column `at` is timestamp[us], a timestamp without a time zone"


# ---------------------------------------------------------------- round trips

PARTIES = ["UA", "RU", "US", "GB"]
zones = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5))])
times = st.builds(
    lambda minutes, tz: (datetime(2022, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)).astimezone(
        tz
    ),
    st.integers(0, 10**6),
    zones,
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s != "")
field_sets = st.one_of(
    st.fixed_dictionaries(
        {
            "aggressor": st.sampled_from(PARTIES),
            "victim": st.sampled_from(PARTIES),
            "place": st.sampled_from(["Ukraine", "Crimea"]),
        }
    ).map(lambda f: ("armed_attack", f)),
    st.fixed_dictionaries(
        {
            "member": st.sampled_from(PARTIES),
            "alliance": texts,
            "kind": st.sampled_from(["military", "political"]),
        }
    ).map(lambda f: ("join_alliance", f)),
    st.fixed_dictionaries(
        {"by": st.sampled_from(PARTIES), "amount": st.floats(-1e9, 1e9, allow_nan=False).map(float)}
    ).map(lambda f: ("aid", f)),
    st.fixed_dictionaries(
        {"intruder": st.sampled_from([*PARTIES, "BY", "KP"]), "victim": st.sampled_from(PARTIES)}
    ).map(lambda f: ("incursion", f)),
)
logs = st.lists(st.tuples(times, field_sets), max_size=12).map(
    lambda items: [Event(f"e{i}", at, kind, fields) for i, (at, (kind, fields)) in enumerate(items)]
)


def _plain(events: list[Event]) -> list[tuple[str, datetime, str, dict[str, object]]]:
    return [(e.id, e.at, e.type, dict(e.fields)) for e in events]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(logs, st.sampled_from([".jsonl", ".csv", ".parquet", ".arrow"]))
def test_valid_events_read_back_identically(
    tmp_path: Path, events: list[Event], suffix: str
) -> None:
    """Valid events written as JSON Lines, CSV, Parquet or Arrow read back as the same events."""
    path = tmp_path / f"log{suffix}"
    write_events(path, events)
    back, diags = load_events(path, TREATY)
    assert diags == []
    assert _plain(back) == _plain(events)


def test_jsonl_records_are_sorted_and_stable(tmp_path: Path) -> None:
    """Written JSON Lines have sorted keys, so the same events give the same bytes."""
    event = Event("e1", datetime(2022, 3, 29, 10, tzinfo=UTC), "aid", {"by": "US", "amount": 2.0})
    write_events(tmp_path / "a.jsonl", [event])
    assert json.loads((tmp_path / "a.jsonl").read_text()) == {
        "at": "2022-03-29T10:00:00+00:00",
        "fields": {"amount": 2.0, "by": "US"},
        "id": "e1",
        "type": "aid",
    }


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.just(""),
    st.sampled_from(["UA", "UK", "BY", "BLR", "Crimea", "Krim", "military", "x", "3",
                     "2022-03-29T10:00:00"]),
)
keys = st.sampled_from(["id", "at", "type", "fields", "victim", "intruder", "kind", "amount",
                        "extra"])


def _record(event: Event, nested: bool, strings: bool) -> dict[str, object]:
    fields = {k: _cell(v) if strings else v for k, v in event.fields.items()}
    head = {"id": event.id, "at": event.at.isoformat(), "type": event.type}
    return {**head, "fields": fields} if nested and not strings else {**head, **fields}


def _cell(v: object) -> str:
    return repr(v) if isinstance(v, float) else str(v)


@st.composite
def records(draw: st.DrawFn) -> tuple[dict[str, object], bool, str]:
    """A valid record, then perhaps one change: a key set to a random value, or removed."""
    strings = draw(st.booleans())
    (event,) = draw(logs.filter(lambda log: len(log) > 0).map(lambda log: log[:1]))
    record = _record(event, draw(st.booleans()), strings)
    target = record.get("fields", record)
    assert isinstance(target, dict)
    change = draw(st.sampled_from(["none", "set", "drop"]))
    key = draw(keys)
    if change == "set":
        value = draw(values)
        target[key] = value if not strings or value is None else _cell(value)
    elif change == "drop":
        target.pop(key, None)
    return record, strings, change


@settings(max_examples=300, deadline=None)
@given(st.lists(records(), min_size=1, max_size=6))
def test_json_records_one_rule(cases: list[tuple[dict[str, object], bool, str]]) -> None:
    """Changed records are accepted or refused by one rule, unchanged ones always accepted."""
    acceptor = Acceptor(TREATY)
    for line, (record, strings, change) in enumerate(cases, start=1):
        record = {**record, "id": f"r{line}"} if "id" in record else record
        event, problems = acceptor.accept(record, Where("ev.jsonl", line), cells=strings)
        assert (event is None) == bool(problems)
        if change == "none":
            assert event is not None


COLUMN_VALUES = {
    "text": st.one_of(st.none(), st.sampled_from(
        ["", " ", "UA", "UK", "BY", "BLR", "Crimea", "Krim", "military", "x", "3", "1e3", "nan",
         "inf",
         "2022-03-29T10:00:00Z", "2022-03-29T10:00:00", " 2022-03-29 10:00+03:00 ",
         "2022-13-01T00:00:00Z", "e1", "e2", "aid", "armed_attack", "join_alliance",
         "incursion"])),
    "int": st.one_of(st.none(), st.integers(-3, 3)),
    "float": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    "bool": st.one_of(st.none(), st.booleans()),
    "time": st.one_of(st.none(), st.integers(-10**6, 10**6).map(
        lambda m: datetime(2022, 1, 1, tzinfo=UTC) + timedelta(minutes=m))),
    # nanoseconds (as pandas writes), some past what a microsecond holds; and year 11476
    "time_ns": st.one_of(st.none(), st.integers(-10**15, 10**15).map(
        lambda ns: 1_640_995_200 * 10**9 + ns)),
    "time_far": st.one_of(st.none(), st.sampled_from([2**62, -(2**62), 0])),
}
COLUMN_TYPES = {"text": "string", "int": "int64", "float": "float64", "bool": "bool",
                "time": "timestamp[us, tz=UTC]", "time_ns": "timestamp[ns, tz=UTC]",
                "time_far": "timestamp[us, tz=UTC]"}
COLUMN_NAMES = ["id", "at", "type", "aggressor", "victim", "place", "member", "alliance",
                "kind", "by", "amount", "intruder", "extra"]


@st.composite
def tables(draw: st.DrawFn) -> object:
    """Tables with random column kinds and values: mostly nonsense, some valid rows."""
    import pyarrow as pa

    n = draw(st.integers(1, 8))
    names = [c for c in COLUMN_NAMES if c in ("id", "at", "type") or draw(st.booleans())]
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(COLUMN_VALUES)))
        if name == "type":
            kind = "text"
        values = draw(st.lists(COLUMN_VALUES[kind], min_size=n, max_size=n))
        if kind.startswith("time"):
            unit = "ns" if kind == "time_ns" else "us"
            array = pa.array(values, pa.int64() if kind != "time" else pa.timestamp(unit, "UTC"))
            columns[name] = array.cast(pa.timestamp(unit, tz="UTC"))
        else:
            columns[name] = pa.array(values, pa.type_for_alias(COLUMN_TYPES[kind]))
    return pa.table(columns)


@settings(max_examples=400, deadline=None)
@given(tables())
def test_columns_only_speed_up_the_rule(table: object) -> None:
    """Checking a table by columns gives, row for row, the record rule's events and messages."""
    from foedus.events.tables import _row

    checked = check_batch(table, Acceptor(TREATY), "t.parquet", 1)  # type: ignore[arg-type]
    rule = Acceptor(TREATY)
    events, problems = [], []
    names = table.column_names  # type: ignore[attr-defined]
    for i in range(table.num_rows):  # type: ignore[attr-defined]
        event, found = rule.accept(_row(table, names, i), Where("t.parquet", i + 1), cells=True)
        problems.extend(found)
        if event is not None:
            events.append(event)
    assert checked.problems == problems
    assert _plain(checked.events("t.parquet")) == _plain(events)
    assert [e.source for e in checked.events("t.parquet")] == [e.source for e in events]


def test_columns_vouch_for_every_valid_row(tmp_path: Path) -> None:
    """A valid log read by columns hands no row to the rule: the fast path is taken."""
    import pyarrow.parquet as pq

    flagship = Path(__file__).resolve().parents[2] / "examples"
    treaty = check_file(flagship / "istanbul_2022.foedus").treaty
    assert treaty is not None
    events, _ = load_events(flagship / "istanbul_2022.events.jsonl", treaty)
    write_events(tmp_path / "log.parquet", events)
    table = pq.read_table(tmp_path / "log.parquet")
    checked = check_batch(table, Acceptor(treaty), "log.parquet", 1)
    assert checked.problems == [] and checked.extra == []
    assert checked.rows.num_rows == len(events)


json_texts = st.one_of(
    st.text(max_size=30),
    st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                 max_leaves=8).map(json.dumps),
).flatmap(lambda t: st.tuples(st.sampled_from(["", " ", "\t", "\ufeff", "x", "\r"]),
                              st.just(t),
                              st.sampled_from(["", " ", "\t", "}", " 1", "\r", "\n"])))


@settings(max_examples=500, deadline=None)
@given(json_texts)
def test_lines_are_read_as_json_loads_reads_them(parts: tuple[str, str, str]) -> None:
    """The JSON Lines reader decodes a line exactly as json.loads: value, or message and place."""
    from foedus.events.text import _loads

    line = "".join(parts)

    def outcome(loads: object) -> object:
        try:
            return ("value", repr(loads(line)))  # type: ignore[operator]
        except json.JSONDecodeError as exc:
            return ("error", exc.msg, exc.pos)

    assert outcome(_loads) == outcome(json.loads)
