"""``python -m foedus``: the same as the ``foedus`` command."""

from foedus.cli.main import run

run()
