"""A tiny store filled by the materializer, with fake content, a small HGNN and a 2T-HGNN."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from feature_repo.config import FeatureStoreConfig
from tests.trainers.conftest import TinyWorld
from trainers.content import write_item_content
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.pipeline import run_hgnn
from trainers.materialize.run import MaterializeStats, materialize
from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.pipeline import TwoTowerRun, run_two_tower

SMALL_HGNN = {"hidden_dim": 16, "out_dim": 16, "num_negatives": 2, "max_epochs": 2}
SMALL_2T = {"hidden": (64, 32, 32), "epochs": 20, "threads": 2}


@dataclass
class TinyStore:
    """The tiny world's features in a fresh SQLite + parquet store."""

    cfg: FeatureStoreConfig
    stats: MaterializeStats
    models: Path
    hgnn_version: str


@pytest.fixture(scope="session")
def tiny_store(tiny: TinyWorld, tmp_path_factory: pytest.TempPathFactory) -> TinyStore:
    """Materialize up to the split, fake content, a 2-epoch HGNN."""
    root = tmp_path_factory.mktemp("tt-store")
    cfg = FeatureStoreConfig(online="sqlite", data_dir=root / "feast")
    stats = materialize(tiny.path, cfg, tiny.manifest.split_ms, progress=False)
    write_item_content(tiny.content, cfg)
    version = run_hgnn(
        cfg,
        tiny.manifest.split_ms,
        tiny.catalogue,
        HGNNConfig(**SMALL_HGNN),
        root / "models",
        progress=False,
    )
    return TinyStore(cfg, stats, root / "models", version)


@pytest.fixture(scope="session")
def trained(tiny: TinyWorld, tiny_store: TinyStore) -> TwoTowerRun:
    """2T-HGNN trained and exported on the tiny store."""
    return run_two_tower(
        tiny_store.cfg,
        tiny.events,
        tiny.manifest.split_ms,
        TwoTowerConfig(**SMALL_2T),
        tiny_store.hgnn_version,
        tiny_store.models,
        progress=False,
    )
