"""`foedus run`, `foedus explain` and `foedus report`: a treaty applied to an event log.

Thin shell: the treaty is checked by ``foedus.check_file``, the log is read and run by
``foedus.run_file_full`` (the same way for all three commands), and ``foedus.report``
renders the result. Every problem with the inputs is rendered as diagnostics (exit 1), never
as a traceback.

The evaluation time ("as of") defaults to the time of the latest event: deadlines that
pass after the last event are not yet counted as violated. Give ``--as-of`` to look later
(or earlier) than that.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from foedus import (
    BatchRun,
    Diagnostic,
    EmptyLogError,
    EventError,
    ReadProgress,
    RunResult,
    Span,
    Treaty,
    check_file,
    event_format,
    render_text,
    run_file_full,
)
from foedus.diagnostics import did_you_mean, error, has_errors
from foedus.report import (
    clause_counts,
    explain_item,
    jsonl_blocks,
    render_html,
    result_to_json,
    short_time,
    sorted_decisions,
    sorted_obligations,
    status_counts,
    tally_counts,
    time_left,
)

PIPE_WIDTH = 160  # columns for tables written to a file or a pipe
PROGRESS_BYTES = 20 * 2**20  # logs smaller than this are read too fast to need a bar
MAX_SHOWN = 20  # diagnostics printed before a summary line


class OutputFormat(StrEnum):
    TEXT = "text"
    TABLE = "table"  # the former name of text
    JSON = "json"
    JSONL = "jsonl"
    SUMMARY = "summary"


def register(app: typer.Typer) -> None:
    """Add ``run``, ``explain`` and ``report`` to the application."""
    app.command("run")(run)
    app.command("explain")(explain)
    app.command("report")(report)


TreatyArg = Annotated[Path, typer.Argument(metavar="TREATY", help="The treaty (.foedus file).")]
EventsArg = Annotated[
    Path, typer.Argument(metavar="EVENTS", help="The event log: .jsonl, .csv, .parquet or .arrow.")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Evaluate as of this ISO 8601 time with a UTC offset. "
        "Default: the time of the latest event.",
    ),
]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Skip invalid events with a warning instead of failing."),
]


# ---------------------------------------------------------------- commands


def run(
    treaty_path: TreatyArg,
    events_path: EventsArg,
    as_of: AsOfOpt = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", help="text (default), json, jsonl (a line per verdict, "
                     "written as read) or summary (counts per clause and state)."),
    ] = OutputFormat.TEXT,
    skip_invalid: SkipOpt = False,
) -> None:
    """Apply a treaty to an event log: who owes what to whom, by when, and in what state.

    The state is as of --as-of, or else as of the latest event's time.
    """
    opened = _Run.open(treaty_path, events_path, as_of, skip_invalid,
                       verdicts=fmt is not OutputFormat.SUMMARY)
    result = opened.result
    if fmt is OutputFormat.JSON:
        typer.echo(_dumps(result_to_json(result), indent=2))
    elif fmt is OutputFormat.JSONL:
        _write_blocks(jsonl_blocks(result))
    elif fmt is OutputFormat.SUMMARY:
        _print_summary(result, _stdout_console())
    else:
        _print_tables(result, _stdout_console())


def explain(
    treaty_path: TreatyArg,
    events_path: EventsArg,
    item: Annotated[
        str, typer.Argument(metavar="ITEM", help="An obligation or decision id, or a clause id.")
    ],
    as_of: AsOfOpt = None,
    skip_invalid: SkipOpt = False,
) -> None:
    """Explain one verdict: its clause, the quoted words, and the events that caused it."""
    opened = _Run.open(treaty_path, events_path, as_of, skip_invalid, keep_events=True)
    typer.echo(opened.explain(item), nl=False)


def report(
    treaty_path: TreatyArg,
    events_path: EventsArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    as_of: AsOfOpt = None,
    skip_invalid: SkipOpt = False,
) -> None:
    """Write one self-contained HTML page: timeline, decisions and every explanation."""
    opened = _Run.open(treaty_path, events_path, as_of, skip_invalid, keep_events=True)
    page = render_html(
        opened.result,
        title=opened.treaty.title,
        events={e.id: e for e in opened.batch.events},
    )
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        _fail([error("unwritable-file", f"cannot write `{output}`: {exc.strerror or exc}")], {})
    typer.echo(f"wrote {output}", err=True)


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
        cls, treaty_path: Path, events_path: Path, as_of_text: str | None, skip_invalid: bool,
        keep_events: bool = False, verdicts: bool = True,
    ) -> _Run:
        treaty = _load_treaty(treaty_path)
        as_of = _parse_as_of(as_of_text) if as_of_text is not None else None
        try:
            with _reading(events_path) as progress:
                batch = run_file_full(treaty, events_path, as_of, skip_invalid,
                                      progress=progress, keep_events=keep_events,
                                      verdicts=verdicts)
        except EmptyLogError as exc:
            _warn_skipped(events_path, exc.skipped, 0)
            _fail(exc.diagnostics, {})
        except EventError as exc:
            _fail(exc.diagnostics, _event_sources(events_path, exc.diagnostics))
        except ValueError as exc:  # an as-of the engine cannot use
            where = Span.point("--as-of", 1, 1, len(as_of_text or ""))
            _fail([error("bad-as-of", str(exc), where,
                         suggestion="a time must lie between 0001-01-02 and 9999-12-30")],
                  {"--as-of": as_of_text or ""})
        _warn_skipped(events_path, batch.diagnostics, batch.count)
        return cls(treaty, batch)

    def explain(self, item: str) -> str:
        result = self.result
        text = explain_item(
            item,
            result,
            self.treaty,
            {e.id: e for e in self.batch.events},
            self.batch.explain,
        )
        if text is not None:
            return text
        candidates = [
            *(o.id for o in result.obligations),
            *(d.id for d in result.decisions),
            *(c.id for c in self.treaty.clauses),
        ]
        guess = did_you_mean(item, candidates)
        some = ", ".join(sorted(candidates)[:8]) or "(none)"
        _fail(
            [
                error(
                    "unknown-item",
                    f"`{item}` is neither an obligation, a decision nor a clause of this run",
                    notes=(f"known items include: {some}",),
                    suggestion=f"did you mean `{guess}`?"
                    if guess
                    else "list the items with `foedus run`",
                )
            ],
            {},
        )


# ---------------------------------------------------------------- inputs


def _fail(diagnostics: Sequence[Diagnostic], sources: dict[str, str]) -> NoReturn:
    shown = list(diagnostics)[:MAX_SHOWN]
    typer.echo(render_text(shown, sources), err=True, nl=False)
    if len(diagnostics) > MAX_SHOWN:
        typer.echo(f"... and {len(diagnostics) - MAX_SHOWN} more", err=True)
    errors = sum(1 for d in diagnostics if d.is_error)
    if errors:
        typer.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
    raise typer.Exit(1)


def _load_treaty(path: Path) -> Treaty:
    checked = check_file(path)
    if checked.treaty is None or has_errors(checked.diagnostics):
        _fail(checked.diagnostics, _with_imports(dict(checked.sources), checked.diagnostics))
    return checked.treaty


def _with_imports(sources: dict[str, str], diagnostics: Sequence[Diagnostic]) -> dict[str, str]:
    """Add the text of imported files that diagnostics point into, for quoting."""
    for d in diagnostics:
        if d.span is not None and d.span.file not in sources:
            try:
                sources[d.span.file] = Path(d.span.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return sources


def _parse_as_of(text: str) -> datetime:
    where = Span.point("--as-of", 1, 1, len(text))
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(
            [
                error(
                    "bad-as-of",
                    f"cannot read time `{text}`",
                    where,
                    suggestion="write an ISO 8601 time with a UTC offset, "
                    "such as 2022-04-01T00:00:00+03:00",
                )
            ],
            {"--as-of": text},
        )
    if at.tzinfo is None or at.utcoffset() is None:
        _fail(
            [
                error(
                    "naive-as-of",
                    f"time `{text}` has no time zone",
                    where,
                    suggestion="add a UTC offset such as +03:00 or Z",
                )
            ],
            {"--as-of": text},
        )
    return at


def _warn_skipped(path: Path, diagnostics: Sequence[Diagnostic], applied: int) -> None:
    """Print the diagnostics of skipped records and a warning that counts them."""
    if not diagnostics:
        return
    shown = list(diagnostics)[:MAX_SHOWN]
    typer.echo(render_text(shown, _event_sources(path, shown)), err=True, nl=False)
    first = next((d.span for d in diagnostics if d.span is not None), None)
    where = f" (first at {first.file}:{first.line})" if first else ""
    typer.echo(
        f"warning: skipped {_count_records(diagnostics)} invalid event record(s){where}; "
        f"{applied} valid event(s) read",
        err=True,
    )


def _count_records(diagnostics: Sequence[Diagnostic]) -> int:
    return len({(d.span.file, d.span.line) if d.span else id(d) for d in diagnostics})


def _event_sources(path: Path, diagnostics: Sequence[Diagnostic]) -> dict[str, str]:
    """The lines of a text log that ``diagnostics`` quote (the others left empty, so that a
    large log is not read into memory to quote a few of its lines)."""
    wanted = {d.span.line for d in diagnostics if d.span is not None}
    if event_format(path) not in ("jsonl", "csv") or not wanted:
        return {}
    last = max(wanted)
    lines: list[str] = []
    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
            for number, line in enumerate(f, start=1):
                lines.append(line.rstrip("\r\n") if number in wanted else "")
                if number >= last:
                    break
    except OSError:
        return {}
    return {str(path): "\n".join(lines)}


class _EventRate(ProgressColumn):
    """Events read per second so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.fields.get("records", 0) / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} events/s", style="progress.data.speed")


