"""Engine throughput and memory: Foedus against a hand-written monitor, reelay and DuckDB.

Run by hand (``make bench`` or ``.venv/bin/python bench/engine.py [--workloads c,d]``);
this is not a test.

Workloads (fixed seeds; events 1 to 120 minutes apart (240 for (b)), strictly increasing
times, ids ``e0``, ``e1``, ...):

(a) sparse, one clause: "G must consult(with: UA) within 72 hours" of each attack; 1%
    attacks, 1% consultations, 98% statements that concern no clause;
(b) sparse, flagship shape: each of 9 guarantors except the aggressor must consult UA
    within 3 days of an attack on UA outside Crimea; 1% attacks, 10% consultations;
(c) dense, one clause: the treaty of (a) on 30% attacks and 70% consultations by G with
    UA, so that every event opens or settles obligations;
(d) dense, flagship shape: the treaty of (b) on 5% attacks on UA (a fifth in Crimea) and
    95% consultations by a random guarantor with UA.

Contenders, each given the same input (the same ``Event`` list in memory, or the same
Parquet / JSON Lines file) and each computing the state of every obligation instance as of
the last event's time, as counts of fulfilled / violated / pending:

baseline     a monitor written by hand for the treaty's shape (handlers keyed by event
             type, a deadline heap, integer seconds, no Foedus code). Every "x base" ratio
             is against it, on the same workload at the same N in the same run.
reelay       reelay's dense-time monitor, on (a) and (c) only; it yields violations only,
             so only those are compared. Its signals are piecewise constant, so an attack
             right after an attack gets a sample just before it that ends the first one
             (else two violations would rise as one).
Monitor.feed ``Monitor(treaty)``, ``feed`` per event, ``status(last time)``, and the state
             of every verdict read.
foedus run   the command line as a subprocess, ``foedus run T.foedus LOG --format jsonl``
             with stdout to a file, on the Parquet and on the JSON Lines log; the whole
             process is timed (interpreter start-up and imports included), and its
             verdict lines are counted afterwards.
DuckDB       on (c) and (d): the clause written by hand in SQL (an ``ASOF LEFT JOIN`` of
             each obligation to its obligor's next consultation) over the Parquet log,
             writing the very JSON lines ``foedus run`` writes for verdicts; timed from
             connect to the file written. Its lines must equal Foedus's, as a multiset.

Every contender's counts must equal the baseline's (reelay: violations); a disagreement,
or DuckDB lines that differ from Foedus's, is shown in red and makes the script exit 1.

Measuring: in-process contenders run in a forked child, so that their peak memory is
their own: "peak MB" is the growth of ``ru_maxrss`` over the child's RSS at the start.
Subprocesses are started through a small launcher (``posix_spawn`` then ``wait4``), since
a child spawned straight from this large process would report this process's RSS as its
own peak; their "peak MB" is the whole process's peak RSS. The fastest of ``--repeat``
runs is shown, since a shared machine only ever adds time.
"""

from __future__ import annotations

import argparse
import heapq
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from foedus import Event, Monitor, check_source, render_text, run_file_full
from foedus.events import event_to_record
from foedus.report.jsonl import jsonl_lines

START = datetime(2022, 3, 29, tzinfo=UTC)
GUARANTORS = ("US", "GB", "FR", "CN", "RU", "DE", "TR", "IL", "PL")
STATES = ("fulfilled", "violated", "pending")

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

Counts = dict[str, int]

# ---------------------------------------------------------------- workloads


def gen_single(n: int, seed: int = 1) -> list[Event]:
    """(a): 1% attacks, 1% consultations by G with UA, the rest statements."""
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
    """(b): 1% attacks on UA (a fifth in Crimea), 10% consultations, the rest statements."""
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


def gen_single_dense(n: int, seed: int = 3) -> list[Event]:
    """(c): 30% attacks, 70% consultations by G with UA; every event is relevant."""
    rng = random.Random(seed)
    out: list[Event] = []
    minutes = 0
    attack = {"aggressor": "RU", "victim": "UA"}
    consult = {"by": "G", "with": "UA"}
    for i in range(n):
        minutes += rng.randint(1, 120)
        at = START + timedelta(minutes=minutes)
        if rng.random() < 0.3:
            out.append(Event(f"e{i}", at, "attack", attack))
        else:
            out.append(Event(f"e{i}", at, "consult", consult))
    return out


