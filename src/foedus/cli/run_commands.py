"""`foedus run`, `foedus explain` and `foedus report`: a treaty applied to an event log.

Thin shell: the treaty is checked by ``foedus.check_file``, the log is read and run by
``foedus.run_file_full`` (the same way for all three commands), and ``foedus.report``
renders the result. Every problem with the inputs is rendered as diagnostics (exit 1),
never as a traceback; ``run --fail-on`` exits 1 when a verdict is in a given state.

The evaluation time ("as of") defaults to the time of the latest event: deadlines that
pass after the last event are not yet counted as violated. Give ``--as-of`` to look later
(or earlier) than that: a time with an offset, a date (its start in the treaty's zone), or
``now``.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from foedus import (
    RECORD_LIMIT,
    BatchRun,
    EmptyLogError,
    EventError,
    RunResult,
    Span,
    Treaty,
    read_source,
    run_file_full,
)
from foedus.cli.inputs import AsOfError, events_file, is_stdin, parse_as_of, read_treaty
from foedus.cli.output import (
    dumps,
    event_sources,
    fail,
    print_summary,
    print_verdicts,
    reading,
    shown_block,
    stdout_console,
    warn_skipped,
    write_blocks,
)
from foedus.diagnostics import Diagnostic, did_you_mean, error, has_errors
from foedus.report import (
    decision_to_json,
    event_explanation_to_json,
    explain_event,
    explain_item,
    explanation_to_json,
    jsonl_blocks,
    obligation_to_json,
    render_html,
    result_to_json,
)


class RunFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"
    SUMMARY = "summary"


class TextOrJson(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"
    ARROW = "arrow"


class Verdict(StrEnum):
    PENDING = "pending"
    FULFILLED = "fulfilled"
    VIOLATED = "violated"
    DISCHARGED = "discharged"
    RESPECTED = "respected"


def register(app: typer.Typer) -> None:
    """Add ``run``, ``explain`` and ``report`` to the application."""
    app.command("run")(run)
    app.command("explain")(explain)
    app.command("report")(report)


TreatyArg = Annotated[
    Path, typer.Argument(metavar="TREATY", help="The treaty (.foedus file), or - for stdin.")
]
EventsArg = Annotated[
    Path, typer.Argument(metavar="EVENTS", help="The event log (.jsonl, .csv, .parquet or "
                         ".arrow), or - for stdin (JSON Lines unless --events-format says).")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIME",
        help="Evaluate as of TIME: an ISO 8601 time with an offset, a date (its start in "
        "the treaty's zone) or `now`. Default: the time of the latest event.",
    ),
]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Skip invalid events with a warning instead of failing."),
]
EventsFormatOpt = Annotated[
    LogFormat | None,
    typer.Option("--events-format", help="The log's format, when its name does not say "
                 "(standard input is JSON Lines unless this says)."),
]
MaxRecordOpt = Annotated[
    int,
    typer.Option("--max-record", metavar="CHARS", min=1,
                 help="The most characters one record may hold (a line of JSON Lines or "
                 "CSV, a value in a table); a longer one is refused without being read "
                 f"whole. Default: {RECORD_LIMIT:,}."),
]


@dataclass(frozen=True)
class LogOptions:
    """How the log is read: what the commands' log options said."""

    skip_invalid: bool = False
    events_format: LogFormat | None = None
    max_record: int = RECORD_LIMIT

    @property
    def fmt(self) -> str | None:
        return self.events_format.value if self.events_format else None


# ---------------------------------------------------------------- commands


