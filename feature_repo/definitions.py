"""The list of every Feast object colisten registers, built for one data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from feature_repo import entities, user_weak_signals

OFFLINE_SCHEMAS: dict[str, pa.Schema] = {
    user_weak_signals.VIEW: user_weak_signals.ARROW_SCHEMA,
}
"""Offline parquet schema of every push-fed view, by view name."""


def objects(data_dir: Path | None = None) -> list[Any]:
    """Entities, sources, views and feature services, with offline rows under data_dir."""
    objs: list[Any] = [entities.user, entities.item, entities.item_pair]
    objs.extend(user_weak_signals.build(data_dir))
    return objs
