"""WriterProcess: writes land in the real store, errors come back, a dead child restarts."""

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
from stream_processors.writer_process import StoreWriteError, WriterProcess

pytestmark = pytest.mark.integration


def _rows(value: int) -> list[dict[str, object]]:
    stamp = pd.Timestamp(1_700_000_000_000_000 + value, unit="us", tz="UTC")
    return [
        {
            names.USER_ID: "u1",
            **{c.name: value for c in user_weak_signals.COLUMNS},
            names.EVENT_TIMESTAMP: stamp,
        }
    ]


def _read(cfg: FeatureStoreConfig) -> int | None:
    got = open_store(cfg).get_online_features(
        features=[f"{user_weak_signals.VIEW}:stream_podcast_90d"],
        entity_rows=[{names.USER_ID: "u1"}],
    )
    return got.to_dict()["stream_podcast_90d"][0]


def test_writes_errors_and_restart(tmp_path: Path) -> None:
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    apply_definitions(open_store(cfg), cfg)
    # the worker's malloc settings, a trim after every write (malloc_tuning.py)
    writer = WriterProcess(cfg, malloc_arenas=2, malloc_trim_s=1e-9)
    try:
        assert writer.write({user_weak_signals.VIEW: _rows(3)}) == 1
        assert _read(cfg) == 3

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
        assert _read(cfg) == 6
    finally:
        writer.close()
    assert not writer._proc.is_alive()  # noqa: SLF001