def run(
    treaty_path: TreatyArg,
    events_path: EventsArg,
    as_of: AsOfOpt = None,
    fmt: Annotated[
        RunFormat,
        typer.Option("--format", help="text (default), json, jsonl (a line per verdict, "
                     "written block by block once the log is judged) or summary (counts "
                     "per clause and state)."),
    ] = RunFormat.TEXT,
    fail_on: Annotated[
        list[Verdict] | None,
        typer.Option("--fail-on", help="Exit 1 if any verdict is in this state (repeat for "
                     "more than one), as linters exit on findings."),
    ] = None,
    skip_invalid: SkipOpt = False,
    events_format: EventsFormatOpt = None,
    max_record: MaxRecordOpt = RECORD_LIMIT,
) -> None:
    """Apply a treaty to an event log: who owes what to whom, by when, and in what state.

    Exit codes: 0 done, 1 input errors or a verdict named by --fail-on, 2 usage.
    """
    log = LogOptions(skip_invalid, events_format, max_record)
    opened = _Run.open(treaty_path, events_path, as_of, log,
                       verdicts=fmt is not RunFormat.SUMMARY)
    result = opened.result
    if fmt is RunFormat.JSON:
        typer.echo(dumps(result_to_json(result), indent=2))
    elif fmt is RunFormat.JSONL:
        write_blocks(jsonl_blocks(result))
    elif fmt is RunFormat.SUMMARY:
        print_summary(result, stdout_console())
    else:
        print_verdicts(result, stdout_console())
    if fail_on:
        wanted = {v.value for v in fail_on}
        found: dict[str, int] = {}
        for states in result.counts().values():
            for state, n in states.items():
                if state in wanted:
                    found[state] = found.get(state, 0) + n
        if found:
            typer.echo("failing: " + ", ".join(f"{n:,} {s}" for s, n in sorted(found.items())),
                       err=True)
            raise typer.Exit(1)


def explain(
    treaty_path: TreatyArg,
    events_path: EventsArg,
    item: Annotated[
        str, typer.Argument(metavar="ITEM", help="An obligation or decision id, a clause id, "
                            "or the id of an event of the log. An id that names both a "
                            "verdict or clause and an event is taken as the verdict or clause.")
    ],
    as_of: AsOfOpt = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="text (default) or json.")]
    = TextOrJson.TEXT,
    skip_invalid: SkipOpt = False,
    events_format: EventsFormatOpt = None,
    max_record: MaxRecordOpt = RECORD_LIMIT,
) -> None:
    """Explain one verdict (its clause, the quoted words, the events that caused it), a
    clause, or one event: what it triggered, fulfilled, violated, used, advanced or voted,
    and for each clause that names its type but took nothing from it, why not."""
    log = LogOptions(skip_invalid, events_format, max_record)
    opened = _Run.open(treaty_path, events_path, as_of, log, keep_events=True)
    if fmt is TextOrJson.JSON:
        typer.echo(dumps(opened.explain_json(item), indent=2))
    else:
        typer.echo(shown_block(opened.explain(item)), nl=False)


def report(
    treaty_path: TreatyArg,
    events_path: EventsArg,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The HTML file to write, or - for stdout.")
    ] = Path("report.html"),
    as_of: AsOfOpt = None,
    skip_invalid: SkipOpt = False,
    events_format: EventsFormatOpt = None,
    max_record: MaxRecordOpt = RECORD_LIMIT,
) -> None:
    """Write one self-contained HTML page: timeline, decisions and every explanation."""
    log = LogOptions(skip_invalid, events_format, max_record)
    opened = _Run.open(treaty_path, events_path, as_of, log, keep_events=True)
    page = render_html(opened.result, title=opened.treaty.title,
                       events={e.id: e for e in opened.batch.events})
    if is_stdin(output):
        sys.stdout.write(page)
        return
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        fail([error("unwritable-file", f"cannot write `{output}`: {exc.strerror or exc}")], {})
    typer.echo(shown_block(f"wrote {output}"), err=True)


# ---------------------------------------------------------------- one run