@contextmanager
def _reading(path: Path) -> Iterator[Callable[[ReadProgress], None] | None]:
    """A progress bar on stderr while a large log is read: records, rate and time left.

    Only on a terminal, and only for logs large enough to take a while.
    """
    stderr = Console(stderr=True)
    try:
        large = path.stat().st_size > PROGRESS_BYTES
    except OSError:
        large = False
    if not large or not stderr.is_terminal:
        yield None
        return
    columns = (
        TextColumn("reading {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[records]:,} events"),
        _EventRate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(path.name, total=None, records=0)

        def update(step: ReadProgress) -> None:
            bar.update(task, completed=step.done, total=step.total, records=step.records)

        yield update


# ---------------------------------------------------------------- outputs


def _stdout_console() -> Console:
    """The terminal's width on a terminal; a wide page when piped (unless COLUMNS says)."""
    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(soft_wrap=False, width=PIPE_WIDTH)
    return console


def _dumps(data: Any, indent: int | None = None) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=indent)


def _write_blocks(blocks: Iterator[str]) -> None:
    """Write blocks of whole lines to stdout as they come."""
    out = sys.stdout
    for block in blocks:
        out.write(block)
    out.flush()


def _print_summary(result: RunResult, console: Console) -> None:
    table = Table(title=f"Verdicts as of {result.as_of.isoformat()}", title_justify="left")
    for column in ("clause", "state", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for clause, states in clause_counts(result).items():
        for state, n in states.items():
            table.add_row(Text(clause), Text(state, STATE_STYLE.get(state, "")), f"{n:,}")
    console.print(table)
    status = str(result.treaty_status).replace("_", " ")
    console.print(Text(f"Treaty {result.treaty}: {status}."))


STATE_STYLE = {
    "fulfilled": "green",
    "respected": "green",
    "violated": "bold red",
    "pending": "yellow",
    "discharged": "dim",
    "void": "dim",
    "adopted": "green",
    "rejected": "red",
    "open": "yellow",
    "lapsed": "dim",
}


def _print_tables(result: RunResult, console: Console) -> None:
    obligations = sorted_obligations(result)
    table = Table(title=f"Obligations as of {result.as_of.isoformat()}", title_justify="left")
    for column in ("obligor", "action", "beneficiary", "due", "state", "time"):
        table.add_column(column, overflow="fold")
    table.add_column("id (for explain)", no_wrap=True)  # whole, to be copied
    for o in obligations:
        state = str(o.state)
        when = time_left(o.due_at, result.as_of) if state in ("pending", "violated") else ""
        table.add_row(  # Text, not markup: ids and actions come from the inputs
            Text(o.obligor),
            Text(o.action),
            Text(o.beneficiary or ""),
            short_time(o.due_at) if o.due_at else "",
            Text(state, STATE_STYLE.get(state, "")),
            when,
            Text(o.id),
        )
    if obligations:
        console.print(table)
    else:
        console.print("No obligation has arisen.")
    decisions = sorted_decisions(result)
    if decisions:
        dt = Table(title="Decisions", title_justify="left")
        for column in ("decision", "closes", "state", "yes", "no", "abstain", "silent"):
            dt.add_column(column, overflow="fold")
        for d in decisions:
            c = tally_counts(d)
            state = str(d.state)
            dt.add_row(
                Text(d.id),
                short_time(d.closes_at),
                Text(state, STATE_STYLE.get(state, "")),
                *(str(c[k]) for k in ("yes", "no", "abstain", "silent")),
            )
        console.print(dt)
    counts = ", ".join(f"{n} {k}" for k, n in status_counts(result).items()) or "none"
    status = str(result.treaty_status).replace("_", " ")
    console.print(Text(f"Treaty {result.treaty}: {status}. Obligations: {counts}."))
