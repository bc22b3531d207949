"""colisten.settings: one typed reader of the environment; unknown COLISTEN_* rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from colisten.settings import (
    ConfigError,
    Settings,
    check_environment,
    env_overrides,
    feast_dir,
    kafka_bootstrap,
    valid_names,
)


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


def test_an_unknown_stage_variable_is_rejected_with_the_valid_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("T_NN", "4")
    with pytest.raises(ConfigError, match="unknown environment variable T_NN") as err:
        env_overrides(Demo, "T_")
    assert "T_N, T_NAME" in str(err.value)


def test_an_unknown_colisten_variable_is_rejected_with_the_valid_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLISTEN_PARTITION", "8")  # typo of COLISTEN_PARTITIONS
    with pytest.raises(ConfigError) as err:
        Settings.from_env()
    message = str(err.value)
    assert message.startswith("unknown environment variable COLISTEN_PARTITION;")
    for name in ("COLISTEN_PARTITIONS", "COLISTEN_HOME", "COLISTEN_STREAM_<FIELD>"):
        assert name in message
    with pytest.raises(ConfigError, match="COLISTEN_PARTITION;"):
        kafka_bootstrap()  # every read checks first


def test_every_name_the_tree_uses_is_valid() -> None:
    used = {
        "COLISTEN_HOME", "COLISTEN_KAFKA_PORT", "COLISTEN_KAFKA_CONTROLLER_PORT",
        "COLISTEN_KAFKA_HEAP", "COLISTEN_KAFKA_JARS", "COLISTEN_REDIS_PORT",
        "COLISTEN_REDIS_SERVER", "COLISTEN_KAFKA_BOOTSTRAP", "COLISTEN_REDIS_URL",
        "COLISTEN_ONLINE_STORE", "COLISTEN_FEAST_DIR", "COLISTEN_MODELS_DIR",
        "COLISTEN_CACHE_DIR", "COLISTEN_TEXT_MODEL", "COLISTEN_CATALOGUE",
        "COLISTEN_PARTITIONS", "COLISTEN_SHARED_DIR", "COLISTEN_STREAM_APP_ID",
        "COLISTEN_SERVE_SAMPLE_USERS",
    }  # fmt: skip
    check_environment({name: "1" for name in used})
    assert len(valid_names()) == len(set(valid_names()))


def test_fixed_values_are_typed_and_dirs_follow_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLISTEN_HOME", str(tmp_path))
    monkeypatch.setenv("COLISTEN_PARTITIONS", "8")
    monkeypatch.setenv("COLISTEN_FEAST_DIR", "")  # empty: unset
    got = Settings.from_env()
    assert (got.home, got.partitions, got.feast_dir) == (tmp_path, 8, None)
    assert feast_dir() == tmp_path / "feast"
    monkeypatch.setenv("COLISTEN_PARTITIONS", "eight")
    with pytest.raises(ConfigError, match="COLISTEN_PARTITIONS='eight' is not an int"):
        Settings.from_env()


def test_relative_dirs_are_taken_from_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Feast resolves a relative store path against the feature repo: settings must not
    hand it one (COLISTEN_FEAST_DIR=var/x once wrote under feature_repo/var/x)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLISTEN_FEAST_DIR", "var/store")
    assert feast_dir() == tmp_path.resolve() / "var" / "store"
