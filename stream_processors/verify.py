"""Compare the online store with reference values: used by the demo, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from feast import FeatureStore

from colisten import names
from feature_repo import (
    colisten_edges,
    item_popularity,
    user_recent_items,
    user_weak_signals,
)

_KEYS = {
    user_weak_signals.VIEW: names.USER_ID,
    user_recent_items.VIEW: names.USER_ID,
    colisten_edges.VIEW: names.PAIR_ID,
    item_popularity.VIEW: names.ITEM_ID,
}
_COLUMNS = {
    m.VIEW: [c.name for c in m.COLUMNS]
    for m in (user_weak_signals, user_recent_items, colisten_edges, item_popularity)
}


def read_online(
    store: FeatureStore, view: str, keys: list[str], chunk: int = 2000
) -> pd.DataFrame:
    """Every feature of a view for the given keys, indexed by key (missing keys: NaN rows)."""
    refs = [f"{view}:{c}" for c in _COLUMNS[view]]
    frames = []
    for start in range(0, len(keys), chunk):
        rows = [{_KEYS[view]: k} for k in keys[start : start + chunk]]
        frames.append(
            store.get_online_features(features=refs, entity_rows=rows).to_df()
        )
    if not frames:
        return pd.DataFrame(columns=_COLUMNS[view])
    return pd.concat(frames, ignore_index=True).set_index(_KEYS[view])


def as_records(expected: Any) -> dict[str, dict[str, Any]]:
    """Expected values (a frame indexed by key, or key -> row) as plain key -> row dicts."""
    if isinstance(expected, pd.DataFrame):
        return {
            str(k): {c: _plain(v) for c, v in row.items()}
            for k, row in expected.to_dict("index").items()
        }
    return {
        str(k): {c: _plain(v) for c, v in row.items()} for k, row in expected.items()
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        out = value.tolist() if hasattr(value, "tolist") else list(value)
        return [_plain(v) for v in out] if isinstance(out, list) else out
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def diff_view(
    store: FeatureStore,
    view: str,
    expected: Any,
    extra_keys: list[str] | None = None,
    limit: int = 5,
) -> list[str]:
    """Differences between the online store and expected values of a view (empty: equal).

    Keys in extra_keys but not in expected must read as absent or as all-zero counts (an
    edge whose co-listens all expired keeps a row with n_users 0).
    """
    want = as_records(expected)
    keys = sorted(set(want) | set(extra_keys or []))
    got = read_online(store, view, keys)
    problems: list[str] = []
    for key in keys:
        row = got.loc[key] if key in got.index else None
        actual = (
            None
            if row is None or row.isna().all()
            else {
                c: _plain(row[c]) for c in want.get(key, {c: None for c in got.columns})
            }
        )
        if key not in want:
            if actual is not None and actual.get("n_users", 0) != 0:
                problems.append(f"{view}[{key}]: unexpected row {actual}")
        elif actual != want[key]:
            problems.append(f"{view}[{key}]: store {actual} != reference {want[key]}")
        if len(problems) >= limit:
            break
    return problems


def diff_views(
    store: FeatureStore, expected: Mapping[str, Any], limit: int = 3
) -> list[str]:
    """diff_view over every view of `expected` (view -> expected values); empty: equal."""
    return [
        p
        for v, want in expected.items()
        for p in diff_view(store, v, want, limit=limit)
    ]
