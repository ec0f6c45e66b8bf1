"""`foedus fmt`: rewrite Foedus sources in canonical layout, or check that they are.

Thin shell over ``foedus.language.printer.format_source``; files are read as bytes and
decoded with ``parser.decode_source`` so that binary or non-UTF-8 files become
diagnostics, never tracebacks.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from foedus import MAX_SOURCE_BYTES, decode_source, format_source, read_source
from foedus.diagnostics import Diagnostic, Span, error, printable, render_text

# Diagnostics for one file, with the source texts needed to quote them.
Problem = tuple[list[Diagnostic], dict[str, str]]


def register(app: typer.Typer) -> None:
    """Add the ``fmt`` command to the application."""
    app.command("fmt")(fmt)


def fmt(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, or directories searched for *.foedus files; "
                                   "- formats standard input to standard output.")
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
) -> None:
    """Rewrite treaties in canonical layout (comments are kept)."""
    if [str(p) for p in paths] == ["-"]:
        _format_stdin(check)
        return
    files, problems = collect_files(paths)
    counts = {"changed": 0, "unchanged": 0, "error": 0}
    for path in files:
        status = _format_file(path, check, problems)
        counts[status] += 1
        if status == "changed":
            typer.echo(printable(f"would reformat {path}" if check else f"reformatted {path}"))
    for diagnostics, sources in problems:
        typer.echo(render_text(diagnostics, sources), err=True, nl=False)
    summary = f"{counts['changed']} file(s) {'would change' if check else 'changed'}, "
    summary += f"{counts['unchanged']} unchanged, {len(problems)} with errors"
    typer.echo(summary, err=True)
    if problems or (check and counts["changed"]):
        raise typer.Exit(1)


def collect_files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand directories into their ``*.foedus`` files, sorted; any other path is a file
    to format, whose reading says what is wrong with it (missing, a pipe, a long name)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            folder = path.is_dir()
        except OSError:
            folder = False
        if folder:
            files.extend(sorted(p for p in path.rglob("*.foedus") if p.is_file()))
        else:
            files.append(path)
    return files, problems


def _format_stdin(check: bool) -> None:
    """What an editor calls: the source on standard input, the formatted text on standard
    output (nothing with ``--check``, which exits 1 if the text would change)."""
    name = "<stdin>"
    text, diagnostics = decode_source(sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1), name)
    printed = None
    if text is not None:
        printed, diagnostics = format_source(text, name)
    if printed is None:
        typer.echo(render_text(diagnostics, {name: text} if text else {}), err=True, nl=False)
        raise typer.Exit(1)
    if check:
        raise typer.Exit(1 if printed != text else 0)
    sys.stdout.write(printed)


def _format_file(path: Path, check: bool, problems: list[Problem]) -> str:
    name = str(path)
    try:
        # Only a regular file: it is written back (standard input is `fmt -`).
        data = read_source(path, streams=False)
    except OSError as exc:
        problems.append(([_io_error(path, exc.strerror or str(exc))], {}))
        return "error"
    text, diagnostics = decode_source(data, name)
    if text is None:
        problems.append((diagnostics, {}))
        return "error"
    printed, diagnostics = format_source(text, name)
    if printed is None:
        problems.append((diagnostics, {name: text}))
        return "error"
    if printed == text:
        return "unchanged"
    if not check:
        try:
            _replace(path, printed)
        except OSError as exc:
            problems.append(([_io_error(path, f"cannot write: {exc.strerror or exc}")], {}))
            return "error"
    return "changed"


def _replace(path: Path, text: str) -> None:
    """Write next to the file and rename over it, so a crash never leaves half a file.

    A symbolic link is followed: the file it points to is replaced, the link is kept.
    """
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _io_error(path: Path, reason: str) -> Diagnostic:
    return error("unreadable-file", f"cannot read `{path}`: {reason}", Span.point(str(path), 1, 1))
