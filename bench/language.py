"""Benchmark of the language front end on a generated treaty.

Generates a treaty with N clauses of every kind (obligations with guards, prohibitions,
permissions, decisions, conditions, clauses triggered by verdicts), then times each stage:
generate, parse, check (``foedus.language.check.check_module`` on the parsed module,
when the checker is installed) and print. A baseline measured in the same run,
``json.loads`` of a JSON document of the same size, makes figures comparable across
machines.

    .venv/bin/python bench/language.py            # 10,000 clauses
    .venv/bin/python bench/language.py -n 50000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from foedus.language.parser import parse
from foedus.language.printer import print_module

TARGET_SECONDS = 5.0

HEADER = """# Generated for benchmarking the language front end.
treaty bench "Generated treaty"

role guarantor "A state that guarantees", guaranteed

group unsc_permanent = US, GB, FR, CN, RU

party UA "Ukraine" role guaranteed
party US "United States", GB "United Kingdom", FR "France", CN "China", RU "Russia" role guarantor
party DE "Germany", TR "Turkey" role guarantor

territory Ukraine "Ukraine", Crimea within Ukraine, Donbas within Ukraine

event armed_attack(aggressor: party, victim: party, place: territory)
event consultations(by: party actor, with: party, kind: formal | informal)
event assistance(by: party actor, to: party)
event join_alliance(by: party actor, member: party, kind: military | political)
event strike(by: party actor, place: territory)
event request(by: party actor, kind: urgent | routine)
event ballot(by: party actor, decision: text, choice: yes | no)
event ceasefire()
event referendum(result: yes | no)
event report(by: party actor)

calendar ops zone "Europe/Kyiv" workdays mon, tue, wed, thu, fri holidays 2022-01-01, 2022-01-07
"""

GUARD = "attack.aggressor != UA and not (attack.place within Donbas or attack.aggressor == TR)"

TEMPLATES = (
    """clause c{i} "Consultations {i}"
  quote "In case of an attack, consultations should take place within {d} days"
  when armed_attack(victim: UA, place: not within Crimea) as attack if {guard}
  each guarantor except attack.aggressor
    must consultations(with: UA, kind: formal) for UA within {d} days of attack in "Europe/Kyiv"
""",
    """clause c{i} "Neutrality {i}"
  quote "Ukraine will not join any military alliance"
  UA
    must not join_alliance(member: UA, kind: military) from 2022-01-01 until 2030-12-31
""",
    """clause c{i}
  quote "The guarantors decide on assistance by a qualified majority"
  when armed_attack(victim: UA) as attack
  decision by each guarantor except attack.aggressor
    rule 2/3 majority votes ballot within {d} business days of attack calendar ops
""",
    """clause c{i}
  quote "The treaty enters into force after a ceasefire and a referendum"
  treaty in force after ceasefire() then referendum(result: yes)
""",
    """clause c{i} standalone
  quote "A breach obliges the guarantors to assist"
  when violated(c{prev}) as breach
  at least 2 of guarantor except RU
    must assistance(to: UA) by end of day {d} after breach
""",
    """clause c{i}
  quote "Guarantors may hold talks"
  each guarantor
    may consultations(kind: informal) from 2022-03-29 until 2022-04-12
""",
)


def generate(n: int) -> str:
    """A treaty with ``n`` clauses, cycling through the clause templates."""
    parts = [HEADER]
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)]
        parts.append("\n" + template.format(i=i, prev=max(i - 4, 0), d=1 + i % 9, guard=GUARD))
    return "".join(parts)


def baseline_document(n: int) -> str:
    """A JSON document of about the same size as the generated treaty's clauses."""
    clause = {
        "name": "c0",
        "quote": "In case of an attack, consultations should take place within 3 days",
        "trigger": {
            "event": "armed_attack",
            "args": [{"field": "victim", "value": "UA"}, {"field": "place", "op": "not within"}],
            "as": "attack",
        },
        "obligors": {"each": "guarantor", "except": ["attack.aggressor"]},
        "action": {"event": "consultations", "args": [{"field": "with", "value": "UA"}]},
        "deadline": {"within": 3, "unit": "days", "of": "attack", "zone": "Europe/Kyiv"},
    }
    return json.dumps([dict(clause, name=f"c{i}") for i in range(n)], indent=2)


def find_checker() -> Callable[[Any], tuple[Any, list[Any]]] | None:
    """``check_module(module) -> (treaty, diagnostics)`` from the checker, if it exists."""
    try:
        module = importlib.import_module("foedus.language.check")
    except ImportError:
        return None
    return getattr(module, "check_module", None)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("-n", "--clauses", type=int, default=10_000)
    args.add_argument("--profile", action="store_true", help="profile parsing with cProfile")
    opts = args.parse_args(argv)
    n = opts.clauses
    console = Console()

    t_generate, text = timed(lambda: generate(n))
    document = baseline_document(n)
    t_baseline, _ = timed(lambda: json.loads(document))

    if opts.profile:
        profiler = cProfile.Profile()
        profiler.enable()
    t_parse, result = timed(lambda: parse(text, "bench.foedus"))
    if opts.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    if result.diagnostics:
        console.print(f"[red]the generated treaty has {len(result.diagnostics)} syntax errors")
        return 1

    checker = find_checker()
    t_check: float | None = None
    check_errors = 0
    if checker is not None:
        t_check, (treaty, diagnostics) = timed(lambda: checker(result.module))
        check_errors = sum(1 for d in diagnostics if getattr(d, "is_error", False))
        if treaty is None and not check_errors:
            check_errors = 1
    t_print, printed = timed(lambda: print_module(result.module))

    table = Table(title=f"Foedus front end: {n:,} clauses, {len(text) / 1e6:.1f} MB of source")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("clauses/s", justify="right")
    table.add_column("× baseline", justify="right")

    def row(stage: str, seconds: float | None) -> None:
        if seconds is None:
            table.add_row(stage, "n/a", "", "")
            return
        rate = f"{n / seconds:,.0f}" if seconds > 0 else "∞"
        ratio = seconds / t_baseline
        table.add_row(
            stage, f"{seconds:.3f}", rate, f"{ratio:.1f}" if ratio < 10 else f"{ratio:.0f}"
        )

    row("generate", t_generate)
    row("parse", t_parse)
    row("check" if checker else "check (no checker yet)", t_check)
    row("print", t_print)
    table.add_row(
        "baseline: json.loads", f"{t_baseline:.3f}", f"{n / t_baseline:,.0f}", "1",
        style="dim",
    )  # fmt: skip
    console.print(table)

    front = t_parse + (t_check or 0.0)
    verdict = "within" if front <= TARGET_SECONDS else "OVER"
    stages = "parse+check" if checker else "parse (checker not available)"
    console.print(f"{stages}: {front:.2f} s, {verdict} the {TARGET_SECONDS:.0f} s target")
    if check_errors:
        console.print(f"[yellow]the checker reported {check_errors} errors on the generated treaty")
    console.print(f"printed {len(printed) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
