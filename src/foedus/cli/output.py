"""What the commands write: diagnostics, progress, JSON, and tables that fit the terminal.

Problems go to standard error as diagnostics (exit 1); results go to standard output.
Text that comes from the inputs (ids, actions, parties) is never read as markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

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

from foedus import Diagnostic, ReadProgress, RunResult, event_format, render_text
from foedus.diagnostics import printable
from foedus.report import (
    clause_counts,
    done_late,
    minutes,
    sorted_decisions,
    sorted_obligations,
    status_counts,
    tally_counts,
    time_left,
)
from foedus.report.jsonl import dumps

__all__ = [
    "dumps",
    "event_sources",
    "fail",
    "print_summary",
    "print_verdicts",
    "reading",
    "stdout_console",
    "warn_skipped",
]

PIPE_WIDTH = 160  # columns for tables written to a file or a pipe
PROGRESS_BYTES = 20 * 2**20  # logs smaller than this are read too fast to need a bar
MAX_SHOWN = 20  # diagnostics printed before a summary line
QUOTED = 1024  # characters of a log line read to quote it
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


# ---------------------------------------------------------------- problems


def fail(diagnostics: Sequence[Diagnostic], sources: dict[str, str], code: int = 1) -> NoReturn:
    """Print ``diagnostics`` (the first twenty) on standard error and exit with ``code``."""
    shown = list(diagnostics)[:MAX_SHOWN]
    typer.echo(render_text(shown, sources), err=True, nl=False)
    if len(diagnostics) > MAX_SHOWN:
        typer.echo(f"... and {len(diagnostics) - MAX_SHOWN} more", err=True)
    errors = sum(1 for d in diagnostics if d.is_error)
    if errors:
        typer.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
    raise typer.Exit(code)


def warn_skipped(path: Path, name: str, diagnostics: Sequence[Diagnostic], read: int,
                 skipped: int | None = None) -> None:
    """Print the diagnostics of skipped records and a warning that counts them (``skipped``
    records, or as many as the diagnostics name)."""
    if not diagnostics:
        return
    shown = list(diagnostics)[:MAX_SHOWN]
    typer.echo(render_text(shown, event_sources(path, name, shown)), err=True, nl=False)
    first = next((d.span for d in diagnostics if d.span is not None), None)
    where = f" (first at {first.file}:{first.line})" if first else ""
    records = skipped or len({(d.span.file, d.span.line) if d.span else id(d)
                              for d in diagnostics})
    typer.echo(f"warning: skipped {records} invalid event record(s){where}; "
               f"{read} valid event(s) read", err=True)


def event_sources(path: Path, name: str, diagnostics: Sequence[Diagnostic]) -> dict[str, str]:
    """The lines of a text log that ``diagnostics`` quote, under the name they use (the
    other lines left empty, so that a large log is not read to quote a few lines)."""
    wanted = {d.span.line for d in diagnostics if d.span is not None and d.span.file == name}
    if event_format(path) not in ("jsonl", "csv") or not wanted:
        return {}
    lines: list[str] = []
    try:
        if not path.is_file():
            return {}  # (a pipe was read once already)
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
            last = max(wanted)
            for number in range(1, last + 1):
                # the start of each line is all a diagnostic quotes: a line is never
                # held whole, however long, and the last one is not read to its end
                head = rest = f.readline(QUOTED)
                if not head:
                    break
                lines.append(head.rstrip("\r\n") if number in wanted else "")
                while number < last and rest and not rest.endswith(("\n", "\r")):
                    rest = f.readline(1 << 16)
    except OSError:
        return {}
    return {name: "\n".join(lines)}


# ---------------------------------------------------------------- progress


class _EventRate(ProgressColumn):
    """Events read per second so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.fields.get("records", 0) / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} events/s", style="progress.data.speed")


@contextmanager
def reading(path: Path, name: str) -> Iterator[Callable[[ReadProgress], None] | None]:
    """A progress bar on stderr while a large log is read: events, rate and time left.

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
        task = bar.add_task(Path(name).name, total=None, records=0)

        def update(step: ReadProgress) -> None:
            bar.update(task, completed=step.done, total=step.total, records=step.records)

        yield update


# ---------------------------------------------------------------- results


def stdout_console() -> Console:
    """The terminal's width on a terminal; a wide page when piped (unless COLUMNS says)."""
    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(soft_wrap=False, width=PIPE_WIDTH)
    return console




def shown(text: str) -> Text:
    """Text from the input (an id, a value, a path) as a table cell or a line: markup is
    not read (``[bold]`` stays as written) and control characters show as escapes."""
    return Text(printable(text))


def shown_block(text: str) -> str:
    """Lines of text that quote the input, for printing: see :func:`shown`."""
    return printable(text, keep="\n")


def write_blocks(blocks: Iterator[str]) -> None:
    """Write blocks of whole lines to stdout as they come."""
    out = sys.stdout
    for block in blocks:
        out.write(block)
    out.flush()


