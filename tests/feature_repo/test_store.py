"""Feast: apply, push, read back online, on SQLite and on Redis."""

from __future__ import annotations

import pandas as pd
import pytest

from colisten.settings import ConfigError
from feature_repo import user_weak_signals
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store

pytestmark = pytest.mark.integration


def _frame(users: list[str], base: int, ts: pd.Timestamp) -> pd.DataFrame:
    cols = {
        c.name: [base + i for i in range(len(users))] for c in user_weak_signals.COLUMNS
    }
    return pd.DataFrame(
        {"user_id": users, **cols, "event_timestamp": [ts] * len(users)}
    )


def test_apply_push_read_back(store_cfg: FeatureStoreConfig) -> None:
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    assert {fv.name for fv in store.list_feature_views()} >= {user_weak_signals.VIEW}

    ts = pd.Timestamp("2026-03-01T12:00:00Z")
    store.push("user_weak_signals_push_source", _frame(["u1", "u2"], 10, ts))
    refs = [f"{user_weak_signals.VIEW}:{c.name}" for c in user_weak_signals.COLUMNS]
    got = store.get_online_features(
        features=refs, entity_rows=[{"user_id": u} for u in ("u1", "u2", "nobody")]
    ).to_dict()
    assert got["follow_audiobook_90d"] == [10, 11, None]
    assert got["last_event_ms"] == [10, 11, None]

    # Absolute values: pushing the same frame again changes nothing; a newer one replaces.
    store.push("user_weak_signals_push_source", _frame(["u1", "u2"], 10, ts))
    store.push(
        "user_weak_signals_push_source",
        _frame(["u1"], 42, ts + pd.Timedelta(minutes=1)),
    )
    again = store.get_online_features(
        features=refs, entity_rows=[{"user_id": "u1"}, {"user_id": "u2"}]
    ).to_dict()
    assert again["stream_podcast_90d"] == [42, 11]


def test_unknown_online_store_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="'cassandra' is not supported"):
        FeatureStoreConfig(online="cassandra")  # type: ignore[arg-type]