def gen_flagship_dense(n: int, seed: int = 4) -> list[Event]:
    """(d): 5% attacks on UA (a fifth in Crimea), 95% consultations by a guarantor with UA."""
    rng = random.Random(seed)
    out: list[Event] = []
    minutes = 0
    for i in range(n):
        minutes += rng.randint(1, 120)
        at = START + timedelta(minutes=minutes)
        if rng.random() < 0.05:
            fields = {
                "aggressor": rng.choice(GUARANTORS),
                "victim": "UA",
                "place": "Crimea" if rng.random() < 0.2 else "Ukraine",
            }
            out.append(Event(f"e{i}", at, "armed_attack", fields))
        else:
            fields = {"by": rng.choice(GUARANTORS), "with": "UA"}
            out.append(Event(f"e{i}", at, "consultations", fields))
    return out


def write_logs(base: Path, events: list[Event]) -> None:
    """The log as JSON Lines and Parquet, written in slices so that 10^7 events fit."""
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


# ---------------------------------------------------------------- baseline


class SingleBaseline:
    """(a), (c) by hand: each attack opens one obligation of G, due 72 h later (inclusive);
    a consultation by G with UA fulfils every open one."""

    WINDOW = 72 * 3600

    def __init__(self) -> None:
        self.due: list[int] = []  # heap of the open obligations' due times
        self.fulfilled = self.violated = 0
        self.handlers = {"attack": self.attack, "consult": self.consult}

    def attack(self, event: Event, t: int) -> None:
        heapq.heappush(self.due, t + self.WINDOW)

    def consult(self, event: Event, t: int) -> None:
        fields = event.fields
        if fields.get("by") == "G" and fields.get("with") == "UA":
            self.fulfilled += len(self.due)
            self.due.clear()

    def expire(self, now: int) -> None:
        """Violate what is due strictly before ``now``."""
        due = self.due
        while due and due[0] < now:
            heapq.heappop(due)
            self.violated += 1

    def run(self, events: list[Event]) -> Counts:
        handlers = self.handlers
        t = 0
        for event in events:
            t = int(event.at.timestamp())
            self.expire(t)
            handler = handlers.get(event.type)
            if handler is not None:
                handler(event, t)
        self.expire(t)
        return {"fulfilled": self.fulfilled, "violated": self.violated, "pending": len(self.due)}


class FlagshipBaseline:
    """(b), (d) by hand: each attack on UA outside Crimea opens one obligation per guarantor
    but the aggressor, due 3 days later (inclusive); a consultation by a guarantor with UA
    fulfils all of that guarantor's open ones."""

    WINDOW = 3 * 86400

    def __init__(self) -> None:
        self.due: list[tuple[int, int, str]] = []  # heap of (due, obligation, obligor)
        self.open: dict[str, set[int]] = {g: set() for g in GUARANTORS}
        self.count = 0
        self.fulfilled = self.violated = 0
        self.handlers = {"armed_attack": self.attack, "consultations": self.consult}

    def attack(self, event: Event, t: int) -> None:
        fields = event.fields
        if fields.get("victim") != "UA" or fields.get("place") == "Crimea":
            return
        aggressor = fields.get("aggressor")
        due = t + self.WINDOW
        for g in GUARANTORS:
            if g != aggressor:
                self.count += 1
                self.open[g].add(self.count)
                heapq.heappush(self.due, (due, self.count, g))

    def consult(self, event: Event, t: int) -> None:
        fields = event.fields
        mine = self.open.get(fields.get("by"))  # type: ignore[arg-type]
        if mine and fields.get("with") == "UA":
            self.fulfilled += len(mine)
            mine.clear()

    def expire(self, now: int) -> None:
        """Violate what is still open and due strictly before ``now``."""
        due = self.due
        while due and due[0][0] < now:
            _, number, g = heapq.heappop(due)
            mine = self.open[g]
            if number in mine:
                mine.remove(number)
                self.violated += 1

    def run(self, events: list[Event]) -> Counts:
        handlers = self.handlers
        t = 0
        for event in events:
            t = int(event.at.timestamp())
            self.expire(t)
            handler = handlers.get(event.type)
            if handler is not None:
                handler(event, t)
        self.expire(t)
        pending = sum(len(s) for s in self.open.values())
        return {"fulfilled": self.fulfilled, "violated": self.violated, "pending": pending}


