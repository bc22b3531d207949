"""The list of every Feast object colisten registers, built for one data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from feast import FeatureView

from colisten import names
from feature_repo import (
    batch_views,
    colisten_edges,
    entities,
    feature_services,
    item_popularity,
    user_recent_items,
    user_weak_signals,
)
from feature_repo.online_write import ViewLayout

PUSH_FED = (user_weak_signals, user_recent_items, colisten_edges, item_popularity)

PUSH_FED_LAYOUTS = (
    ViewLayout(user_weak_signals.VIEW, names.USER_ID, user_weak_signals.COLUMNS),
    ViewLayout(user_recent_items.VIEW, names.USER_ID, user_recent_items.COLUMNS),
    ViewLayout(colisten_edges.VIEW, names.PAIR_ID, colisten_edges.COLUMNS),
    ViewLayout(item_popularity.VIEW, names.ITEM_ID, item_popularity.COLUMNS),
)
"""How the stream views' online rows are keyed and typed (for OnlineWriter)."""

OFFLINE_SCHEMAS: dict[str, pa.Schema] = {
    **{m.VIEW: m.ARROW_SCHEMA for m in PUSH_FED},
    **batch_views.ARROW_SCHEMAS,
}
"""Offline parquet schema of every view, by view name."""


def objects(data_dir: Path | None = None) -> list[Any]:
    """Entities, sources, views and feature services, with offline rows under data_dir."""
    objs: list[Any] = [entities.user, entities.item, entities.item_pair]
    views: dict[str, FeatureView] = {}
    for module in PUSH_FED:
        source, view = module.build(data_dir)
        objs += [source, view]
        views[view.name] = view
    for view in batch_views.build(data_dir):
        objs.append(view)
        views[view.name] = view
    objs.extend(feature_services.build(views))
    return objs
