"""The `colisten` command line as a whole: every command checks the environment first."""

from __future__ import annotations

from typing import Any

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


def test_every_command_keeps_its_name_and_flags() -> None:
    import typer.main

    def walk(cmd: Any, path: str) -> dict[str, set[str]]:
        if hasattr(cmd, "commands"):  # a group
            out: dict[str, set[str]] = {}
            for name, sub in cmd.commands.items():
                out |= walk(sub, f"{path} {name}".strip())
            return out
        return {path: {o for p in cmd.params for o in p.opts if o.startswith("--")}}

    got = walk(typer.main.get_command(app), "")
    assert sorted(got) == sorted(
        [
            "replay", "demo", "run", "serve", "evaluate", "services up",
            "services down", "services status", "topics create", "store apply",
            "store materialize", "stream worker", "world generate", "world import",
            "world analyze", "train content", "train hgnn", "train two-tower",
            "models list",
        ]
    )  # fmt: skip
    assert got["train two-tower"] == {
        "--world", "--cutoff", "--no-hgnn", "--no-weak-signals", "--epochs",
        "--item-type", "--hgnn-version",
    }  # fmt: skip
    assert got["store materialize"] == {
        "--world",
        "--cutoff",
        "--recent-items",
        "--memory-limit",
    }