def _when(at: Any) -> str:
    """A time in a table: ``2022-04-04 07:00`` in the result's zone (named in the title)."""
    if at is None:
        return ""
    return minutes(at)


def _state(state: str) -> Text:
    return Text(state, STATE_STYLE.get(state, ""))


def print_verdicts(result: RunResult, console: Console) -> None:
    """The verdicts as a table whose columns fit ``console``'s width.

    Ids, due times and states always show, whole (an id is for copying into ``explain``);
    then, while they fit, the time left, the obligor, the action and the beneficiary.
    """
    obligations = sorted_obligations(result)
    rows: list[dict[str, Text | str]] = []
    for o in obligations:
        state = str(o.state)
        rows.append({
            "id (for explain)": shown(o.id),
            "due": _when(o.due_at),
            "state": _state(state),
            # a violated obligation performed late says how late (the state column stays
            # narrow, so that ids fit a narrow terminal)
            "time": done_late(o) or time_left(o.due_at, result.as_of)
            if state in ("pending", "violated") else "",
            "obligor": shown(o.obligor),
            "action": shown(o.action),
            "for": shown(o.beneficiary or ""),
        })
    columns = _fitting(rows, console.width)
    title = f"Verdicts as of {_when(result.as_of)} (times in {result.zone})"
    table = Table(title=Text(title), title_justify="left")
    for name in columns:
        # a due time and a state never shrink: on a narrow terminal the id folds instead
        whole = name in ("due", "state")
        longest = max((len(str(row[name])) for row in rows), default=0) if whole else 0
        table.add_column(name, no_wrap=True, min_width=max(len(name), longest),
                         overflow="ellipsis" if name == "action" else "fold",
                         max_width=ACTION_WIDTH if name == "action" else None)
    for row in rows:
        table.add_row(*(row[name] for name in columns))
    if obligations:
        console.print(table)
    else:
        console.print("No obligation has arisen.")
    decisions = sorted_decisions(result)
    if decisions:
        dt = Table(title="Decisions", title_justify="left")
        dt.add_column("decision", no_wrap=True)
        dt.add_column("closes", no_wrap=True, min_width=16)
        dt.add_column("state", no_wrap=True, min_width=8)
        for column in ("yes", "no", "abstain", "silent"):
            dt.add_column(column, justify="right", no_wrap=True, min_width=len(column))
        for d in decisions:
            counts = tally_counts(d)
            dt.add_row(shown(d.id), _when(d.closes_at), _state(str(d.state)),
                       *(str(counts[k]) for k in ("yes", "no", "abstain", "silent")))
        console.print(dt)
    for clause, used in sorted(result.permissions.items()):
        if used:
            shown_ids = ", ".join(printable(e) for e in used[:EXTRA_USES])
            more = f" and {len(used) - EXTRA_USES} more" if len(used) > EXTRA_USES else ""
            console.print(Text(f"Permission {clause} used by {shown_ids}{more}."))
    counts_text = ", ".join(f"{n} {k}" for k, n in status_counts(result).items()) or "none"
    status = str(result.treaty_status).replace("_", " ")
    console.print(Text(f"Treaty {result.treaty}: {status}. Obligations: {counts_text}."))


EXTRA_USES = 10  # events listed per permission in the table view; JSON lists them all


ACTION_WIDTH = 40
# the verdict table's columns: always shown, then in the order they are given room
ALWAYS = ("id (for explain)", "due", "state")
WHEN_ROOM = ("time", "obligor", "action", "for")
ORDER = ("id (for explain)", "obligor", "action", "for", "due", "state", "time")


def _fitting(rows: list[dict[str, Text | str]], width: int) -> list[str]:
    """The columns that fit in ``width``, in display order (a rich table's cell takes its
    text and 3 columns of padding and rule, the table one more)."""
    def need(name: str) -> int:
        longest = max((len(str(row[name])) for row in rows), default=0)
        size = max(longest, len(name))
        return (min(size, ACTION_WIDTH) if name == "action" else size) + 3

    chosen = list(ALWAYS)
    used = 1 + sum(need(n) for n in chosen)
    for name in WHEN_ROOM:  # in order of importance: stop at the first that does not fit
        if used + need(name) > width:
            break
        chosen.append(name)
        used += need(name)
    return [name for name in ORDER if name in chosen]


def print_summary(result: RunResult, console: Console) -> None:
    """Counts per clause and state."""
    table = Table(title=Text(f"Verdicts as of {_when(result.as_of)} (times in {result.zone})"),
                  title_justify="left")
    table.add_column("clause", no_wrap=True)
    table.add_column("state", no_wrap=True, min_width=10)
    table.add_column("count", justify="right", no_wrap=True)
    for clause, states in clause_counts(result).items():
        for state, n in states.items():
            table.add_row(shown(clause), _state(state), f"{n:,}")
    console.print(table)
    status = str(result.treaty_status).replace("_", " ")
    console.print(Text(f"Treaty {result.treaty}: {status}."))
