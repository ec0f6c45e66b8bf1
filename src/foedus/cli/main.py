"""The `foedus` command: a thin shell over the public ``foedus`` API.

Each command group lives in its own module with a ``register(app)`` function. The
conventions every command follows (``-h``, ``-V``, ``-`` for standard input, ``--format``,
``--color``, exit codes 0 / 1 / 2) are in docs/cli.md.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Annotated, NoReturn

import pyarrow as pa
import typer

import foedus
from foedus.cli import fmt_command, language_commands, run_commands

app = typer.Typer(
    name="foedus",
    help="Treaties and contracts as executable code: check, format, describe, run, explain "
    "and report them.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"foedus {foedus.__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", is_eager=True, callback=_version,
                     help="Print the version and exit."),
    ] = False,
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color",
                     help="Colour the output, or not. Default: on a terminal, unless NO_COLOR "
                     "is set (FORCE_COLOR forces it)."),
    ] = None,
) -> None:
    """Treaties and contracts as executable code: check, format, describe, run, explain and
    report them."""
    if color is True:
        os.environ.pop("NO_COLOR", None)
        os.environ["FORCE_COLOR"] = "1"
    elif color is False:
        os.environ.pop("FORCE_COLOR", None)
        os.environ["NO_COLOR"] = "1"
    _prepare_process()


def _prepare_process() -> None:
    """What a run of the command sets for the whole process."""
    # Text that is not valid Unicode (a log's invalid UTF-8 reads as lone surrogates) is
    # shown escaped (\udcff) rather than stopping the output.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # Large logs pass through many short-lived Arrow buffers: an allocator that hands freed
    # memory back at once keeps a run's memory what it uses (jemalloc ships with pyarrow
    # on Linux; elsewhere the default stays).
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, pa.ArrowNotImplementedError):  # pragma: no cover
        pass


for module in (language_commands, fmt_command, run_commands):
    module.register(app)


def run(args: list[str] | None = None) -> NoReturn:
    """The `foedus` program: the commands, and the ways out that are not theirs.

    An interrupt (Ctrl-C) exits 130, as shells expect (quietly inside a command, as typer
    makes it); output that cannot be written (a full disk) is a message and exit 1; a
    closed pipe (``| head``) is quiet, as click makes it. No traceback either way.
    """
    try:
        app(args=args, prog_name="foedus")
    except KeyboardInterrupt:
        _last_words("interrupted", 130)
    except OSError as exc:
        _last_words(f"error: cannot write the output: {exc.strerror or exc}", 1)
    sys.exit(0)  # pragma: no cover - app() always exits


def _last_words(message: str, code: int) -> NoReturn:
    """Say ``message`` on the standard error's file itself (whatever wraps it, a progress
    bar say, may be half-way through) and exit at once, flushing nothing that could fail."""
    try:
        os.write(2, f"{message}\n".encode())
    finally:
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