def run_baseline_single(treaty: Any, events: list[Event]) -> Counts:
    return SingleBaseline().run(events)


def run_baseline_flagship(treaty: Any, events: list[Event]) -> Counts:
    return FlagshipBaseline().run(events)


# ---------------------------------------------------------------- reelay, Monitor.feed


def run_reelay(treaty: Any, events: list[Event]) -> Counts:
    """reelay's dense-time monitor of (a)'s clause, one update per event, time in hours.

    Its signals are piecewise constant: ``attack`` holds from an attack to the next event,
    so two attacks in a row would make one interval, hence one violation for two obligations.
    Before an attack that follows an attack, a sample a moment earlier ends the first one.
    """
    import reelay

    monitor = reelay.dense_timed_monitor(
        pattern="once[72:72]{attack} and historically[0:72](not {consult})"
    )
    t0 = events[0].at
    rises = 0
    before = False  # the monitor's last output value
    attacked = False  # the previous event was an attack
    for event in events:
        hours = (event.at - t0).total_seconds() / 3600
        attack = event.type == "attack"
        sample = {"time": hours, "attack": attack, "consult": event.type == "consult"}
        samples: tuple[dict[str, Any], ...] = (sample,)
        if attack and attacked:
            samples = ({"time": hours - 1e-6, "attack": False, "consult": False}, sample)
        attacked = attack
        for sample in samples:
            for out in monitor.update(sample):
                value = bool(out["value"])
                rises += value and not before
                before = value
    return {"violated": rises}


def run_monitor(treaty: Any, events: list[Event]) -> Counts:
    monitor = Monitor(treaty)
    for event in events:
        monitor.feed(event)
    result = monitor.status(events[-1].at)
    counts: Counts = dict.fromkeys(STATES, 0)
    for o in result.obligations:
        state = str(o.state)
        counts[state] = counts.get(state, 0) + 1
    return counts


# ---------------------------------------------------------------- DuckDB

# A verdict line of ``foedus run --format jsonl``: keys sorted, ", " and ": " separators,
# times in UTC with a Z, null for what is absent.
VERDICT_LINE = """\
'{"action": ' || js(action) || ', "action_fields": ' || action_fields
|| ', "beneficiary": ' || js(beneficiary)
|| ', "clause": ' || js(clause) || ', "due_at": ' || jt(due_at) || ', "id": ' || js(id)
|| ', "kind": "obligation", "late_by": ' || jd(performed_at - due_at)
|| ', "obligor": ' || js(obligor) || ', "performed_at": ' || jt(performed_at)
|| ', "performed_by": ' || js(performed_by) || ', "record": "obligation"'
|| ', "settled_at": ' || jt(settled_at) || ', "settled_by": ' || js(settled_by)
|| ', "state": ' || js(state) || ', "trigger_event": ' || js(trigger_event)
|| ', "triggered_at": ' || jt(triggered_at) || '}'"""

MACROS = """\
SET TimeZone = 'UTC';
CREATE MACRO js(v) AS coalesce(to_json(v)::VARCHAR, 'null');
CREATE MACRO jt(v) AS coalesce('"' || strftime(v, '%Y-%m-%dT%H:%M:%SZ') || '"', 'null');
CREATE MACRO js_span(s) AS 'PT' || CASE WHEN s >= 3600 THEN (s // 3600)::VARCHAR || 'H' ELSE '' END
    || CASE WHEN s % 3600 >= 60 THEN (s % 3600 // 60)::VARCHAR || 'M' ELSE '' END
    || CASE WHEN s % 60 > 0 THEN (s % 60)::VARCHAR || 'S' ELSE '' END;
CREATE MACRO jd(v) AS CASE WHEN v IS NULL THEN 'null'
    ELSE '"' || js_span(epoch(v)::BIGINT) || '"' END;
"""

