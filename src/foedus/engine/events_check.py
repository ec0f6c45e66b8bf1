"""Checking one raw event record against a treaty's event declarations.

Stage: after ``language.check``; used by ``events_io`` (record by record) and
``events_columns`` (for the rows the vectorised checks reject). A record is a JSON
object or a CSV row as a dict; the result is an :class:`~foedus.engine.model.Event` or
diagnostics that name the file, line and field, with a hint.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from foedus.diagnostics import Diagnostic, Span, did_you_mean, error
from foedus.engine.model import Event, FieldValue
from foedus.language.model import EventType, FieldKind, Treaty

RESERVED = ("id", "at", "type")
# Common non-ISO codes people write for a party, mapped to the ISO 3166 code.
TIME_HINT = "write an ISO 8601 time with a UTC offset, such as 2022-03-29T10:00:00+03:00"


# ---------------------------------------------------------------- locating problems


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record came from: file, line (or row) and, for text formats, the raw line."""

    file: str
    line: int
    raw: str | None = None
    csv_header: tuple[str, ...] | None = None

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def span(self, key: str | None = None, value: Any = None) -> Span:
        """Point at the field's key or value in the raw line when it can be found, else column 1."""
        column, width = 1, 1
        if self.raw is not None and key is not None:
            found = self._find(key, value)
            if found is not None:
                column, width = found
        return Span.point(self.file, self.line, column, width)

    def _find(self, key: str, value: Any) -> tuple[int, int] | None:
        raw = self.raw or ""
        if self.csv_header is not None:
            # Cell offsets are exact only when no cell is quoted.
            if '"' in raw or key not in self.csv_header:
                return None
            cells = raw.split(",")
            index = self.csv_header.index(key)
            if index >= len(cells):
                return None
            start = sum(len(c) + 1 for c in cells[:index])
            return start + 1, max(len(cells[index]), 1)
        quoted = json.dumps(key, ensure_ascii=False)
        at = raw.find(quoted + ":")
        if at < 0:
            at = raw.find(quoted)
        if at < 0:
            return None
        if value is not None and not isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
            vat = raw.find(text, at + len(quoted))
            if vat >= 0:
                return vat + 1, len(text)
        return at + 1, len(quoted)


# ---------------------------------------------------------------- the record checker


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


