"""`foedus check` and `foedus describe`: is the treaty well formed, and what does it say."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

import foedus
from foedus.cli.inputs import is_stdin, read_treaty
from foedus.cli.output import dumps, shown_block
from foedus.diagnostics import error, printable


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def _expand(paths: list[Path]) -> tuple[list[Path], list[foedus.Diagnostic]]:
    """Files to check: each file given, and the ``*.foedus`` files under each folder given."""
    out: list[Path] = []
    problems: list[foedus.Diagnostic] = []
    for p in paths:
        try:
            folder = not is_stdin(p) and p.is_dir()
        except OSError:  # a name too long to look up: checking it says why
            folder = False
        if not folder:
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
        files: Annotated[list[Path], typer.Argument(
            help="Treaty files or folders of them; - reads standard input.")],
        fmt: Annotated[Format, typer.Option(
            "--format", help="text (default), or json: the checked model, or the errors.")]
        = Format.TEXT,
        as_json: Annotated[
            bool, typer.Option("--json", help="The same as --format json.")
        ] = False,
    ) -> None:
        """Check treaties: report every mistake with its place, or confirm they are sound.

        Exit codes: 0 sound, 1 mistakes, 2 usage.
        """
        as_json = as_json or fmt is Format.JSON
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        out = Console(highlight=False, soft_wrap=True)
        paths, problems = _expand(files)
        failed = bool(problems)
        if problems and not as_json:
            err.out(foedus.render_text(problems, {}), end="")
        documents = []
        for path in paths:
            result = read_treaty(path)
            shown = "<stdin>" if is_stdin(path) else printable(str(path))
            failed |= not result.ok
            if as_json:
                documents.append(
                    {
                        "file": shown,
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
                out.print(Text.assemble(
                    ("ok", "green"), f" {shown}: treaty {t.name} — "
                    f"{counted(len(t.parties), 'party', 'parties')}, "
                    f"{counted(len(t.clauses), 'clause', 'clauses')}"))
            else:
                errors = sum(1 for d in result.diagnostics if d.is_error)
                err.print(Text(f"{shown}: {counted(errors, 'error', 'errors')}", "red"))
        if as_json:
            documents.extend(
                {"file": d.context, "ok": False, "treaty": None, "diagnostics": [d.to_json()]}
                for d in problems
            )
            payload = documents[0] if len(documents) == 1 else documents
            out.out(dumps(payload, indent=2))
        raise typer.Exit(1 if failed else 0)

    @app.command()
    def describe(
        file: Annotated[Path, typer.Argument(help="A treaty file, or - for standard input.")],
        fmt: Annotated[Format, typer.Option(
            "--format", help="text (default), or json: each clause with its description.")]
        = Format.TEXT,
    ) -> None:
        """Print the treaty in plain English: who owes what to whom, and when."""
        result = read_treaty(file)
        if result.treaty is None:
            Console(stderr=True, highlight=False, soft_wrap=True).out(
                foedus.render_text(result.diagnostics, result.sources), end=""
            )
            raise typer.Exit(1)
        treaty = result.treaty
        if fmt is Format.JSON:
            typer.echo(dumps({
                "treaty": treaty.name,
                "title": treaty.title,
                "zone": treaty.zone,
                "clauses": [
                    {"id": c.id, "title": c.title, "kind": c.kind.value,
                     "quotes": list(c.quotes),
                     "description": foedus.describe_clause(treaty, c)}
                    for c in treaty.clauses
                ],
            }, indent=2))
            return
        Console(highlight=False, soft_wrap=True).out(
            shown_block(foedus.describe_treaty(treaty)), end="")


def counted(n: int, one: str, many: str) -> str:
    """``1 clause``, ``14 clauses``."""
    return f"{n} {one if n == 1 else many}"
