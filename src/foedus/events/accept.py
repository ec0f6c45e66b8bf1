"""The acceptance rule: when a raw record is an event of a treaty, and why not.

Stage: after ``language.check`` (the treaty's event declarations); every reader of this
package hands each record to :meth:`Acceptor.accept`, and the vectorised checker
(``events.tables``) hands it the rows it does not vouch for, so every format gets the same verdict
and the same messages. A record is a JSON object or a row of cells as a dict; the result
is an :class:`~foedus.events.model.Event`, or diagnostics that name the file, the line and
the field, with a hint.

Each check is written once, its common (valid) case first: a valid record costs a few
type tests and set lookups, and diagnostics are only built for what fails.

>>> from foedus.language import model as m
>>> victim = m.FieldDecl("victim", m.FieldType(m.FieldKind.PARTY))
>>> parties = (m.Party("UA", "Ukraine", ()), m.Party("GB", "United Kingdom", ()))
>>> treaty = m.Treaty("t", "", parties, (), (), (),
...                   (m.EventType("attack", (victim,), None),), (), ())
>>> acceptor = Acceptor(treaty)
>>> rec = {"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "attack", "victim": "UA"}
>>> acceptor.accept(rec, Where("log.jsonl", 1))[0].fields
{'victim': 'UA'}
>>> _, problems = acceptor.accept({**rec, "id": "e2", "victim": "UK"}, Where("log.jsonl", 2))
>>> problems[0].code, problems[0].suggestion
('event-unknown-party', 'did you mean `GB`?')
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from foedus.diagnostics import Diagnostic, did_you_mean, error, printable
from foedus.events.model import FIRST_INSTANT, LAST_INSTANT, Event, FieldValue
from foedus.events.where import Where
from foedus.language.model import EventType, FieldKind, Treaty

__all__ = ["RECORD_LIMIT", "RESERVED", "TIME_HINT", "Acceptor", "kind_of"]

RESERVED = ("id", "at", "type")
NESTED = frozenset({*RESERVED, "fields"})  # the keys of a record with nested fields
TIME_HINT = "write an ISO 8601 time with a UTC offset, such as 2022-03-29T10:00:00+03:00"
RANGE_HINT = "a time must lie between 0001-01-02 and 9999-12-30 in UTC"
_BEYOND_YEARS = re.compile(r"\s*([+-]?[0-9]{5,}|0000)-")  # a year no datetime holds
NUMBER, TEXT = FieldKind.NUMBER, FieldKind.TEXT
EXTRA_SHOWN = 5  # undeclared fields of one record named one by one
RECORD_LIMIT = 1 << 20
"""The most characters a record may hold: a line of JSON Lines or CSV, or one value of a
table (an id, a text field). Text logs are read a line at a time within it, so a log
cannot make a reader hold more than this of any one record; ``--max-record`` raises it."""

# What the values of a field of a declared set are called, in an unknown value's note.
_LISTINGS = {
    FieldKind.PARTY: "parties",
    FieldKind.STATE: "parties and other states",
    FieldKind.TERRITORY: "territories",
}

# One field of a declared type: name, kind, the allowed values (None: any text).
FieldSpec = tuple[str, FieldKind, frozenset[str] | None]


def kind_of(value: Any) -> str:
    """What a JSON value is, in words: ``text``, ``a number``, ``null``..."""
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
    if isinstance(value, bytes | bytearray):
        return "binary data"
    return type(value).__name__


def _show(value: Any) -> str:
    """A value from the log as a message quotes it: control characters as escapes."""
    if isinstance(value, str):
        return printable(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


class Acceptor:
    """Accepts the records of one log against a treaty's event declarations.

    It remembers the ids it accepted (with ``exact_ids``), so one acceptor reads one log.
    ``cells`` records
    (CSV rows and table rows) hold text where JSON holds numbers: a number field may then
    be numeric text, and an empty cell means the field is absent.
    """

    def __init__(self, treaty: Treaty, *, exact_ids: bool = True,
                 limit: int = RECORD_LIMIT) -> None:
        self.treaty = treaty
        self.limit = limit
        # Without exact ids, a repeated id is not looked for here: a reader that holds too
        # many ids for a dictionary checks them all at the end, and reads the log again
        # with exact ids when one repeats, for the messages (see ``events.read``).
        self.exact_ids = exact_ids
        self.types: dict[str, EventType] = {e.name: e for e in treaty.events}
        self.parties = tuple(p.code for p in treaty.parties)
        self.states = treaty.state_codes()  # a state field: a party or another state
        self.territories = tuple(t.name for t in treaty.territories)
        sets = {FieldKind.PARTY: frozenset(self.parties), FieldKind.STATE: frozenset(self.states),
                FieldKind.TERRITORY: frozenset(self.territories)}
        self.specs: dict[str, tuple[FieldSpec, ...]] = {
            e.name: tuple(
                (
                    f.name,
                    f.type.kind,
                    frozenset(f.type.options) if f.type.kind is FieldKind.ENUM
                    else sets.get(f.type.kind),
                )
                for f in e.fields
            )
            for e in treaty.events
        }
        self.names = {e.name: frozenset(f.name for f in e.fields) for e in treaty.events}
        self.seen: dict[str, int] = {}  # event id -> line of its first occurrence
        kinds: dict[str, set[bool]] = {}
        for e in treaty.events:
            for f in e.fields:
                kinds.setdefault(f.name, set()).add(f.type.kind is NUMBER)
        # a field name that is a number in one event type and text in another
        self.mixed = any(len(k) > 1 for k in kinds.values())

    def allowed(self, kind: FieldKind, options: tuple[str, ...] = ()) -> tuple[str, ...] | None:
        """The values a field of ``kind`` may take, or None when any text (or number) goes."""
        if kind is FieldKind.PARTY:
            return self.parties
        if kind is FieldKind.STATE:
            return self.states
        if kind is FieldKind.TERRITORY:
            return self.territories
        if kind is FieldKind.ENUM:
            return options
        return None

    # ------------------------------------------------------------ the rule

    def accept(
        self, record: Any, where: Where, *, cells: bool = False
    ) -> tuple[Event | None, list[Diagnostic]]:
        """The event of ``record``, or None and every problem that keeps it from being one."""
        if type(record) is not dict:
            return None, [error(
                "event-not-object",
                f"each record must be a JSON object, found {kind_of(record)}",
                where.span(),
                suggestion='write one object per line: {"id": ..., "at": ..., "type": ...}',
            )]
        problems: list[Diagnostic] = []
        event_id = self._id(record.get("id"), where, problems)
        context = f"event {event_id}" if event_id else None
        at = self._time(record.get("at"), where, context, problems)
        given = self._given(record, where, context, problems, cells)
        raw_type = record.get("type")
        type_name = raw_type if type(raw_type) is str else ""
        spec = self.specs.get(type_name)
        if spec is None:
            self._bad_type(raw_type, where, context, problems)
        values: dict[str, FieldValue] = {}
        if spec is not None and given is not None:
            values = self._fields(type_name, spec, given, where, context, problems, cells)
        if event_id is not None and self.exact_ids:
            first = self.seen.get(event_id)
            if first is not None:
                problems.append(error(
                    "event-duplicate-id",
                    f"event id `{event_id}` is used twice",
                    where.span("id", event_id),
                    context=context,
                    notes=(f"first used at {where.file}:{first}",),
                    suggestion="every event needs its own id",
                ))
            elif not problems:
                self.seen[event_id] = where.line
        if problems or event_id is None or at is None or spec is None:
            return None, problems
        return Event(event_id, at, type_name, values, f"{where.file}:{where.line}"), problems

    # ------------------------------------------------------------ parts

    def _id(self, raw: Any, where: Where, problems: list[Diagnostic]) -> str | None:
        if type(raw) is str and raw and not raw.isspace():
            if len(raw) > self.limit:
                problems.append(_too_long("id", raw, self.limit, where, None))
            elif raw.isascii() or _unicode(raw):
                return raw
            else:
                problems.append(_bad_text("id", raw, where, None))
            return None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return str(raw) if isinstance(raw, int) else _show(raw)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            problems.append(error(
                "event-empty-id",
                "event has no id" if raw is None else "event has an empty id",
                where.span("id", raw),
                suggestion="give every event a unique, non-empty `id`",
            ))
        else:
            problems.append(error(
                "event-wrong-type",
                f"`id` must be text, found {kind_of(raw)}",
                where.span("id", raw),
            ))
        return None

    def _time(
        self, raw: Any, where: Where, context: str | None, problems: list[Diagnostic]
    ) -> datetime | None:
        parsed: datetime | None = None
        problem: Diagnostic | None = None
        if type(raw) is str and raw:
            try:
                parsed = datetime.fromisoformat(raw.strip())
            except ValueError:
                beyond = _BEYOND_YEARS.match(raw) is not None
                problem = error(
                    "event-bad-time",
                    f"time `{raw}` is out of range" if beyond else f"cannot read time `{raw}`",
                    where.span("at", raw), context=context,
                    suggestion=RANGE_HINT if beyond else TIME_HINT)
        elif isinstance(raw, datetime):
            parsed = raw
        elif raw is None or raw == "":
            problem = error("event-missing-key", "event has no time `at`", where.span("at"),
                            context=context, suggestion=TIME_HINT)
        else:
            problem = error("event-bad-time", f"time `at` must be text, found {kind_of(raw)}",
                            where.span("at", raw), context=context, suggestion=TIME_HINT)
        if parsed is not None and parsed.tzinfo is not None and parsed.utcoffset() is not None \
                and not FIRST_INSTANT <= parsed <= LAST_INSTANT:
            problem = error(
                "event-bad-time",
                f"time `{_show(raw) if not isinstance(raw, datetime) else raw.isoformat()}` "
                "is out of range",
                where.span("at", raw if isinstance(raw, str) else None),
                context=context,
                suggestion=RANGE_HINT,
            )
        if parsed is not None and (parsed.tzinfo is None or parsed.utcoffset() is None):
            shown = raw.isoformat() if isinstance(raw, datetime) else _show(raw)
            problem = error(
                "event-naive-time",
                f"time `{shown}` has no time zone",
                where.span("at", raw if isinstance(raw, str) else None),
                context=context,
                suggestion="add a UTC offset such as +03:00 or Z",
            )
        if problem is not None:
            problems.append(problem)
            return None
        return parsed

    def _given(
        self,
        record: dict[str, Any],
        where: Where,
        context: str | None,
        problems: list[Diagnostic],
        cells: bool,
    ) -> dict[str, Any] | None:
        """The record's field values, nested under ``fields`` or beside the reserved keys.

        Absent and empty are the same: null or empty text in JSON, an empty cell in cells
        (a cell cannot tell them apart, so no format does).
        """
        nested = None if cells else record.get("fields")
        if (type(nested) is dict and record.keys() == NESTED and None not in nested.values()
                and "" not in nested.values()):
            return nested  # nested fields only, none null: the common case, as it is
        out: dict[str, Any] = {}
        if nested is not None:
            if type(nested) is not dict:
                problems.append(error(
                    "event-not-object",
                    f"`fields` must be a JSON object, found {kind_of(nested)}",
                    where.span("fields"),
                    context=context,
                ))
                return None
            out.update(nested)
        for key, value in record.items():
            if key in RESERVED or (key == "fields" and not cells):
                continue
            if key in out:
                problems.append(error(
                    "event-duplicate-field",
                    f"field `{key}` is given both in `fields` and at the top level",
                    where.span(key),
                    context=context,
                    suggestion="give each field once",
                ))
                continue
            out[key] = value
        return {k: v for k, v in out.items() if v is not None and v != ""}

    def _bad_type(
        self, raw: Any, where: Where, context: str | None, problems: list[Diagnostic]
    ) -> None:
        if raw is None or raw == "":
            problems.append(error(
                "event-missing-key",
                "event has no `type`",
                where.span("type"),
                context=context,
                suggestion="name one of the declared event types: " + self._type_list(),
            ))
            return
        guess = did_you_mean(raw, self.types) if isinstance(raw, str) else None
        problems.append(error(
            "event-unknown-type",
            f"unknown event type `{_show(raw)}`",
            where.span("type", raw),
            context=context,
            notes=(f"the treaty declares: {self._type_list()}",),
            suggestion=f"did you mean `{guess}`?" if guess else None,
        ))

    def _type_list(self) -> str:
        return ", ".join(sorted(self.types)) or "(none)"

    def _fields(
        self,
        type_name: str,
        spec: tuple[FieldSpec, ...],
        given: dict[str, Any],
        where: Where,
        context: str | None,
        problems: list[Diagnostic],
        cells: bool,
    ) -> dict[str, FieldValue]:
        """Every declared field present, of its kind and in its set; no other field."""
        if given.keys() != self.names[type_name]:
            self._extra_fields(type_name, given, where, context, problems)
        values: dict[str, FieldValue] = {}
        for name, kind, allowed in spec:
            raw = given.get(name)
            if raw is None:
                etype = self.types[type_name]
                decl = etype.field(name)
                assert decl is not None
                problems.append(error(
                    "event-missing-field",
                    f"event of type `{type_name}` lacks field `{name}`",
                    where.span(),
                    context=context,
                    notes=(f"`{type_name}` is declared as {type_name}({_signature(etype)})",),
                    suggestion=f"add `{name}`: a {decl.type.describe()}",
                ))
                continue
            if kind is NUMBER:
                number = _number(raw, cells)
                if number is None:
                    found = kind_of(raw)
                    if found == "a number":
                        found = "a number past the range of numbers (about ±1.8e308)"
                    problems.append(error(
                        "event-wrong-type",
                        f"field `{name}` must be a number, found {found} `{_show(raw)}`",
                        where.span(name, raw),
                        context=context,
                        suggestion="write a number such as 3 or 2.5"
                        + ("" if cells else ", without quotes"),
                    ))
                else:
                    values[name] = number
            elif type(raw) is str and ((allowed is not None and raw in allowed)
                                       or (allowed is None and len(raw) <= self.limit
                                           and (raw.isascii() or _unicode(raw)))):
                values[name] = raw
            elif type(raw) is str and allowed is None and len(raw) > self.limit:
                problems.append(_too_long(f"field `{name}`", raw, self.limit, where, context,
                                          name))
            elif type(raw) is str and allowed is None:
                problems.append(_bad_text(f"field `{name}`", raw, where, context, name))
            else:
                problems.append(self._bad_value(type_name, name, kind, raw, where, context))
        return values

    def _extra_fields(
        self,
        type_name: str,
        given: dict[str, Any],
        where: Where,
        context: str | None,
        problems: list[Diagnostic],
    ) -> None:
        etype = self.types[type_name]
        declared = self.names[type_name]
        extra = [name for name in given if name not in declared]
        unused = [f.name for f in etype.fields if f.name not in given]
        for name in extra[:EXTRA_SHOWN]:
            guess = did_you_mean(name, unused)
            problems.append(error(
                "event-extra-field",
                f"event type `{type_name}` has no field `{name}`",
                where.span(name),
                context=context,
                notes=(f"`{type_name}` is declared as {type_name}({_signature(etype)})",),
                suggestion=f"did you mean `{guess}`?" if guess else "remove the field",
            ))
        if len(extra) > EXTRA_SHOWN:
            problems.append(error(
                "event-extra-field",
                f"event type `{type_name}` has no field of {len(extra) - EXTRA_SHOWN:,} "
                "more names given",
                where.span(),
                context=context,
                suggestion="give only the declared fields",
            ))

    def _bad_value(
        self,
        type_name: str,
        name: str,
        kind: FieldKind,
        raw: Any,
        where: Where,
        context: str | None,
    ) -> Diagnostic:
        """The problem with a text-kind value that is not text or not in its set."""
        decl = self.types[type_name].field(name)
        assert decl is not None
        options = decl.type.options
        if type(raw) is not str:
            return error(
                "event-wrong-type",
                f"field `{name}` must be {_expected(kind, options)}, "
                f"found {kind_of(raw)} `{_show(raw)}`",
                where.span(name, raw),
                context=context,
                suggestion="write it as a JSON string in quotes",
            )
        allowed = self.allowed(kind, options) or ()
        guess = did_you_mean(raw, allowed)
        if kind in _LISTINGS:
            not_party = kind is FieldKind.PARTY and raw in self.states
            return error(
                f"event-unknown-{kind}",
                f"`{raw}` in field `{name}` is a state that is not a party" if not_party
                else f"unknown {kind} `{raw}` in field `{name}`",
                where.span(name, raw),
                context=context,
                notes=(f"the treaty's {_LISTINGS[kind]} are: {', '.join(sorted(allowed))}",),
                suggestion=f"did you mean `{guess}`?" if guess else None,
            )
        return error(
            "event-unknown-option",
            f"`{raw}` is not an option of field `{name}`",
            where.span(name, raw),
            context=context,
            notes=(f"`{name}` is one of: {' | '.join(options)}",),
            suggestion=f"did you mean `{guess}`?" if guess else None,
        )


def _unicode(text: str) -> bool:
    """Whether ``text`` is valid Unicode: no lone surrogate (what invalid UTF-8 reads as)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_text(what: str, raw: str, where: Where, context: str | None,
              key: str = "id") -> Diagnostic:
    shown = raw.encode("utf-8", "backslashreplace").decode("utf-8")
    return error(
        "event-bad-text",
        f"{what} `{shown}` is not valid Unicode text",
        where.span(key),
        context=context,
        suggestion="write valid UTF-8; a lone surrogate such as \\ud800 is not a character",
    )


def _too_long(what: str, raw: str, limit: int, where: Where, context: str | None,
              key: str = "id") -> Diagnostic:
    return error(
        "event-too-large",
        f"{what} holds {len(raw):,} characters; the limit is {limit:,}",
        where.span(key),
        context=context,
        suggestion="raise the limit with --max-record if records this large are meant",
    )


def _number(raw: Any, cells: bool) -> float | None:
    """A finite number from a JSON number, or (in cells) from its text; None otherwise."""
    if type(raw) is float or type(raw) is int:
        try:
            number = float(raw)
        except OverflowError:  # an integer too large for a float
            return None
    elif cells and type(raw) is str:
        try:
            number = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _signature(etype: EventType) -> str:
    return ", ".join(f"{f.name}: {f.type.describe()}" for f in etype.fields)


def _expected(kind: FieldKind, options: tuple[str, ...]) -> str:
    if kind is FieldKind.ENUM:
        return "one of " + " | ".join(options)
    return {"party": "a party code", "state": "a state code", "territory": "a territory name",
            "text": "text"}[kind.value]
