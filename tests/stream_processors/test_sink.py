"""The sink keeps the newest row per key and loses nothing when a store write fails."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from feature_repo import user_weak_signals
from stream_processors.sink import FeatureSink, stamp_time, time_stamp


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


def _sink(writer: FlakyWriter, tmp_path: Path) -> FeatureSink:
    return FeatureSink(
        writer,
        tmp_path,
        schemas={"user_weak_signals": user_weak_signals.ARROW_SCHEMA},
        join_keys={"user_weak_signals": "user_id"},
    )


def test_failed_push_keeps_rows_and_a_newer_row_wins(tmp_path: Path) -> None:
    writer = FlakyWriter(failures=1)
    sink = _sink(writer, tmp_path)
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


def test_an_older_row_staged_later_does_not_replace_the_waiting_one(
    tmp_path: Path,
) -> None:
    """A restore re-pushing a state an agent has meanwhile folded further loses online."""
    writer = FlakyWriter(failures=0)
    sink = _sink(writer, tmp_path)
    sink.stage("user_weak_signals", "u1", _row(5), 5_000)  # the agent's newer state
    sink.stage("user_weak_signals", "u1", _row(4), 4_000)  # the restore's older one
    sink.stage("user_weak_signals", "u2", _row(1), 1_000)
    sink.stage("user_weak_signals", "u2", _row(1), 1_000)  # the same state again: fine
    assert sink.flush_online() == 2
    frame = pd.DataFrame(writer.written[0]["user_weak_signals"]).set_index("user_id")
    assert frame.loc["u1", "follow_audiobook_90d"] == 5
    sink.stage("user_weak_signals", "u1", _row(3), 3_000)  # after a flush: the store
    assert sink.flush_online() == 1  # decides (OnlineWriter keeps the newer row)
    assert sink.flush_offline() == 4  # offline keeps every version it was given


def test_stamps_become_exact_utc_times_and_back() -> None:
    """The sink's cheap datetime is the pandas Timestamp it replaced, to the microsecond."""
    for stamp in (0, 1, 1_776_530_375_861_123, 1_776_530_375_861_999):
        when = stamp_time(stamp)
        assert when == pd.Timestamp(stamp, unit="us", tz="UTC")
        assert time_stamp(when) == stamp


class BlockedWriter(FlakyWriter):
    """A writer whose writes wait until released (a slow online store)."""

    def __init__(self) -> None:
        super().__init__(failures=0)
        self.entered, self.release = threading.Event(), threading.Event()

    def write(self, batches: Mapping[str, Sequence[dict[str, Any]]]) -> int:
        self.entered.set()
        assert self.release.wait(10)
        return super().write(batches)


def test_offline_rows_are_written_while_an_online_write_is_slow(
    tmp_path: Path,
) -> None:
    writer = BlockedWriter()
    sink = _sink(writer, tmp_path)
    sink.stage("user_weak_signals", "u1", _row(1), 1_000)
    online = threading.Thread(target=sink.flush_online)
    online.start()
    assert writer.entered.wait(10)  # the online write is in flight, and stays
    sink.stage("user_weak_signals", "u1", _row(2), 2_000)
    assert sink.flush_offline() == 2  # not held behind it
    assert not writer.written
    writer.release.set()
    online.join(10)
    assert writer.written and sink.flush_online() == 1  # the newer row, next flush
