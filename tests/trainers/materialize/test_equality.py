"""On synthetic worlds the materialized rows equal the pandas reference and the backfill."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from colisten.world import format as fmt
from colisten.world.generator import generate_world
from feature_repo.config import FeatureStoreConfig
from tests.trainers.conftest import TinyWorld
from tests.trainers.materialize.frames import (
    DAY,
    VIEWS,
    build_world,
    diff,
    reference,
)
from trainers.materialize.plan import VIEW_COLUMNS, VIEW_KEYS

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


def _collapsed(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Backfill rows, one per (key, ms): the newest stamp of each millisecond."""
    us = frame["event_timestamp"].astype("int64")
    if str(frame["event_timestamp"].dtype).endswith("[ns, UTC]"):
        us = us // 1000
    frame = frame.assign(ts=us // 1000, _us=us).sort_values([key, "_us"])
    return frame.drop_duplicates([key, "ts"], keep="last").drop(columns=["_us"])


def test_every_version_equals_the_backfill(tiny: TinyWorld, tmp_path: Path) -> None:
    """Short window and cap: sweeps, re-pairs and caps all happen before the split."""
    from trainers.backfill import backfill

    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    window, cap, cutoff = 20 * DAY, 3, tiny.manifest.split_ms
    backfill(tiny.path, cfg, cutoff, cap=cap, window_ms=window, progress=False)
    views = build_world(
        tiny.path, cutoff, window_ms=window, cap=cap, recent_items="all"
    )
    for view in VIEWS:
        key, cols = VIEW_KEYS[view], VIEW_COLUMNS[view]
        offline = cfg.data_dir / "offline" / view
        twin = _collapsed(pd.read_parquet(offline), key)
        mine = views.offline(view)
        assert len(twin) == len(mine), view
        on = [key, "ts"]
        both = twin.merge(
            mine, on=on, suffixes=("_bf", ""), how="outer", indicator=True
        )
        assert (both["_merge"] == "both").all(), view
        for col in cols:
            left = both[f"{col}_bf"].map(_plain)
            assert (left == both[col].map(_plain)).all(), (view, col)


def _plain(v: object) -> object:
    return tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v


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
        assert a.map(_plain).equals(b.map(_plain)), view


@pytest.mark.slow
def test_small_world_online_rows_equal_the_reference(tmp_path: Path) -> None:
    m = generate_world("small", 3, tmp_path / "small", progress=False)
    events = fmt.read_events(tmp_path / "small")
    for cutoff in (m.split_ms, m.end_ms + 1):
        views = build_world(tmp_path / "small", cutoff)
        want = reference(events[events["ts"] < cutoff], 4)
        for view in VIEWS:
            assert diff(views.online(view), want[view], view)[:3] == [], view
