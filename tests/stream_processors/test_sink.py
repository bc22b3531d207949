"""The sink keeps the newest row per key and loses nothing when a store write fails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from feature_repo import user_weak_signals
from stream_processors.sink import FeatureSink


class FlakyWriter:
    """An in-process stand-in for OnlineWriter that fails the first n writes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[dict[str, list[dict[str, Any]]]] = []

    def write(self, batches: Mapping[str, Sequence[dict[str, Any]]]) -> int:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database is locked")
        self.written.append({v: list(rows) for v, rows in batches.items()})
        return sum(len(rows) for rows in batches.values())


def _row(n: int) -> dict[str, int]:
    return {c.name: n for c in user_weak_signals.COLUMNS}


def test_failed_push_keeps_rows_and_a_newer_row_wins(tmp_path: Path) -> None:
    writer = FlakyWriter(failures=1)
    sink = FeatureSink(
        writer,
        tmp_path,
        schemas={"user_weak_signals": user_weak_signals.ARROW_SCHEMA},
        join_keys={"user_weak_signals": "user_id"},
    )
    sink.stage("user_weak_signals", "u1", _row(1), 1_000)
    sink.stage("user_weak_signals", "u1", _row(2), 2_000)  # same key: only the newest
    sink.stage("user_weak_signals", "u2", _row(7), 1_500)
    with pytest.raises(RuntimeError):
        sink.flush_online()
    sink.stage("user_weak_signals", "u2", _row(8), 3_000)  # newer than the failed one
    assert sink.flush_online() == 2
    frame = pd.DataFrame(writer.written[0]["user_weak_signals"]).set_index("user_id")
    assert frame.loc["u1", "follow_audiobook_90d"] == 2
    assert frame.loc["u2", "follow_audiobook_90d"] == 8
    assert sink.flush_offline() == 4  # every version, for point-in-time reads
    offline = pd.read_parquet(tmp_path / "offline" / "user_weak_signals")
    assert sorted(offline["follow_audiobook_90d"]) == [1, 2, 7, 8]
