"""OnlineWriter writes what Feast's push writes: same SQLite bytes, same reads on Redis."""

from __future__ import annotations

import sqlite3
from typing import Any

import pandas as pd
import pytest
from feast.data_source import PushMode

from colisten import names
from feature_repo import colisten_edges, user_recent_items
from feature_repo.config import FeatureStoreConfig
from feature_repo.definitions import PUSH_FED_LAYOUTS
from feature_repo.online_columns import ENCODERS
from feature_repo.online_write import OnlineWriter
from feature_repo.schema import _FEAST
from feature_repo.store import apply_definitions, open_store

pytestmark = pytest.mark.integration
T0 = pd.Timestamp("2026-03-01T12:00:00.123456Z")


def _recent(n: int, at: pd.Timestamp) -> list[dict[str, Any]]:
    return [
        {
            names.USER_ID: f"u{i}",
            "recent_audiobooks": [f"a{j}" for j in range(i % 3)],  # empty lists too
            "recent_audiobook_signals": ["follow"] * (i % 3),
            "recent_audiobook_ms": [1_700_000_000_000 + j for j in range(i % 3)],
            "recent_podcasts": [f"p{i}", "p0"],
            "recent_podcast_signals": ["stream", "preview"],
            "recent_podcast_ms": [2, 1],
            "last_event_ms": 1_700_000_000_000 + i,
            names.EVENT_TIMESTAMP: at,
        }
        for i in range(n)
    ]


def _edges(n: int, at: pd.Timestamp) -> list[dict[str, Any]]:
    return [
        {
            names.PAIR_ID: f"a{i}|p{i}",
            "src_item": f"a{i}",
            "dst_item": f"p{i}",
            "relation": "ap",
            "n_users": i + 1,
            "first_colisten_ms": 1_000 + i,
            "last_colisten_ms": 2_000 + i,
            names.EVENT_TIMESTAMP: at,
        }
        for i in range(n)
    ]


def _read(store: Any, view: str, key: str, ids: list[str], cols: list[str]) -> dict:
    return store.get_online_features(
        features=[f"{view}:{c}" for c in cols], entity_rows=[{key: i} for i in ids]
    ).to_dict()


def test_every_column_kind_has_an_encoder() -> None:
    assert set(ENCODERS) == set(_FEAST)


def test_sqlite_rows_are_byte_identical_to_a_push(tmp_path: Any) -> None:
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    store = open_store(cfg)
    apply_definitions(store, cfg)
    rows = _recent(7, T0)
    table = f"colisten_{user_recent_items.VIEW}"
    query = f"SELECT * FROM {table} ORDER BY entity_key, feature_name"

    store.push(
        f"{user_recent_items.VIEW}_push_source", pd.DataFrame(rows), to=PushMode.ONLINE
    )
    with sqlite3.connect(cfg.sqlite_path) as conn:
        pushed = conn.execute(query).fetchall()
        conn.execute(f"DELETE FROM {table}")
    OnlineWriter(store, PUSH_FED_LAYOUTS).write({user_recent_items.VIEW: rows})
    with sqlite3.connect(cfg.sqlite_path) as conn:
        written = conn.execute(query).fetchall()
    assert len(written) == 7 * len(user_recent_items.COLUMNS)
    assert written == pushed


def test_reads_match_a_push_on_both_backends(store_cfg: FeatureStoreConfig) -> None:
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    cols = [c.name for c in colisten_edges.COLUMNS]
    ids = [f"a{i}|p{i}" for i in range(5)] + ["nobody"]

    # two views in one write; then a newer version of some keys replaces the old
    assert (
        writer.write(
            {colisten_edges.VIEW: _edges(5, T0), user_recent_items.VIEW: _recent(3, T0)}
        )
        == 8
    )
    newer = _edges(2, T0 + pd.Timedelta(seconds=1))
    for row in newer:
        row["n_users"] += 100
    writer.write({colisten_edges.VIEW: newer})
    got = _read(store, colisten_edges.VIEW, names.PAIR_ID, ids, cols)
    recent = _read(
        store,
        user_recent_items.VIEW,
        names.USER_ID,
        ["u0", "u2"],
        [c.name for c in user_recent_items.COLUMNS],
    )

    store.push(
        f"{colisten_edges.VIEW}_push_source",
        pd.DataFrame(_edges(5, T0 + pd.Timedelta(seconds=2))),
        to=PushMode.ONLINE,
    )
    pushed = _read(store, colisten_edges.VIEW, names.PAIR_ID, ids, cols)

    assert got["n_users"] == [101, 102, 3, 4, 5, None]
    assert pushed["n_users"] == [1, 2, 3, 4, 5, None]
    for col in ("src_item", "relation", "first_colisten_ms", "last_colisten_ms"):
        assert got[col] == pushed[col], col
    assert recent["recent_audiobooks"] == [[], ["a0", "a1"]]
    assert recent["recent_podcast_ms"] == [[2, 1], [2, 1]]
    assert recent["last_event_ms"] == [1_700_000_000_000, 1_700_000_000_002]


def test_an_older_row_never_replaces_a_newer_one(store_cfg: FeatureStoreConfig) -> None:
    """Two workers across a rebalance: the one that lost a key may flush it late.

    Feast's SQLite table keeps event_ts in whole seconds, so there the rule orders rows
    a second or more apart; within one second the later write wins (Redis keeps µs).
    """
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    newer = _edges(3, T0 + pd.Timedelta(seconds=2))
    older = _edges(3, T0)
    for row in newer:
        row["n_users"] += 10
    older[2][names.EVENT_TIMESTAMP] = T0 + pd.Timedelta(seconds=5)  # this one is newer
    writer.write({colisten_edges.VIEW: newer})
    writer.write({colisten_edges.VIEW: older})
    ids = [f"a{i}|p{i}" for i in range(3)]
    got = _read(store, colisten_edges.VIEW, names.PAIR_ID, ids, ["n_users"])
    assert got["n_users"] == [11, 12, 3]
    writer.write({colisten_edges.VIEW: newer[:1]})  # the same row again: idempotent
    got = _read(store, colisten_edges.VIEW, names.PAIR_ID, ids[:1], ["n_users"])
    assert got["n_users"] == [11]


def test_sqlite_write_without_the_table_fails_clearly(tmp_path: Any) -> None:
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    store = open_store(cfg)
    apply_definitions(store, cfg)
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    assert writer.write({user_recent_items.VIEW: _recent(2, T0)}) == 2
    with sqlite3.connect(cfg.sqlite_path) as conn:
        conn.execute(f"DROP TABLE colisten_{colisten_edges.VIEW}")
    with pytest.raises(RuntimeError, match="run apply first"):
        writer.write({colisten_edges.VIEW: _edges(1, T0)})