class EventChecker:
    """Checks raw records (JSON objects or CSV rows) against a treaty's event declarations.

    ``strings`` is set for CSV-like sources where every cell is text: numbers are then read
    from their text and an empty cell means the field is absent.
    """

    def __init__(self, treaty: Treaty):
        self.treaty = treaty
        self.types: dict[str, EventType] = {e.name: e for e in treaty.events}
        self.parties = tuple(p.code for p in treaty.parties)
        self.party_set = frozenset(self.parties)
        self.territories = tuple(t.name for t in treaty.territories)
        self.territory_set = frozenset(self.territories)
        self.seen: dict[str, int] = {}  # event id -> line of first occurrence
        # For the fast path: per type, (field, is number, allowed values or None).
        self.specs: dict[str, tuple[tuple[str, bool, frozenset[str] | None], ...]] = {
            e.name: tuple(
                (
                    f.name,
                    f.type.kind is FieldKind.NUMBER,
                    self.party_set
                    if f.type.kind is FieldKind.PARTY
                    else self.territory_set
                    if f.type.kind is FieldKind.TERRITORY
                    else frozenset(f.type.options)
                    if f.type.kind is FieldKind.ENUM
                    else None,
                )
                for f in e.fields
            )
            for e in treaty.events
        }

    # -- the common case

    def fast(self, record: Any, where: Where, strings: bool = False) -> Event | None:
        """The event of a record that is plainly valid, or None to run :meth:`check`.

        Most records in a log are valid; this path does only the tests that accept them
        and leaves every message to :meth:`check`, which it must agree with.
        """
        if type(record) is not dict:
            return None
        event_id = record.get("id")
        at_raw = record.get("at")
        spec = self.specs.get(record.get("type"))  # type: ignore[arg-type]
        if (
            spec is None
            or type(event_id) is not str
            or type(at_raw) is not str
            or not event_id.strip()
            or event_id in self.seen
        ):
            return None
        nested = None if strings else record.get("fields")
        if nested is not None:
            if type(nested) is not dict or len(record) != 4:
                return None
            given = nested
        else:
            given = record
        values: dict[str, FieldValue] = {}
        for name, numeric, allowed in spec:
            v = given.get(name)
            if numeric:
                if type(v) is float or type(v) is int:
                    number = float(v)
                elif strings and type(v) is str and v.strip():
                    try:
                        number = float(v)
                    except ValueError:
                        return None
                else:
                    return None
                if not math.isfinite(number):
                    return None
                values[name] = number
            elif type(v) is not str or (strings and v == "") or (allowed and v not in allowed):
                return None
            else:
                values[name] = v
        extra = len(given) - len(values) - (0 if nested is not None else 3)
        if extra != 0 and any(
            v is not None and not (strings and v == "")
            for k, v in given.items()
            if k not in values and (nested is not None or k not in RESERVED)
        ):
            return None
        try:
            at = datetime.fromisoformat(at_raw.strip())
        except ValueError:
            return None
        if at.tzinfo is None or at.utcoffset() is None:
            return None
        self.seen[event_id] = where.line
        return Event(event_id, at, record["type"], values, where.source)

    # -- one record

    def check(
        self, record: Any, where: Where, *, strings: bool = False
    ) -> tuple[Event | None, list[Diagnostic]]:
        """Return the event, or None and the diagnostics that explain why there is none."""
        if not isinstance(record, dict):
            return None, [
                error(
                    "event-not-object",
                    f"each record must be a JSON object, found {_kind_of(record)}",
                    where.span(),
                    suggestion='write one object per line: {"id": ..., "at": ..., "type": ...}',
                )
            ]
        diags: list[Diagnostic] = []
        raw_id = record.get("id")
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            raw_id = str(raw_id) if not isinstance(raw_id, float) else _show(raw_id)
        if raw_id is None or (isinstance(raw_id, str) and raw_id.strip() == ""):
            diags.append(
                error(
                    "event-empty-id",
                    "event has no id" if raw_id is None else "event has an empty id",
                    where.span("id", raw_id),
                    suggestion="give every event a unique, non-empty `id`",
                )
            )
            event_id = None
        elif not isinstance(raw_id, str):
            diags.append(
                error(
                    "event-wrong-type",
                    f"`id` must be text, found {_kind_of(raw_id)}",
                    where.span("id", raw_id),
                )
            )
            event_id = None
        else:
            event_id = raw_id
        context = f"event {event_id}" if event_id else None

        at = self._time(record.get("at"), where, context, diags)
        type_name = record.get("type")
        fields_in = self._fields_of(record, where, context, diags, strings)
        etype: EventType | None = None
        if type_name is None or type_name == "":
            diags.append(
                error(
                    "event-missing-key",
                    "event has no `type`",
                    where.span("type"),
                    context=context,
                    suggestion="name one of the declared event types: " + self._type_list(),
                )
            )
        elif not isinstance(type_name, str) or type_name not in self.types:
            guess = did_you_mean(str(type_name), self.types) if isinstance(type_name, str) else None
            diags.append(
                error(
                    "event-unknown-type",
                    f"unknown event type `{_show(type_name)}`",
                    where.span("type", type_name),
                    context=context,
                    notes=(f"the treaty declares: {self._type_list()}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
        else:
            etype = self.types[type_name]

        values: dict[str, FieldValue] = {}
        if etype is not None and fields_in is not None:
            values = self._check_fields(etype, fields_in, where, context, diags, strings)

        if event_id is not None:
            first = self.seen.get(event_id)
            if first is not None:
                diags.append(
                    error(
                        "event-duplicate-id",
                        f"event id `{event_id}` is used twice",
                        where.span("id", event_id),
                        context=context,
                        notes=(f"first used at {where.file}:{first}",),
                        suggestion="every event needs its own id",
                    )
                )
            elif not diags:
                self.seen[event_id] = where.line
        if diags or event_id is None or at is None or etype is None:
            return None, diags
        return Event(event_id, at, etype.name, values, where.source), []

    def _type_list(self) -> str:
        return ", ".join(sorted(self.types)) or "(none)"

    def _time(
        self, raw: Any, where: Where, context: str | None, diags: list[Diagnostic]
    ) -> datetime | None:
        if raw is None or raw == "":
            diags.append(
                error(
                    "event-missing-key",
                    "event has no time `at`",
                    where.span("at"),
                    context=context,
                    suggestion=TIME_HINT,
                )
            )
            return None
        if isinstance(raw, datetime):
            parsed = raw
        elif not isinstance(raw, str):
            diags.append(
                error(
                    "event-bad-time",
                    f"time `at` must be text, found {_kind_of(raw)}",
                    where.span("at", raw),
                    context=context,
                    suggestion=TIME_HINT,
                )
            )
            return None
        else:
            try:
                parsed = datetime.fromisoformat(raw.strip())
            except ValueError:
                diags.append(
                    error(
                        "event-bad-time",
                        f"cannot read time `{raw}`",
                        where.span("at", raw),
                        context=context,
                        suggestion=TIME_HINT,
                    )
                )
                return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            diags.append(
                error(
                    "event-naive-time",
                    f"time `{_show(raw) if not isinstance(raw, datetime) else raw.isoformat()}` "
                    "has no time zone",
                    where.span("at", raw if isinstance(raw, str) else None),
                    context=context,
                    suggestion="add a UTC offset such as +03:00 or Z",
                )
            )
            return None
        return parsed

    def _fields_of(
        self,
        record: dict[str, Any],
        where: Where,
        context: str | None,
        diags: list[Diagnostic],
        strings: bool,
    ) -> dict[str, Any] | None:
        nested = record.get("fields")
        out: dict[str, Any] = {}
        if nested is not None and not strings:
            if not isinstance(nested, dict):
                diags.append(
                    error(
                        "event-not-object",
                        f"`fields` must be a JSON object, found {_kind_of(nested)}",
                        where.span("fields"),
                        context=context,
                    )
                )
                return None
            out.update(nested)
        for key, value in record.items():
            if key in RESERVED or (key == "fields" and not strings):
                continue
            if key in out:
                diags.append(
                    error(
                        "event-duplicate-field",
                        f"field `{key}` is given both in `fields` and at the top level",
                        where.span(key),
                        context=context,
                        suggestion="give each field once",
                    )
                )
                continue
            out[key] = value
        # Absent and empty are the same: null in JSON, an empty cell in CSV.
        return {k: v for k, v in out.items() if v is not None and not (strings and v == "")}

    def _check_fields(
        self,
        etype: EventType,
        given: dict[str, Any],
        where: Where,
        context: str | None,
        diags: list[Diagnostic],
        strings: bool,
    ) -> dict[str, FieldValue]:
        values: dict[str, FieldValue] = {}
        declared = [f.name for f in etype.fields]
        for name in given:
            if etype.field(name) is None:
                guess = did_you_mean(name, [d for d in declared if d not in given])
                diags.append(
                    error(
                        "event-extra-field",
                        f"event type `{etype.name}` has no field `{name}`",
                        where.span(name),
                        context=context,
                        notes=(f"`{etype.name}` is declared as {etype.name}({_signature(etype)})",),
                        suggestion=f"did you mean `{guess}`?" if guess else "remove the field",
                    )
                )
        for decl in etype.fields:
            if decl.name not in given:
                diags.append(
                    error(
                        "event-missing-field",
                        f"event of type `{etype.name}` lacks field `{decl.name}`",
                        where.span(),
                        context=context,
                        notes=(f"`{etype.name}` is declared as {etype.name}({_signature(etype)})",),
                        suggestion=f"add `{decl.name}`: a {decl.type.describe()}",
                    )
                )
                continue
            value = self._value(
                decl.name,
                decl.type.kind,
                decl.type.options,
                given[decl.name],
                where,
                context,
                diags,
                strings,
            )
            if value is not None:
                values[decl.name] = value
        return values

    def _value(
        self,
        name: str,
        kind: FieldKind,
        options: tuple[str, ...],
        raw: Any,
        where: Where,
        context: str | None,
        diags: list[Diagnostic],
        strings: bool,
    ) -> FieldValue | None:
        if kind is FieldKind.NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                number = None
            elif isinstance(raw, str):
                number = _parse_number(raw) if strings else None
            else:
                number = float(raw)
            if number is None or not math.isfinite(number):
                diags.append(
                    error(
                        "event-wrong-type",
                        f"field `{name}` must be a number, found {_kind_of(raw)} `{_show(raw)}`",
                        where.span(name, raw),
                        context=context,
                        suggestion="write a number such as 3 or 2.5, without quotes"
                        if not strings
                        else "write a number such as 3 or 2.5",
                    )
                )
                return None
            return number
        if not isinstance(raw, str):
            diags.append(
                error(
                    "event-wrong-type",
                    f"field `{name}` must be {_expected(kind, options)}, "
                    f"found {_kind_of(raw)} `{_show(raw)}`",
                    where.span(name, raw),
                    context=context,
                    suggestion="write it as a JSON string in quotes",
                )
            )
            return None
        if kind is FieldKind.PARTY and raw not in self.party_set:
            guess = did_you_mean(raw, self.parties)
            diags.append(
                error(
                    "event-unknown-party",
                    f"unknown party `{raw}` in field `{name}`",
                    where.span(name, raw),
                    context=context,
                    notes=(f"the treaty's parties are: {', '.join(sorted(self.parties))}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
            return None
        if kind is FieldKind.TERRITORY and raw not in self.territory_set:
            guess = did_you_mean(raw, self.territories)
            diags.append(
                error(
                    "event-unknown-territory",
                    f"unknown territory `{raw}` in field `{name}`",
                    where.span(name, raw),
                    context=context,
                    notes=(f"the treaty's territories are: {', '.join(sorted(self.territories))}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
            return None
        if kind is FieldKind.ENUM and raw not in options:
            guess = did_you_mean(raw, options)
            diags.append(
                error(
                    "event-unknown-option",
                    f"`{raw}` is not an option of field `{name}`",
                    where.span(name, raw),
                    context=context,
                    notes=(f"`{name}` is one of: {' | '.join(options)}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
            return None
        return raw


def _signature(etype: EventType) -> str:
    return ", ".join(f"{f.name}: {f.type.describe()}" for f in etype.fields)


def _expected(kind: FieldKind, options: tuple[str, ...]) -> str:
    if kind is FieldKind.ENUM:
        return "one of " + " | ".join(options)
    return {"party": "a party code", "territory": "a territory name", "text": "text"}[kind.value]


def _parse_number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None
