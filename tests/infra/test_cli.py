"""The `colisten` command line as a whole: every command checks the environment first."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from infra.cli import app


def test_an_unknown_colisten_variable_stops_any_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLISTEN_MODEL_DIR", "/tmp/models")  # typo of MODELS_DIR
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 1
    out = " ".join(result.output.split())  # rich wraps long lines
    assert "unknown environment variable COLISTEN_MODEL_DIR" in out
    assert "COLISTEN_MODELS_DIR" in out
    assert result.exception is None or isinstance(result.exception, SystemExit)
