"""Engine throughput and memory on generated event logs, against a baseline and a peer.

Run by hand (``make bench`` or ``.venv/bin/python bench/engine.py [--max-n 10000000]``);
this is not a test. Workloads:

(a) the single bounded-response clause "consult within 72 hours of each attack";
(b) a flagship-like treaty: 9 guarantors, each guarantor except the aggressor must
    consult within 3 days of an attack on UA outside Crimea.

Engine paths: ``Monitor.feed`` one event at a time; JSON Lines read into events by
``load_events`` and applied by the Monitor ("JSONL records"); Parquet read by
``load_columns`` into events for the Monitor ("Parquet events"); and the batch runs of
``run_file``, which read the file in blocks, check it by columns and evaluate the
clauses over columns ("JSONL batch", "Parquet batch"). Every path reads the whole result
(it counts the violations). The same run times a hand-written deque checker on (a) (the
baseline every ratio is against, for both workloads) and reelay's dense-time monitor on
(a) (the peer, DESIGN.md §8). Each measurement runs in a forked child so that its peak
memory (``ru_maxrss`` growth over the child's starting RSS) is its own; the fastest of
``--repeat`` runs is shown, since a shared machine only ever adds time.

Sizes above ``--max-n`` up to ``--batch-max-n`` run only the baseline and the batch paths
(the others hold every event as a Python object).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from foedus import Event, Monitor, check_source, load_events, render_text, run_file_full
from foedus.events import event_to_record

START = datetime(2022, 3, 29, tzinfo=UTC)
GUARANTORS = ("US", "GB", "FR", "CN", "RU", "DE", "TR", "IL", "PL")

SINGLE = """\
treaty bench_single "Bounded response"
party UA "Ukraine", RU "Russia", G "Guarantor"
event attack(aggressor: party actor, victim: party)
event consult(by: party actor, with: party)
event statement(by: party actor)
clause respond "72 hours"
  quote "each attack obliges consultation within 72 h"
  when attack() as a
  G must consult(with: UA) within 72 hours of a
"""

FLAGSHIP = f"""\
treaty bench_flagship "Guarantors consult within 3 days"
role guaranteed, guarantor
party UA "Ukraine" role guaranteed
party {", ".join(GUARANTORS)} role guarantor
territory Ukraine, Crimea within Ukraine
event armed_attack(aggressor: party actor, victim: party, place: territory)
event consultations(by: party actor, with: party)
event statement(by: party actor)
clause consult "3 days"
  quote "In case of an attack, consultations should take place within 3 days"
  when armed_attack(victim: UA, place: not within Crimea) as attack
  each guarantor except attack.aggressor must consultations(with: UA) within 3 days of attack