# Obligations and candidate actions per treaty shape. Times in the generated logs strictly
# increase, so "after the trigger in (at, id) order" is ``act.at > trigger.at``.
SQL_SINGLE = """\
obligations AS (
    SELECT id AS trigger_event, "at" AS triggered_at, 'G' AS obligor,
           "at" + INTERVAL 72 HOUR AS due_at
    FROM log WHERE type = 'attack'),
acts AS (
    SELECT id, "at", "by" AS obligor FROM log
    WHERE type = 'consult' AND "by" = 'G' AND "with" = 'UA')"""

SQL_FLAGSHIP = f"""\
obligations AS (
    SELECT a.id AS trigger_event, a."at" AS triggered_at, g.obligor,
           a."at" + INTERVAL 3 DAY AS due_at
    FROM log a CROSS JOIN (VALUES {", ".join(f"('{g}')" for g in GUARANTORS)}) g(obligor)
    WHERE a.type = 'armed_attack' AND a.victim = 'UA' AND a.place <> 'Crimea'
      AND g.obligor <> a.aggressor),
acts AS (
    SELECT id, "at", "by" AS obligor FROM log
    WHERE type = 'consultations' AND "with" = 'UA')"""


def verdict_sql(shape: str, log: Path, out: Path) -> str:
    """The COPY statement that writes every verdict line of ``shape``'s clause to ``out``."""
    clause, action, fields, rules = {
        "single": ("respond", "consult(with: UA)",
                   '{"event": "consult", "fields": {"with": "UA"}}', SQL_SINGLE),
        "flagship": ("consult", "consultations(with: UA)",
                     '{"event": "consultations", "fields": {"with": "UA"}}', SQL_FLAGSHIP),
    }[shape]
    return f"""\
COPY (
WITH log AS (SELECT * FROM read_parquet('{log}')),
{rules},
first_act AS (
    SELECT o.*, act.id AS act_id, act."at" AS act_at
    FROM obligations o ASOF LEFT JOIN acts act
      ON act.obligor = o.obligor AND act."at" > o.triggered_at),
late_act AS (
    SELECT f.*, late.id AS late_id, late."at" AS late_at
    FROM first_act f ASOF LEFT JOIN acts late
      ON late.obligor = f.obligor AND late."at" > f.due_at),
verdicts AS (
    SELECT *, CASE WHEN act_at <= due_at THEN 'fulfilled'
                   WHEN due_at < (SELECT max("at") FROM log) THEN 'violated'
                   ELSE 'pending' END AS state
    FROM late_act)
SELECT {VERDICT_LINE} FROM (
    SELECT '{clause}/' || trigger_event || '/' || obligor AS id, '{clause}' AS clause,
           obligor, '{action}' AS action, '{fields}' AS action_fields,
           'UA' AS beneficiary, trigger_event,
           triggered_at, due_at, state,
           CASE state WHEN 'fulfilled' THEN act_at WHEN 'violated' THEN due_at END
               AS settled_at,
           CASE state WHEN 'fulfilled' THEN act_id END AS settled_by,
           CASE state WHEN 'violated' THEN late_at END AS performed_at,
           CASE state WHEN 'violated' THEN late_id END AS performed_by
    FROM verdicts)
) TO '{out}' (FORMAT CSV, HEADER false, QUOTE '', ESCAPE '')"""


