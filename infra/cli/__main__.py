"""`python -m infra.cli`: the `colisten` command line (subprocesses start it this way)."""

from infra.cli import app

app()