@dataclass
class _Run:
    """One treaty applied to one log: what ``run``, ``explain`` and ``report`` all start from."""

    treaty: Treaty
    batch: BatchRun

    @property
    def result(self) -> RunResult:
        return self.batch.result

    @classmethod
    def open(
        cls,
        treaty_path: Path,
        events_path: Path,
        as_of_text: str | None,
        log: LogOptions,
        keep_events: bool = False,
        verdicts: bool = True,
    ) -> _Run:
        if is_stdin(treaty_path) and is_stdin(events_path):
            fail([error("two-stdins", "the treaty and the log cannot both be read from -",
                        suggestion="name one of them as a file")], {}, code=2)
        treaty = _load_treaty(treaty_path)
        as_of = None
        if as_of_text is not None:
            try:
                as_of = parse_as_of(as_of_text, treaty.zone)
            except AsOfError as exc:
                fail([exc.diagnostic], {"--as-of": as_of_text})
        name = "<stdin>" if is_stdin(events_path) else str(events_path)
        with ExitStack() as stack:
            path = stack.enter_context(events_file(events_path, log.fmt))
            batch = cls._batch(treaty, path, name, as_of, as_of_text, log, keep_events,
                               verdicts)
            warn_skipped(path, name, batch.diagnostics, batch.count, batch.skipped)
        return cls(treaty, batch)

    @staticmethod
    def _batch(treaty: Treaty, path: Path, name: str, as_of: Any, as_of_text: str | None,
               log: LogOptions, keep_events: bool, verdicts: bool) -> BatchRun:
        try:
            with reading(path, name) as progress:
                return run_file_full(treaty, path, as_of, log.skip_invalid, progress=progress,
                                     keep_events=keep_events, verdicts=verdicts,
                                     fmt=log.fmt, name=name, limit=log.max_record)
        except EmptyLogError as exc:
            warn_skipped(path, name, exc.skipped, 0)
            fail(exc.diagnostics, {})
        except EventError as exc:
            fail(exc.diagnostics, event_sources(path, name, exc.diagnostics))
        except ValueError as exc:  # an as-of the engine cannot use
            where = Span.point("--as-of", 1, 1, len(as_of_text or ""))
            fail([error("bad-as-of", str(exc), where,
                        suggestion="a time must lie between 0001-01-02 and 9999-12-30")],
                 {"--as-of": as_of_text or ""})

    def explain(self, item: str) -> str:
        result = self.result
        text = explain_item(item, result, self.treaty, {e.id: e for e in self.batch.events},
                            self.batch.explain)
        if text is None:
            found = self.batch.explain_event(item)
            if found is None:
                self._unknown(item)
            text = explain_event(found, result.as_of, {e.id: e for e in self.batch.events})
        return text

    def explain_json(self, item: str) -> dict[str, Any]:
        """The item as JSON: the verdict or decision with its explanation, or the clause's."""
        result = self.result
        for o in result.obligations:
            if o.id == item:
                return {"record": "obligation", **obligation_to_json(o)}
        for d in result.decisions:
            if d.id == item:
                return {"record": "decision", **decision_to_json(d)}
        explained = self.batch.explain(item)
        if explained is None:
            found = self.batch.explain_event(item)
            if found is None:
                self._unknown(item)
            return event_explanation_to_json(found, result.as_of)
        return {"record": "clause", "clause": item,
                "explanation": explanation_to_json(explained)}

    def _unknown(self, item: str) -> NoReturn:
        result = self.result
        candidates = [*(o.id for o in result.obligations), *(d.id for d in result.decisions),
                      *(c.id for c in self.treaty.clauses), *(e.id for e in self.batch.events)]
        guess = did_you_mean(item, candidates)
        some = ", ".join(sorted(candidates)[:8]) or "(none)"
        fail([error(
            "unknown-item",
            f"`{item}` is neither an obligation, a decision, a clause nor an event of this run",
            notes=(f"known items include: {some}",),
            suggestion=f"did you mean `{guess}`?" if guess else "list the items with `foedus run`",
        )], {})


def _load_treaty(path: Path) -> Treaty:
    checked = read_treaty(path)
    if checked.treaty is None or has_errors(checked.diagnostics):
        fail(checked.diagnostics, _with_imports(dict(checked.sources), checked.diagnostics))
    return checked.treaty


def _with_imports(sources: dict[str, str], diagnostics: list[Diagnostic]) -> dict[str, str]:
    """Add the text of imported files that diagnostics point into, for quoting."""
    for d in diagnostics:
        if d.span is not None and d.span.file not in sources:
            try:
                data = read_source(Path(d.span.file), streams=False)
            except OSError:
                continue
            sources[d.span.file] = data.decode("utf-8", "replace")
    return sources