def run_duckdb(shape: str, log: Path, out: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute(MACROS)
        con.execute(verdict_sql(shape, log, out))
    finally:
        con.close()


# ---------------------------------------------------------------- measuring


@dataclass
class Run:
    seconds: float
    peak: int  # bytes
    counts: Counts
    problem: str | None = None


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(fn: Callable[..., Any], args: tuple[Any, ...], conn: Any) -> None:
    try:
        base = _rss_now()
        t = time.perf_counter()
        found = fn(*args)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        conn.send(Run(seconds, max(peak - base, 0), found or {}))
    except Exception as exc:  # reported in the table, not raised: the bench goes on
        conn.send(Run(0.0, 0, {}, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def measure(fn: Callable[..., Any], *args: Any) -> Run:
    """Run ``fn(*args)`` in a forked child: its time, its RSS growth, what it returned."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, child))
    proc.start()
    child.close()
    run = parent.recv() if parent.poll(3600) else Run(0.0, 0, {}, "timed out")
    proc.join()
    return run


# Spawns a command with stdout and stderr to files and reports its time and peak RSS. Run
# as a small process of its own: a child spawned from this (large) process would inherit
# this process's peak RSS, which ``exec`` carries over into the child's ru_maxrss.
LAUNCHER = """\
import json, os, sys, time
out, err, *cmd = sys.argv[1:]
mode = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
acts = [(os.POSIX_SPAWN_OPEN, 1, out, mode, 0o644), (os.POSIX_SPAWN_OPEN, 2, err, mode, 0o644)]
t = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=acts)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t
print(json.dumps([seconds, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)]))
"""


def spawn(cmd: list[str], out: Path) -> tuple[float, int, str | None]:
    """Run ``cmd`` with stdout to ``out``: seconds, peak RSS in bytes, and an error if any."""
    err = out.with_suffix(".err")
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, str(out), str(err), *cmd],
        capture_output=True, text=True, check=True,
    )
    seconds, peak, code = json.loads(done.stdout)
    if code != 0:
        first = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return seconds, peak, f"exit {code}: {first[-1] if first else ''}"
    return seconds, peak, None


def foedus_cli() -> str:
    path = Path(sys.executable).parent / "foedus"
    return str(path) if path.exists() else (shutil.which("foedus") or "foedus")


def verdict_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The verdict lines of a ``--format jsonl`` output, with their parsed records."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("record") == "obligation":
                yield line.rstrip("\n"), record


def count_states(path: Path) -> Counts:
    counts: Counts = dict.fromkeys(STATES, 0)
    for _, record in verdict_lines(path):
        counts[record["state"]] = counts.get(record["state"], 0) + 1
    return counts


def measure_cli(treaty_file: Path, log: Path) -> Run:
    out = log.with_name(f"{log.name}.out")
    seconds, peak, problem = spawn(
        [foedus_cli(), "run", str(treaty_file), str(log), "--format", "jsonl"], out
    )
    return Run(seconds, peak, {} if problem else count_states(out), problem)


def measure_duckdb(shape: str, log: Path) -> Run:
    out = log.with_name(f"{log.name}.duckdb.out")
    run = measure(run_duckdb, shape, log, out)
    if run.problem is None:
        run.counts = count_states(out)
    return run


def fastest(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: (r.problem is not None, r.seconds))


# ---------------------------------------------------------------- checks


def foedus_lines(treaty: Any, log: Path) -> list[str]:
    """Foedus's verdict lines for ``log``: those ``foedus run`` wrote, or else the same
    lines built in process (``--skip-cli``)."""
    out = log.with_name(f"{log.name}.out")
    if out.exists():
        return [line for line, _ in verdict_lines(out)]
    result = run_file_full(treaty, log).result
    return [line for line in jsonl_lines(result) if '"record": "obligation"' in line]


def compare_lines(ours: list[str], theirs: list[str]) -> str | None:
    """None if the two multisets of lines are equal, else what differs."""
    a, b = Counter(ours), Counter(theirs)
    if a == b:
        return None
    only_ours, only_theirs = a - b, b - a
    example = next(iter(only_ours or only_theirs))
    return (
        f"{sum(only_ours.values())} DuckDB line(s) not in Foedus's and "
        f"{sum(only_theirs.values())} Foedus line(s) not in DuckDB's "
        f"({len(ours)} vs {len(theirs)} lines); e.g. {example}"
    )


def agrees(counts: Counts, base: Counts, violations_only: bool) -> bool:
    if violations_only:
        return counts.get("violated") == base.get("violated")
    others = [state for state, n in counts.items() if n and state not in STATES]
    return not others and all(counts.get(s, 0) == base.get(s, 0) for s in STATES)


def show_counts(counts: Counts, violations_only: bool) -> str:
    if violations_only:
        return f"- / {counts.get('violated', 0):,} / -"
    text = " / ".join(f"{counts.get(s, 0):,}" for s in STATES)
    other = {k: v for k, v in counts.items() if k not in STATES and v}
    return text + (f" +{other}" if other else "")


# ---------------------------------------------------------------- the run


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    text: str
    gen: Callable[[int], list[Event]]
    shape: str  # "single" or "flagship"
    dense: bool


WORKLOADS = {
    w.key: w
    for w in (
        Workload("a", "(a) sparse single", SINGLE, gen_single, "single", False),
        Workload("b", "(b) sparse flagship", FLAGSHIP, gen_flagship, "flagship", False),
        Workload("c", "(c) dense single", SINGLE, gen_single_dense, "single", True),
        Workload("d", "(d) dense flagship", FLAGSHIP, gen_flagship_dense, "flagship", True),
    )
}


def check(text: str) -> Any:
    checked = check_source(text, "bench.foedus")
    if checked.treaty is None:
        raise SystemExit(render_text(checked.diagnostics, checked.sources))
    return checked.treaty


def sizes(min_n: int, max_n: int) -> Iterator[int]:
    n = min_n
    while n <= max_n:
        yield n
        n *= 10


class Bench:
    """Runs the contenders and fills one table per N."""

    def __init__(self, args: argparse.Namespace, console: Console, tmp: Path) -> None:
        self.args = args
        self.console = console
        self.tmp = tmp
        self.failures: list[str] = []
        self.notes: list[str] = []

    def repeat(self, make: Callable[[], Run]) -> Run:
        return fastest([make() for _ in range(max(self.args.repeat, 1))])

    def contenders(self, w: Workload, treaty: Any, events: list[Event], log: Path,
                   treaty_file: Path) -> Iterator[tuple[str, Callable[[], Run], bool]]:
        """(name, how to measure it once, compared on violations only)."""
        base = run_baseline_single if w.shape == "single" else run_baseline_flagship
        yield "baseline (by hand)", lambda: measure(base, treaty, events), False
        if w.shape == "single":
            yield "reelay dense-time", lambda: measure(run_reelay, treaty, events), True
        yield "Monitor.feed", lambda: measure(run_monitor, treaty, events), False
        if not self.args.skip_cli:
            for suffix in (".parquet", ".jsonl"):
                path = log.with_suffix(suffix)
                yield f"foedus run {suffix}", lambda p=path: measure_cli(treaty_file, p), False
        if w.dense:
            parquet = log.with_suffix(".parquet")
            yield "DuckDB ASOF JOIN", lambda: measure_duckdb(w.shape, parquet), False

    def workload(self, table: Table, w: Workload, n: int) -> None:
        treaty = check(w.text)
        treaty_file = self.tmp / f"{w.key}.foedus"
        treaty_file.write_text(w.text, encoding="utf-8")
        events = w.gen(n)
        log = self.tmp / f"{w.key}{n}"
        write_logs(log, events)
        base: Run | None = None
        for name, once, violations_only in self.contenders(w, treaty, events, log, treaty_file):
            self.console.print(f"[dim]{w.label} N={n:,} {name}...[/]", highlight=False)
            run = self.repeat(once)
            if base is None:
                base = run
            self.add_row(table, w, n, name, run, base, violations_only)
            if name.startswith("DuckDB") and run.problem is None:
                self.check_lines(table, w, n, treaty, log)
        del events
        table.add_section()

    def add_row(self, table: Table, w: Workload, n: int, name: str, run: Run, base: Run,
                violations_only: bool) -> None:
        if run.problem:
            self.failures.append(f"{w.label} N={n:,} {name}: {run.problem}")
            table.add_row(w.label, f"{n:,}", name, "-", "-", run.problem[:70], "-", style="red")
            return
        ok = base.problem is None and agrees(run.counts, base.counts, violations_only)
        if not ok:
            self.failures.append(
                f"{w.label} N={n:,} {name}: {show_counts(run.counts, violations_only)} "
                f"but the baseline says {show_counts(base.counts, violations_only)}"
            )
        rate = n / run.seconds if run.seconds else float("inf")
        base_rate = n / base.seconds if base.seconds and base.problem is None else None
        table.add_row(
            w.label,
            f"{n:,}",
            name,
            f"{rate:,.0f}",
            f"{run.peak / 2**20:,.1f}",
            show_counts(run.counts, violations_only),
            f"{rate / base_rate:.3g}" if base_rate else "-",
            style=None if ok else "bold red",
        )

    def check_lines(self, table: Table, w: Workload, n: int, treaty: Any, log: Path) -> None:
        parquet = log.with_suffix(".parquet")
        ours = [line for line, _ in verdict_lines(parquet.with_name(f"{parquet.name}.duckdb.out"))]
        diff = compare_lines(ours, foedus_lines(treaty, parquet))
        if diff is None:
            self.notes.append(f"{w.label} N={n:,}: DuckDB's {len(ours):,} lines = Foedus's")
            return
        self.failures.append(f"{w.label} N={n:,} DuckDB lines differ: {diff}")
        table.add_row(w.label, f"{n:,}", "DuckDB lines vs Foedus", "-", "-", diff[:70], "-",
                      style="bold red")

    def cli_floor(self) -> str:
        """The command line's fixed cost: ``foedus run`` on a one-event log."""
        events = gen_single(1)
        log = self.tmp / "floor"
        write_logs(log, events)
        treaty_file = self.tmp / "floor.foedus"
        treaty_file.write_text(SINGLE, encoding="utf-8")
        run = self.repeat(lambda: measure_cli(treaty_file, log.with_suffix(".parquet")))
        return f"foedus run on a one-event log: {run.seconds:.2f} s, {run.peak / 2**20:.0f} MB"


def new_table(n: int) -> Table:
    table = Table(
        title=f"Foedus engine, N = {n:,} events",
        caption="events/s: N / the fastest run's seconds; x base: events/s over the "
        "hand-written baseline's on the same workload and N. peak MB: RSS growth of the "
        "forked child for in-process contenders (baseline, reelay, Monitor.feed, DuckDB), "
        "the whole process's peak RSS for foedus run. verdicts: fulfilled / violated / "
        "pending as of the last event (reelay: violations only).",
    )
    for col in ("workload", "N", "contender", "events/s", "peak MB", "verdicts", "x base"):
        left = col in ("workload", "contender", "verdicts")
        table.add_column(col, justify="left" if left else "right")
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--max-n", type=int, default=1_000_000, help="largest log")
    parser.add_argument("--min-n", type=int, default=10_000, help="smallest log (then x10)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per cell; the fastest is shown (less noise)"
    )
    parser.add_argument(
        "--workloads", default="a,b,c,d", help="which workloads, e.g. c,d (default: all)"
    )
    parser.add_argument(
        "--skip-cli", action="store_true", help="leave out the foedus run subprocesses"
    )
    args = parser.parse_args(argv)
    keys = [k.strip().lower() for k in args.workloads.split(",") if k.strip()]
    unknown = [k for k in keys if k not in WORKLOADS]
    if unknown or not keys:
        parser.error(f"--workloads: choose among {', '.join(WORKLOADS)} (got {args.workloads})")
    args.workloads = keys
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=max(Console().width, 130))
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(args, console, Path(tmp))
        floor = None if args.skip_cli else bench.cli_floor()
        for n in sizes(args.min_n, args.max_n):
            table = new_table(n)
            for key in args.workloads:
                bench.workload(table, WORKLOADS[key], n)
            console.print(table)
    for note in ([floor] if floor else []) + bench.notes:
        console.print(note, style="dim", highlight=False)
    if bench.failures:
        console.print("Disagreements:", style="bold red")
        for failure in bench.failures:
            console.print(f"  {failure}", style="red", highlight=False, markup=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
