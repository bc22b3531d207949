"""Both stages driven without a broker: a tiny world equals the pandas reference, crashes too."""

from __future__ import annotations

from pathlib import Path

import pytest

from colisten.timeunits import DAY_MS
from colisten.world.format import read_events
from colisten.world.generator import generate_world
from colisten.world.replay import iter_event_payloads
from stream_processors.reference import expected_views
from stream_processors.user_state import WINDOW_MS
from stream_processors.verify import as_records
from tests.stream_processors.stage_rig import StageRig

BATCH = 257
"""Events per stage-1 batch (odd, so batches straddle partitions and days)."""


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "tiny"
    generate_world("tiny", 11, out, progress=False)
    return out


def _payloads(world: Path) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v, _ in iter_event_payloads(world)]


def _assert_equals_reference(rig: StageRig, world: Path) -> None:
    expected = expected_views(
        read_events(world), rig.partitions, rig.window_ms, rig.cap
    )
    for view, frame in expected.items():
        want, got = as_records(frame), as_records(rig.sink.rows(view))
        if view == "colisten_edges":  # an edge whose co-listens all expired reads 0
            got = {k: r for k, r in got.items() if r["n_users"] or k in want}
        assert got.keys() == want.keys(), view
        bad = [k for k in want if {c: got[k][c] for c in want[k]} != want[k]]
        assert not bad, f"{view}: {bad[:3]} e.g. {got[bad[0]]} != {want[bad[0]]}"


KEEPS = pytest.mark.parametrize("keep", [0, 8], ids=["decode-each-batch", "kept-8"])
"""Without kept states, and with a cache so small that it evicts all the time."""


@KEEPS
def test_stages_equal_the_reference(tiny_world: Path, keep: int) -> None:
    rig = StageRig(4, WINDOW_MS, cap=50, keep=keep)
    messages = rig.produce(_payloads(tiny_world))
    for start in range(0, len(messages), BATCH):
        rig.fold_batch(messages[start : start + BATCH])
    assert rig.rejected == []
    _assert_equals_reference(rig, tiny_world)


@KEEPS
def test_short_window_and_cap_equal_the_reference(tiny_world: Path, keep: int) -> None:
    """Expiry sweeps, new days and the pairing cap at work on every key."""
    rig = StageRig(4, 20 * DAY_MS, cap=3, keep=keep)
    messages = rig.produce(_payloads(tiny_world))
    for start in range(0, len(messages), BATCH):
        rig.fold_batch(messages[start : start + BATCH])
    swept = [row for _, _, row, _ in rig.sink.staged if row.get("n_users") == 0]
    assert swept, "no edge expired: the test would not exercise the sweep"
    _assert_equals_reference(rig, tiny_world)


@KEEPS
def test_crashes_before_commits_change_nothing(tiny_world: Path, keep: int) -> None:
    """Every 5th batch dies after stage 2 got its records, before stage 1 committed.

    The restarted stages restore from the tables and the batch is read again: stage 1
    re-sends the records (stage 2 sees them twice) and nothing is counted twice or lost.
    """
    rig = StageRig(4, 20 * DAY_MS, cap=3, keep=keep)
    messages = rig.produce(_payloads(tiny_world))
    crashes = 0
    for number, start in enumerate(range(0, len(messages), BATCH)):
        batch = messages[start : start + BATCH]
        if number % 5 == 2:
            rig.fold_batch(batch, commit=False)
            rig.restart()
            crashes += 1
        rig.fold_batch(batch)
    assert crashes >= 3
    _assert_equals_reference(rig, tiny_world)
