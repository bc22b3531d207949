"""run_two_tower: store (as of a cut-off) -> training data -> train -> export + registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from colisten import names
from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.data import (
    ItemTable,
    TrainingData,
    build_training_data,
    hgnn_vectors,
    labels_from_events,
)
from trainers.two_tower.train import TrainResult, train_two_tower

if TYPE_CHECKING:
    from feature_repo.config import FeatureStoreConfig


@dataclass
class TwoTowerRun:
    """A trained and exported two-tower version."""

    model_dir: Path | None
    result: TrainResult
    data: TrainingData


def load_items(
    store_cfg: FeatureStoreConfig, cutoff_ms: int, hgnn_version: str | None
) -> ItemTable:
    """item_content as of the cut-off, plus one HGNN version's embeddings (if given)."""
    from feature_repo.store import open_store
    from trainers.store_loader import load_item_content

    content = load_item_content(open_store(store_cfg), None, cutoff_ms)
    hgnn = hgnn_vectors(store_cfg.data_dir, hgnn_version) if hgnn_version else None
    return ItemTable.build(content, hgnn)


def run_two_tower(
    store_cfg: FeatureStoreConfig,
    events: pd.DataFrame,
    cutoff_ms: int,
    cfg: TwoTowerConfig,
    hgnn_version: str | None,
    models_dir: Path | None = None,
    items: ItemTable | None = None,
    export: bool = True,
    progress: bool = True,
    cache: dict[tuple[str, int], list[dict[str, Any]]] | None = None,
) -> TwoTowerRun:
    """Train on labels with ts < cutoff_ms and point-in-time features; export it."""
    from feature_repo.store import open_store
    from trainers.two_tower.export import export_two_tower

    if cfg.use_hgnn and not hgnn_version:
        raise ValueError("2T-HGNN needs an HGNN version (or use_hgnn=False)")
    items = items or load_items(
        store_cfg, cutoff_ms, hgnn_version if cfg.use_hgnn else None
    )
    labels = labels_from_events(events, cutoff_ms, cfg.target_type)
    data = build_training_data(open_store(store_cfg), labels, items, cfg, cache)
    assert data.labels.empty or int(data.labels[names.TS].max()) < cutoff_ms
    result = train_two_tower(data, cfg, progress=progress)
    model_dir = None
    if export:
        meta = {
            "hgnn_version": hgnn_version if cfg.use_hgnn else None,
            "cutoff_ms": cutoff_ms,
        }
        model_dir = export_two_tower(result, data, cfg, meta, models_dir)
    return TwoTowerRun(model_dir, result, data)
