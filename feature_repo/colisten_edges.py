"""colisten_edges: per item pair, the distinct users who touched both within 90 days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import FeatureView, PushSource

from colisten import names
from feature_repo.entities import item_pair
from feature_repo.schema import Column, arrow_schema
from feature_repo.sources import push_fed_view

VIEW = names.COLISTEN_EDGES_VIEW
WINDOW = timedelta(days=90)

COLUMNS = [
    Column(
        "src_item", "string", "First item of the canonical pair (the audiobook for ap)."
    ),
    Column("dst_item", "string", "Second item of the canonical pair."),
    Column("relation", "string", "aa, ap or pp."),
    Column("n_users", "int64", "Distinct users who touched both items within 90 days."),
    Column(
        "first_colisten_ms", "int64", "Earliest co-listen (UTC ms) still in the window."
    ),
    Column("last_colisten_ms", "int64", "Latest co-listen (UTC ms)."),
]
ARROW_SCHEMA = arrow_schema(names.PAIR_ID, COLUMNS)


def build(data_dir: Path | None = None) -> tuple[PushSource, FeatureView]:
    """The push source and feature view, with offline rows under data_dir."""
    return push_fed_view(
        VIEW,
        item_pair,
        COLUMNS,
        WINDOW,
        "Item-item co-listening edges of the HGNN graph (distinct users).",
        {"stage": "stream", "window": "90d"},
        data_dir,
    )


colisten_edges_push_source, colisten_edges_fv = build()
