"""Fuzz the `foedus` command: many hostile inputs, and a table of how it kept its promise.

The promise (docs/cli.md): every input gets a diagnostic and exit code 1 (2 for usage
errors, 0 when all is well); never a traceback, a crash by signal, a hang, unbounded
memory, or the input's terminal escapes written raw. Cases are made and run by
``tests/fuzz/harness.py``: each in a forked child of this process (which has imported the
command), with an address-space limit and a timeout; every ``--exec-every``-th case also
through the real executable. Run by hand (``make fuzz``); this is not a test.

    .venv/bin/python bench/fuzz.py --cases 100000 --seed 1 --jobs 2 --out fuzz-out
    .venv/bin/python bench/fuzz.py --case 1234 --seed 1       # one case, shown in full
    .venv/bin/python bench/fuzz.py --replay fuzz-out/traceback-0123456789

The table has a row per family of cases (the command, and for ``run`` the log's format;
``special``: FIFOs, devices, folders, missing paths, odd names, standard input, odd
arguments) and a column per class of failure; "max RSS" includes the memory the forked
child shares with this process (about 60 MiB). Below it, each distinct failure: how often,
and the folder of its first reproducer (input files and ``case.json``; the command runs in
that folder). Exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))

from harness import (
    FAILURES,
    FAMILIES,
    Campaign,
    Case,
    Limits,
    MiB,
    Outcome,
    Runner,
    make_case,
    seeds_in,
    shell_line,
)

COLUMNS = {"traceback": "tracebacks", "crash": "crashes", "hang": "hangs",
           "wrong-exit": "wrong exits", "memory": "memory", "escape": "escapes"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="how many cases")
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed")
    parser.add_argument("--jobs", type=int, default=2, help="children at once (at most 2 "
                        "on a shared machine)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"),
                        help="folder for reproducers and summary.json")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--memory", type=int, default=2048, help="address space limit, MiB")
    parser.add_argument("--max-rss", type=int, default=1024,
                        help="resident memory above this (MiB) is a failure")
    parser.add_argument("--exec-every", type=int, default=200,
                        help="run every Nth case through the real executable too (0: never)")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help="comma-separated families to make cases of")
    parser.add_argument("--case", type=int, help="run only this case and show it in full")
    parser.add_argument("--replay", type=Path, help="run a saved reproducer folder again")
    parser.add_argument("--exec", action="store_true",
                        help="with --case or --replay: through the real executable")
    return parser.parse_args(argv)


def show_one(case: Case, outcome: Outcome, console: Console) -> None:
    console.print(f"[bold]{shell_line(case)}[/]", markup=True, highlight=False)
    if case.note:
        console.print(f"made by: {case.note}", markup=False, highlight=False)
    console.print(outcome.describe(), markup=False, highlight=False)
    for name, data in (("stdout", outcome.stdout), ("stderr", outcome.stderr)):
        text = data[-6000:].decode("utf-8", "backslashreplace")
        console.rule(name)
        console.out(_visible(text) if text else "(empty)", highlight=False)


def _visible(text: str) -> str:
    """The text with control characters other than newline and tab shown as escapes."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]",
                  lambda m: ascii(m.group())[1:-1], text)


def table_of(campaign: Campaign, seconds: float) -> Table:
    table = Table(title=f"foedus under fuzzing: {campaign.done:,} cases, seed {campaign.seed},"
                  f" {seconds:.0f} s ({campaign.done / max(seconds, 1e-9):.1f} cases/s)")
    table.add_column("family")
    table.add_column("cases", justify="right")
    for kind in FAILURES:
        table.add_column(COLUMNS[kind], justify="right")
    table.add_column("max RSS (MiB)", justify="right")
    totals = {kind: 0 for kind in FAILURES}
    for family, row in campaign.rows.items():
        cells = []
        for kind in FAILURES:
            n = row.failures[kind]
            totals[kind] += n
            cells.append(f"[red]{n}[/]" if n else "0")
        table.add_row(family, f"{row.cases:,}", *cells, f"{row.max_rss / MiB:,.0f}")
    table.add_section()
    peak = max((r.max_rss for r in campaign.rows.values()), default=0)
    table.add_row("all", f"{campaign.done:,}", *(str(totals[k]) for k in FAILURES),
                  f"{peak / MiB:,.0f}")
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 132)
    limits = Limits(timeout=args.timeout, memory=args.memory * MiB, max_rss=args.max_rss * MiB)
    families = tuple(f for f in args.families.split(",") if f)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        console.print(f"unknown families: {', '.join(sorted(unknown))}", markup=False)
        return 2
    with tempfile.TemporaryDirectory(prefix="foedus-fuzz-") as tmp:
        work = Path(tmp)
        runner = Runner(work / "jobs", limits)
        how = "exec" if args.exec else "fork"
        if args.replay is not None:
            case = Case.load(args.replay)
            outcome = runner.run(case, how)
            show_one(case, outcome, console)
            return 0 if outcome.ok else 1
        seeds = seeds_in(work)
        if args.case is not None:
            case = make_case(seeds, args.case, args.seed, families)
            outcome = runner.run(case, how)
            show_one(case, outcome, console)
            if not outcome.ok:
                args.out.mkdir(parents=True, exist_ok=True)
                folder = args.out / f"case-{args.seed}-{args.case}"
                case.save(folder, {"class": outcome.kind, "signature": outcome.signature})
                console.print(f"saved {folder}", markup=False)
            return 0 if outcome.ok else 1
        args.out.mkdir(parents=True, exist_ok=True)
        campaign = Campaign(seeds, runner, args.out, seed=args.seed, jobs=max(1, args.jobs),
                            exec_every=args.exec_every, families=families)
        started = time.monotonic()
        progress = Progress(TextColumn("[progress.description]{task.description}"),
                            BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.fields[rate]:.1f}/s  failures {task.fields[bad]}"),
                            console=console, auto_refresh=False, transient=True)
        last = 0.0
        with progress:
            task = progress.add_task("fuzzing", total=args.cases, rate=0.0, bad=0)

            def tick(case: Case, outcome: Outcome) -> None:
                nonlocal last
                now = time.monotonic()
                if now - last < 0.5 and campaign.done < args.cases:
                    return
                last = now
                rate = campaign.done / max(now - started, 1e-9)
                progress.update(task, completed=campaign.done, rate=rate, bad=campaign.failed)
                progress.refresh()

            campaign.run(range(args.start, args.start + args.cases), tick)
        seconds = time.monotonic() - started
        summary = campaign.summary()
        summary["seconds"] = round(seconds, 1)
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n",
                                               encoding="utf-8")
    console.print(table_of(campaign, seconds))
    e2e = campaign.e2e
    if e2e["runs"]:
        console.print(f"through the real executable: {e2e['runs']} runs, {e2e['ok']} ok",
                      markup=False)
    if not campaign.failures:
        console.print("[green]no failures[/]")
        return 0
    console.print(f"\n[bold]{len(campaign.failures)} distinct failures[/] "
                  f"(reproducers under {args.out}):")
    for f in sorted(campaign.failures.values(), key=lambda f: (-f.count, f.signature)):
        seen = ", ".join(sorted(f.families))
        if f.runners["exec"]:
            seen += f"; {f.runners['exec']} through the real executable"
        console.print(f"{f.count:6,d}  {f.signature}", markup=False, soft_wrap=True)
        console.print(f"        {f.reproducer}  ({seen}; cases "
                      f"{', '.join(map(str, f.indices[:5]))})", markup=False, style="dim",
                      soft_wrap=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
