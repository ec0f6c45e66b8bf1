"""``python -m foedus``: the same as the ``foedus`` command."""

from foedus.cli.main import app

app(prog_name="foedus")
