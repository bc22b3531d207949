"""env_overrides: one parser for every stage's COLISTEN_<STAGE>_<FIELD> variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.settings import ConfigError, env_overrides


@dataclass(frozen=True)
class Demo:
    n: int = 1
    rate: float = 0.5
    on: bool = False
    name: str = "x"
    home: Path = field(default_factory=lambda: Path("/tmp"))
    maybe: Path | None = None
    skipped: int = 3


def test_each_field_parsed_by_its_default_and_unset_ones_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"N": "4", "RATE": "2.5", "ON": "yes", "NAME": "y", "HOME": "/a", "MAYBE": ""}
    for key, value in {**env, "SKIPPED": "9"}.items():
        monkeypatch.setenv(f"T_{key}", value)
    got = env_overrides(Demo, "T_", skip=("skipped",))
    assert got == {
        "n": 4,
        "rate": 2.5,
        "on": True,
        "name": "y",
        "home": Path("/a"),
        "maybe": None,
    }
    monkeypatch.delenv("T_N")
    assert "n" not in env_overrides(Demo, "T_")


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_N", "four")
    with pytest.raises(ConfigError, match="T_N='four'"):
        env_overrides(Demo, "T_")
