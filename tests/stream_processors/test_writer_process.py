"""WriterProcess: writes land in the real store in bounded messages, errors come back, a
dead child restarts."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from colisten import names
from feature_repo import user_weak_signals
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from stream_processors.writer_process import (
    StoreWriteError,
    WriterLimits,
    WriterProcess,
    split_rows,
)


def _rows(value: int, user: str = "u1") -> list[dict[str, object]]:
    stamp = pd.Timestamp(1_700_000_000_000_000 + value, unit="us", tz="UTC")
    return [
        {
            names.USER_ID: user,
            **{c.name: value for c in user_weak_signals.COLUMNS},
            names.EVENT_TIMESTAMP: stamp,
        }
    ]


def _read(cfg: FeatureStoreConfig, users: list[str] | None = None) -> list[int | None]:
    got = open_store(cfg).get_online_features(
        features=[f"{user_weak_signals.VIEW}:stream_podcast_90d"],
        entity_rows=[{names.USER_ID: u} for u in users or ["u1"]],
    )
    return got.to_dict()["stream_podcast_90d"]


@pytest.mark.integration
def test_writes_errors_and_restart(tmp_path: Path) -> None:
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    apply_definitions(open_store(cfg), cfg)
    # the worker's malloc settings, a trim after every write (malloc_tuning.py)
    writer = WriterProcess(cfg, WriterLimits(malloc_arenas=2, malloc_trim_s=1e-9))
    try:
        assert writer.write({user_weak_signals.VIEW: _rows(3)}) == 1
        assert _read(cfg) == [3]

        with pytest.raises(StoreWriteError, match="no_such_view"):
            writer.write({"no_such_view": _rows(4)})
        assert writer.write({user_weak_signals.VIEW: _rows(5)}) == 1  # still usable

        pid = writer.pid
        assert pid is not None
        os.kill(pid, signal.SIGTERM)  # as when the worker's process group is stopped
        os.kill(pid, signal.SIGINT)
        time.sleep(0.5)
        assert writer.write({user_weak_signals.VIEW: _rows(5)}) == 1
        assert writer.restarts == 0 and writer.pid == pid

        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while writer._proc.is_alive() and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.05)
        assert writer.write({user_weak_signals.VIEW: _rows(6)}) == 1
        assert writer.restarts == 1 and writer.pid != pid
        assert _read(cfg) == [6]
    finally:
        writer.close()
    assert not writer._proc.is_alive()  # noqa: SLF001


def test_split_rows_bounds_each_message_and_keeps_every_row_in_order() -> None:
    batches = {"a": [1, 2, 3, 4, 5], "b": [], "c": [6, 7]}
    got = list(split_rows(batches, 2))  # type: ignore[arg-type]
    assert got == [{"a": [1, 2]}, {"a": [3, 4]}, {"a": [5], "c": [6]}, {"c": [7]}]
    assert list(split_rows(batches, 100)) == [{"a": [1, 2, 3, 4, 5], "c": [6, 7]}]  # type: ignore[arg-type]
    assert list(split_rows({"a": []}, 2)) == []
    with pytest.raises(ValueError, match="rows_per_send"):
        WriterLimits(rows_per_send=0)


@pytest.mark.integration
def test_a_flush_goes_over_in_bounded_messages_and_every_row_lands(
    tmp_path: Path,
) -> None:
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    apply_definitions(open_store(cfg), cfg)
    users = [f"u{i}" for i in range(7)]
    rows = [row for i, u in enumerate(users) for row in _rows(10 + i, u)]
    writer = WriterProcess(cfg, WriterLimits(rows_per_send=3, sqlite_cache_mb=1))
    try:
        assert writer.write({user_weak_signals.VIEW: rows}) == 7  # 3 + 3 + 1
    finally:
        writer.close()
    assert _read(cfg, users) == list(range(10, 17))
