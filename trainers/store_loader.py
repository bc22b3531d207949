"""The only Feast reader of the trainers: point-in-time edges and item content as of a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from colisten import names

if TYPE_CHECKING:  # Feast is slow to import; only these loaders need it
    from feast import FeatureStore

EDGES_VIEW = names.COLISTEN_EDGES_VIEW
CONTENT_VIEW = names.ITEM_CONTENT_VIEW
EDGE_COLUMNS = [
    "src_item",
    "dst_item",
    "relation",
    "n_users",
    "first_colisten_ms",
    "last_colisten_ms",
]
CONTENT_COLUMNS = ["item_type", "text_embedding", "text_model", "language", "genre"]
"""Feature columns read (as declared in feature_repo.colisten_edges / batch_views)."""


@dataclass(frozen=True)
class GraphInputs:
    """Edges and item content as the store knew them at cutoff_ms."""

    edges: pd.DataFrame
    content: pd.DataFrame
    cutoff_ms: int


def _offline_glob(store: FeatureStore, view: str) -> str:
    source = store.get_feature_view(view).batch_source
    return str(getattr(source, "batch_source", source).path)


def keys_at_or_before(
    store: FeatureStore, view: str, key: str, as_of_ms: int
) -> list[str]:
    """Distinct join keys of a view with an offline row stamped at or before as_of_ms."""
    as_of = pd.Timestamp(as_of_ms, unit="ms", tz="UTC").to_pydatetime()
    query = (
        f"SELECT DISTINCT {key} FROM read_parquet(?) "
        f"WHERE {names.EVENT_TIMESTAMP} <= ? ORDER BY 1"
    )
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute(query, [_offline_glob(store, view), as_of]).fetchall()
    return [r[0] for r in rows]


def _historical(
    store: FeatureStore,
    view: str,
    key: str,
    keys: list[str],
    cols: list[str],
    as_of_ms: int,
) -> pd.DataFrame:
    as_of = pd.Timestamp(as_of_ms, unit="ms", tz="UTC")
    entity_df = pd.DataFrame({key: keys, names.EVENT_TIMESTAMP: as_of})
    if not keys:
        return pd.DataFrame(columns=[key, *cols])
    job = store.get_historical_features(
        entity_df=entity_df, features=[f"{view}:{c}" for c in cols]
    )
    frame = job.to_df()
    return frame[[key, *cols]].sort_values(key).reset_index(drop=True)


def load_item_content(
    store: FeatureStore, item_ids: list[str] | None, as_of_ms: int
) -> pd.DataFrame:
    """item_content point-in-time as of as_of_ms (all items with rows then, by default).

    Rows the view's TTL hides (items released long before as_of) are taken from the same
    offline parquet with the same rule (latest row at or before as_of), so old catalogue
    items are not silently dropped.
    """
    view = CONTENT_VIEW
    known = keys_at_or_before(store, view, names.ITEM_ID, as_of_ms)
    keys = known if item_ids is None else sorted(set(item_ids) & set(known))
    frame = _historical(store, view, names.ITEM_ID, keys, CONTENT_COLUMNS, as_of_ms)
    missing = frame[frame["text_embedding"].isna()][names.ITEM_ID].tolist()
    if missing:
        frame = frame[frame["text_embedding"].notna()]
        frame = pd.concat([frame, _asof_direct(store, view, missing, as_of_ms)])
    return frame.sort_values(names.ITEM_ID).reset_index(drop=True)


def _asof_direct(
    store: FeatureStore, view: str, keys: list[str], as_of_ms: int
) -> pd.DataFrame:
    as_of = pd.Timestamp(as_of_ms, unit="ms", tz="UTC").to_pydatetime()
    cols = ", ".join(CONTENT_COLUMNS)
    query = (
        f"SELECT {names.ITEM_ID}, {cols} FROM read_parquet(?) "
        f"WHERE {names.EVENT_TIMESTAMP} <= ? AND {names.ITEM_ID} IN (SELECT unnest(?)) "
        f"QUALIFY row_number() OVER (PARTITION BY {names.ITEM_ID} "
        f"ORDER BY {names.EVENT_TIMESTAMP} DESC) = 1"
    )
    import duckdb

    with duckdb.connect() as con:
        return con.execute(query, [_offline_glob(store, view), as_of, keys]).df()


def load_graph_inputs(store: FeatureStore, cutoff_ms: int) -> GraphInputs:
    """colisten_edges and item_content point-in-time as of cutoff_ms (nothing after it)."""
    view = EDGES_VIEW
    pairs = keys_at_or_before(store, view, names.PAIR_ID, cutoff_ms)
    edges = _historical(store, view, names.PAIR_ID, pairs, EDGE_COLUMNS, cutoff_ms)
    edges = edges.dropna(subset=["relation"])  # rows older than the view's 90-day TTL
    edges = edges.astype(
        {"n_users": "int64", "first_colisten_ms": "int64", "last_colisten_ms": "int64"}
    )
    content = load_item_content(store, None, cutoff_ms)
    return GraphInputs(
        edges=edges.reset_index(drop=True), content=content, cutoff_ms=cutoff_ms
    )
