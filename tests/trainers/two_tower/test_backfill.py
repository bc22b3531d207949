"""The batch twin of the stream worker equals the pandas reference, online and offline."""

from __future__ import annotations

import pandas as pd
import pyarrow.dataset as ds

from feature_repo.sources import offline_path
from feature_repo.store import open_store
from stream_processors.reference import expected_views
from stream_processors.verify import diff_view
from tests.trainers.conftest import TinyWorld
from tests.trainers.two_tower.conftest import TinyStore
from trainers.two_tower.data import historical_user_rows

DAY = 86_400_000


def test_final_online_rows_equal_the_reference(
    tiny: TinyWorld, tiny_store: TinyStore
) -> None:
    split = tiny.manifest.split_ms
    expected = expected_views(tiny.events[tiny.events["ts"] < split], 4)
    store = open_store(tiny_store.cfg)
    pairs = sorted(
        set(
            pd.read_parquet(offline_path("colisten_edges", tiny_store.cfg.data_dir))[
                "pair_id"
            ]
        )
    )
    for view, want in expected.items():
        extra = pairs if view == "colisten_edges" else None
        assert diff_view(store, view, want, extra_keys=extra, limit=5) == [], view


def test_backfill_reads_nothing_after_the_cutoff(
    tiny: TinyWorld, tiny_store: TinyStore
) -> None:
    split = pd.Timestamp(tiny.manifest.split_ms, unit="ms", tz="UTC")
    assert tiny_store.stats.events == int(
        (tiny.events["ts"] < tiny.manifest.split_ms).sum()
    )
    for view in (
        "user_weak_signals",
        "user_recent_items",
        "colisten_edges",
        "item_popularity",
    ):
        table = ds.dataset(offline_path(view, tiny_store.cfg.data_dir)).to_table()
        assert table.num_rows and table["event_timestamp"].to_pandas().max() < split, (
            view
        )


def test_offline_history_is_point_in_time(
    tiny: TinyWorld, tiny_store: TinyStore
) -> None:
    mid = tiny.manifest.start_ms + 45 * DAY
    expected = expected_views(tiny.events[tiny.events["ts"] < mid], 4)
    weak = expected["user_weak_signals"]
    recent = expected["user_recent_items"]
    users = sorted(weak.index)
    rows = historical_user_rows(
        open_store(tiny_store.cfg), users, [mid - 1] * len(users)
    )
    for user, row in zip(users, rows, strict=True):
        for col in weak.columns:
            assert row[f"user_weak_signals__{col}"] == weak.loc[user, col], (user, col)
        for col, want in recent[user].items():
            assert list(row[f"user_recent_items__{col}"]) == want, (user, col)
        assert row["user_profile__age"] is not None
