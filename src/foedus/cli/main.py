"""The `foedus` command: a thin shell over the public ``foedus`` API.

Each command group lives in its own module with a ``register(app)`` function.
"""

from __future__ import annotations

import io
import sys

import pyarrow as pa
import typer

from foedus.cli import fmt_command, language_commands, run_commands

# Text that is not valid Unicode (a log's invalid UTF-8 reads as lone surrogates) is
# shown escaped (\udcff) rather than stopping the output.
for _stream in (sys.stdout, sys.stderr):
    if isinstance(_stream, io.TextIOWrapper):
        _stream.reconfigure(errors="backslashreplace")

# Large logs pass through many short-lived Arrow buffers: an allocator that hands freed
# memory back at once keeps a run's memory what it uses (jemalloc ships with pyarrow on
# Linux; elsewhere the default stays).
try:
    pa.set_memory_pool(pa.jemalloc_memory_pool())
    pa.jemalloc_set_decay_ms(0)
except (NotImplementedError, pa.ArrowNotImplementedError):  # pragma: no cover
    pass

app = typer.Typer(
    name="foedus",
    help="Treaties and contracts as executable code: write, run, analyse, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (language_commands, fmt_command, run_commands):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
