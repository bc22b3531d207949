"""On synthetic worlds the materialized rows equal the pandas reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from colisten.timeunits import DAY_MS as DAY
from colisten.world import format as fmt
from colisten.world.generator import generate_world
from tests.trainers.conftest import TinyWorld
from tests.trainers.materialize.frames import (
    VIEWS,
    build_world,
    cell,
    diff,
    reference,
)
from trainers.materialize.plan import VIEW_KEYS

WINDOW = 90 * DAY


@pytest.mark.parametrize(
    ("when", "window_ms", "cap"),
    [("split", WINDOW, 50), ("end", WINDOW, 50), ("split", 20 * DAY, 3)],
)
def test_online_rows_equal_the_reference(
    tiny: TinyWorld, when: str, window_ms: int, cap: int
) -> None:
    m = tiny.manifest
    cutoff = m.split_ms if when == "split" else m.end_ms + 1
    views = build_world(tiny.path, cutoff, window_ms=window_ms, cap=cap)
    want = reference(
        tiny.events[tiny.events["ts"] < cutoff], 4, window_ms=window_ms, cap=cap
    )
    for view in VIEWS:
        assert diff(views.online(view), want[view], view)[:3] == [], view


def test_cutoff_is_respected(tiny: TinyWorld) -> None:
    """Nothing at or after the cut-off reaches a row: same rows as the truncated log."""
    m = tiny.manifest
    cutoff = m.start_ms + 97 * DAY + 12_345
    views = build_world(tiny.path, cutoff, recent_items="all")
    for view in VIEWS:
        assert int(views.offline(view)["ts"].max()) < cutoff, view
    before = tiny.events[tiny.events["ts"] < cutoff]
    assert views.built.events == len(before)
    from tests.trainers.materialize.frames import build_frame

    truncated = build_frame(before, m.end_ms + 1, recent_items="all")
    for view in VIEWS:
        key = VIEW_KEYS[view]
        a = views.offline(view).sort_values([key, "ts"]).reset_index(drop=True)
        b = truncated.offline(view).sort_values([key, "ts"]).reset_index(drop=True)
        assert a.map(cell).equals(b.map(cell)), view


@pytest.mark.slow
def test_small_world_online_rows_equal_the_reference(tmp_path: Path) -> None:
    m = generate_world("small", 3, tmp_path / "small", progress=False)
    events = fmt.read_events(tmp_path / "small")
    for cutoff in (m.split_ms, m.end_ms + 1):
        views = build_world(tmp_path / "small", cutoff)
        want = reference(events[events["ts"] < cutoff], 4)
        for view in VIEWS:
            assert diff(views.online(view), want[view], view)[:3] == [], view


def test_running_sums_read_every_batch(
    tiny: TinyWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of sorted rows smaller than the log: the same versions as one batch.

    A query on the connection while DuckDB streams the sorted rows ends the stream:
    this once cut the user views of `medium` after the first million rows.
    """
    from trainers.materialize import plan

    cutoff = tiny.manifest.split_ms
    whole = build_world(tiny.path, cutoff, recent_items="all")
    monkeypatch.setattr(plan, "BATCH_ROWS", 997)
    batched = build_world(tiny.path, cutoff, recent_items="all")
    for view in VIEWS:
        key = VIEW_KEYS[view]
        a = whole.offline(view).sort_values([key, "ts"]).reset_index(drop=True)
        b = batched.offline(view).sort_values([key, "ts"]).reset_index(drop=True)
        assert len(a) > 997, view
        assert a.map(cell).equals(b.map(cell)), view
