"""`foedus check` and `foedus describe`: is the treaty well formed, and what does it say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import foedus
from foedus.diagnostics import error


def _expand(paths: list[Path]) -> tuple[list[Path], list[foedus.Diagnostic]]:
    """Files to check: each file given, and the ``*.foedus`` files under each folder given."""
    out: list[Path] = []
    problems: list[foedus.Diagnostic] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue
        found = sorted(f for f in p.rglob("*.foedus") if f.is_file())
        if not found:
            problems.append(
                error(
                    "no-sources",
                    f"the folder `{p}` holds no .foedus files",
                    None,
                    context=str(p),
                    suggestion="name a treaty file, or a folder that contains some",
                )
            )
        out.extend(found)
    return out, problems


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        files: Annotated[list[Path], typer.Argument(help="Treaty files or folders of them.")],
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the checked model (or the errors) as JSON.")
        ] = False,
    ) -> None:
        """Check treaties: report every mistake with its place, or confirm they are sound."""
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        out = Console(highlight=False, soft_wrap=True)
        paths, problems = _expand(files)
        failed = bool(problems)
        if problems and not as_json:
            err.out(foedus.render_text(problems, {}), end="")
        documents = []
        for path in paths:
            result = foedus.check_file(path)
            failed |= not result.ok
            if as_json:
                documents.append(
                    {
                        "file": str(path),
                        "ok": result.ok,
                        "treaty": foedus.to_json(result.treaty) if result.treaty else None,
                        "diagnostics": [d.to_json() for d in result.diagnostics],
                    }
                )
                continue
            if result.diagnostics:
                err.out(foedus.render_text(result.diagnostics, result.sources), end="")
            if result.treaty is not None:
                t = result.treaty
                out.print(
                    f"[green]ok[/green] {path}: treaty {t.name} — {len(t.parties)} parties, "
                    f"{len(t.clauses)} clauses"
                )
            else:
                errors = sum(1 for d in result.diagnostics if d.is_error)
                err.print(f"[red]{path}: {errors} error{'s' if errors != 1 else ''}[/red]")
        if as_json:
            documents.extend(
                {"file": d.context, "ok": False, "treaty": None, "diagnostics": [d.to_json()]}
                for d in problems
            )
            payload = documents[0] if len(documents) == 1 else documents
            out.out(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True))
        raise typer.Exit(1 if failed else 0)

    @app.command()
    def describe(
        file: Annotated[Path, typer.Argument(help="A treaty file.")],
    ) -> None:
        """Print the treaty in plain English: who owes what to whom, and when."""
        result = foedus.check_file(file)
        if result.treaty is None:
            Console(stderr=True, highlight=False, soft_wrap=True).out(
                foedus.render_text(result.diagnostics, result.sources), end=""
            )
            raise typer.Exit(1)
        Console(highlight=False, soft_wrap=True).out(foedus.describe_treaty(result.treaty), end="")