"""

# ---------------------------------------------------------------- workloads


def gen_single(n: int, seed: int = 1) -> list[Event]:
    """n events about an hour apart: 1% attacks, 1% consultations by G, the rest statements."""
    rng = random.Random(seed)
    out: list[Event] = []
    minutes = 0
    attack = {"aggressor": "RU", "victim": "UA"}
    consult = {"by": "G", "with": "UA"}
    for i in range(n):
        minutes += rng.randint(1, 120)
        at = START + timedelta(minutes=minutes)
        draw = rng.random()
        if draw < 0.01:
            out.append(Event(f"e{i}", at, "attack", attack))
        elif draw < 0.02:
            out.append(Event(f"e{i}", at, "consult", consult))
        else:
            out.append(Event(f"e{i}", at, "statement", {"by": rng.choice(("UA", "RU", "G"))}))
    return out


def gen_flagship(n: int, seed: int = 2) -> list[Event]:
    """n events: 1% attacks on UA (a fifth in Crimea), 10% consultations, the rest statements."""
    rng = random.Random(seed)
    out: list[Event] = []
    minutes = 0
    for i in range(n):
        minutes += rng.randint(1, 240)
        at = START + timedelta(minutes=minutes)
        draw = rng.random()
        if draw < 0.01:
            fields = {
                "aggressor": rng.choice(GUARANTORS),
                "victim": "UA",
                "place": "Crimea" if rng.random() < 0.2 else "Ukraine",
            }
            out.append(Event(f"e{i}", at, "armed_attack", fields))
        elif draw < 0.11:
            out.append(
                Event(f"e{i}", at, "consultations", {"by": rng.choice(GUARANTORS), "with": "UA"})
            )
        else:
            out.append(Event(f"e{i}", at, "statement", {"by": rng.choice(GUARANTORS)}))
    return out


# ---------------------------------------------------------------- engines


def check(text: str) -> Any:
    checked = check_source(text, "bench.foedus")
    if checked.treaty is None:
        raise SystemExit(render_text(checked.diagnostics, checked.sources))
    return checked.treaty


def violations(result: Any) -> int:
    return sum(1 for o in result.obligations if str(o.state) == "violated")


def run_stream(treaty: Any, events: list[Event], path: Path) -> int:
    monitor = Monitor(treaty)
    for event in events:
        monitor.feed(event)
    return violations(monitor.status(events[-1].at))


def run_jsonl(treaty: Any, events: list[Event], path: Path) -> int:
    loaded, _ = load_events(path.with_suffix(".jsonl"), treaty)
    monitor = Monitor(treaty)
    monitor.feed_many(loaded)
    return violations(monitor.status(max(e.at for e in loaded)))


def run_batch_jsonl(treaty: Any, events: list[Event], path: Path) -> int:
    return violations(run_file_full(treaty, path.with_suffix(".jsonl")).result)


def run_batch_parquet(treaty: Any, events: list[Event], path: Path) -> int:
    return violations(run_file_full(treaty, path.with_suffix(".parquet")).result)


def run_parquet(treaty: Any, events: list[Event], path: Path) -> int:
    stream, _ = load_events(path.with_suffix(".parquet"), treaty)
    monitor = Monitor(treaty)
    monitor.feed_many(stream)
    return violations(monitor.status(events[-1].at))


def write_logs(base: Path, events: list[Event]) -> None:
    """The log as JSON Lines and Parquet, written in slices so that 10^7 events fit."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    step = 500_000
    names = sorted({k for e in events[:step] for k in e.fields})
    with open(base.with_suffix(".jsonl"), "w", encoding="utf-8") as f:
        for start in range(0, len(events), step):
            f.writelines(
                json.dumps(event_to_record(e), ensure_ascii=False, sort_keys=True) + "\n"
                for e in events[start : start + step]
            )
    writer = None
    for start in range(0, len(events), step):
        part = events[start : start + step]
        table = pa.table(
            {
                "id": pa.array([e.id for e in part], pa.string()),
                "at": pa.array([e.at for e in part], pa.timestamp("us", tz="UTC")),
                "type": pa.array([e.type for e in part], pa.string()),
                **{n: pa.array([e.fields.get(n) for e in part], pa.string()) for n in names},
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(base.with_suffix(".parquet"), table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()


def run_deque(treaty: Any, events: list[Event], path: Path) -> int:
    """Baseline: pending attack times in a deque; a consultation answers all of them."""
    deadline = timedelta(hours=72)
    pending: deque[datetime] = deque()
    violated = 0
    for event in events:
        at = event.at
        while pending and pending[0] + deadline < at:
            pending.popleft()
            violated += 1
        if event.type == "attack":
            pending.append(at)
        elif event.type == "consult":
            pending.clear()
    end = events[-1].at
    return violated + sum(1 for a in pending if a + deadline < end)


def run_reelay(treaty: Any, events: list[Event], path: Path) -> int:
    """Peer: reelay's dense-time monitor, one update per event, time in hours."""
    import reelay

    monitor = reelay.dense_timed_monitor(
        pattern="once[72:72]{attack} and historically[0:72](not {consult})"
    )
    t0 = events[0].at
    rises = 0
    for event in events:
        hours = (event.at - t0).total_seconds() / 3600
        sample = {
            "time": hours,
            "attack": event.type == "attack",
            "consult": event.type == "consult",
        }
        for out in monitor.update(sample):
            rises += bool(out["value"])
    return rises


# ---------------------------------------------------------------- measuring


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(fn: Callable[..., int], args: tuple[Any, ...], conn: Any) -> None:
    try:
        base = _rss_now()
        t = time.perf_counter()
        found = fn(*args)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        conn.send((seconds, max(peak - base, 0), found, None))
    except Exception as exc:  # reported in the table, not raised: the bench goes on
        conn.send((0.0, 0, 0, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def measure(fn: Callable[..., int], *args: Any) -> tuple[float, int, int, str | None]:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, child))
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(3600) else (0.0, 0, 0, "timed out")
    proc.join()
    return result


def sizes(max_n: int) -> Iterable[int]:
    n = 10_000
    while n <= max_n:
        yield n
        n *= 10


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-n", type=int, default=1_000_000, help="largest log (10^7 is slow)")
    parser.add_argument(
        "--batch-max-n", type=int, default=0,
        help="larger logs, up to this size, for the baseline and the batch paths only",
    )
    parser.add_argument("--min-n", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per cell; the fastest is shown (less noise)"
    )
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 110))
    table = Table(
        title="Foedus engine: (a) one bounded-response clause, (b) 9 guarantors, 3 days",
        caption="x base / x reelay: events/s relative to the deque checker and to reelay, both "
        "timed on (a) in the same run at the same N",
    )
    for col in ("workload", "N", "path", "events/s", "peak MB", "violations", "x base", "x reelay"):
        table.add_column(col, justify="right" if col not in ("workload", "path") else "left")
    workloads = [
        ("(a) single", SINGLE, gen_single, True),
        ("(b) flagship", FLAGSHIP, gen_flagship, False),
    ]
    baselines: dict[int, float] = {}
    peers_at: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, text, gen, peers in workloads:
            treaty = check(text)
            for n in sizes(max(args.max_n, args.batch_max_n)):
                if n < args.min_n:
                    continue
                small = n <= args.max_n
                events = gen(n)
                base = Path(tmp) / f"log{n}"
                write_logs(base, events)
                paths: list[tuple[str, Callable[..., int]]] = []
                if peers:
                    paths += [("deque baseline", run_deque)]
                    if small:
                        paths += [("reelay dense", run_reelay)]
                if small:
                    paths += [
                        ("Monitor.feed", run_stream),
                        ("JSONL records", run_jsonl),
                        ("Parquet events", run_parquet),
                    ]
                paths += [("JSONL batch", run_batch_jsonl), ("Parquet batch", run_batch_parquet)]
                baseline = baselines.get(n)
                peer = peers_at.get(n)
                for name, fn in paths:
                    console.print(f"[dim]{label} N={n:,} {name}...[/]", highlight=False)
                    runs = [measure(fn, treaty, events, base) for _ in range(max(args.repeat, 1))]
                    seconds, peak, found, problem = min(
                        runs, key=lambda r: (r[3] is not None, r[0])
                    )
                    if problem:
                        table.add_row(label, f"{n:,}", name, "-", "-", "-", problem[:60], "")
                        continue
                    rate = n / seconds if seconds else float("inf")
                    if name == "deque baseline":
                        baseline = baselines[n] = rate
                    elif name.startswith("reelay"):
                        peer = peers_at[n] = rate
                    table.add_row(
                        label,
                        f"{n:,}",
                        name,
                        f"{rate:,.0f}",
                        f"{peak / 2**20:,.1f}",
                        f"{found:,}",
                        f"{rate / baseline:.3g}" if baseline else "-",
                        f"{rate / peer:.3g}" if peer else "-",
                    )
                del events
            table.add_section()
    console.print(table)
    console.print(
        "events/s counts reading and checking the file for the JSONL and Parquet paths; "
        "the deque baseline and reelay work on the in-memory events of (a) only; "
        "(b) is compared with them at the same N.",
        style="dim",
    )


if __name__ == "__main__":
    sys.exit(main())
