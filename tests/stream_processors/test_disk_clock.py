"""DiskPartitionClock behaves exactly like the in-memory PartitionClock."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stream_processors.clock import PartitionClock
from stream_processors.disk_clock import DiskPartitionClock


def test_schedules_one_entry_per_key_and_pops_when_due(tmp_path: Path) -> None:
    clock = DiskPartitionClock(tmp_path / "clock")
    clock.schedule(0, "k", 100)
    clock.schedule(0, "k", 200)  # later: ignored, the earlier check re-schedules
    clock.schedule(0, "j", 150)
    clock.schedule(1, "k", 50)  # another partition's schedule is separate
    assert clock.due(0) == []  # no watermark yet
    assert clock.advance(0, 120) and clock.due(0) == ["k"]
    assert not clock.advance(0, 110)
    assert clock.due(0) == []
    clock.advance(0, 150)
    assert clock.due(0) == ["j"]
    clock.advance(1, 60)
    assert clock.due(1) == ["k"]


def test_an_earlier_expiry_replaces_the_scheduled_one(tmp_path: Path) -> None:
    clock = DiskPartitionClock(tmp_path / "clock")
    clock.schedule(2, "pair", 500)
    clock.schedule(2, "pair", 300)
    clock.advance(2, 400)
    assert clock.due(2) == ["pair"]
    clock.advance(2, 600)
    assert clock.due(2) == []  # the replaced entry is gone, not due a second time


def test_negative_times_and_reset(tmp_path: Path) -> None:
    clock = DiskPartitionClock(tmp_path / "clock")
    clock.schedule(3, "old", -5)
    clock.schedule(3, "new", 5)
    clock.schedule(2, "other", 1)
    clock.reset(3)
    clock.advance(3, 10)
    clock.advance(2, 10)
    assert clock.due(3) == []
    assert clock.due(2) == ["other"]


def test_reopening_starts_empty(tmp_path: Path) -> None:
    first = DiskPartitionClock(tmp_path / "clock")
    first.schedule(0, "k", 1)
    first.close()
    again = DiskPartitionClock(tmp_path / "clock")  # rebuilt from tables on recovery
    again.advance(0, 10)
    assert again.due(0) == []


@pytest.mark.parametrize("remembered", [50_000, 3])
def test_random_schedules_agree_with_the_in_memory_clock(
    tmp_path: Path, remembered: int
) -> None:
    """Also with a memo of 3 keys (most schedules look the database up) and resets."""
    rng = random.Random(3)
    memory = PartitionClock()
    disk = DiskPartitionClock(tmp_path / "clock", remembered=remembered)
    keys = [f"a{i}|p{j}" for i in range(20) for j in range(5)]
    for step in range(3000):
        part = rng.randrange(4)
        if rng.random() < 0.01:
            memory.reset(part)
            disk.reset(part)
        elif rng.random() < 0.7:
            key, when = rng.choice(keys), rng.randrange(-1000, 10_000)
            memory.schedule(part, key, when)
            disk.schedule(part, key, when)
        else:
            ts = rng.randrange(-1000, 10_000)
            assert memory.advance(part, ts) == disk.advance(part, ts)
            assert sorted(memory.due(part)) == sorted(disk.due(part)), step
    assert len(disk._when) <= remembered


def test_due_scans_only_from_the_earliest_expiry(tmp_path: Path) -> None:
    """An entry written behind the clock's back, before the earliest scheduled expiry,
    is never seen: no scan before that expiry, and scans start at it."""
    clock = DiskPartitionClock(tmp_path / "clock")
    clock.schedule(0, "a", 100)
    clock.schedule(0, "b", 300)
    clock.advance(0, 150)
    assert clock.due(0) == ["a"]
    stray = b"s" + (0).to_bytes(2, "big") + (200 + (1 << 63)).to_bytes(8, "big")
    clock.db.put(stray + b"stray", b"")
    clock.advance(0, 250)
    assert clock.due(0) == []
    clock.advance(0, 300)
    assert clock.due(0) == ["b"]
