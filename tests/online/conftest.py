"""Fixtures of the online tests: a tiny exported model, catalogue and seeded Feast store."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colisten import names
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from online.config import ServeConfig
from tests.online.tower import ENCODER_SPEC, random_items, write_version
from tests.stream_processors.harness import WorkerRig

DIM = 16
N_AUDIOBOOKS, N_PODCASTS = 40, 30
STREAMED = ["a000001", "a000002"]
"""Audiobooks the seeded user u1 streamed (must never be recommended to u1)."""


@dataclass
class OnlineWorld:
    """Paths and items of one isolated serving setup."""

    models_dir: Path
    catalogue: Path
    store_cfg: FeatureStoreConfig
    items: dict[str, tuple[list[str], np.ndarray]]
    now_ms: int

    def serve_config(self, **overrides: object) -> ServeConfig:
        """A ServeConfig for this world (fast reloads, generous feature timeout)."""
        values: dict[str, object] = dict(
            models_dir=self.models_dir,
            index_dir=self.models_dir.parent / "serving",
            catalogue=self.catalogue,
            encoder=ENCODER_SPEC,
            store=self.store_cfg,
            feature_timeout_ms=2000,
            reload_interval_s=0.2,
            k_max=50,
        )
        values.update(overrides)
        return ServeConfig(**values)  # type: ignore[arg-type]


def write_catalogue(path: Path, items: dict[str, tuple[list[str], np.ndarray]]) -> None:
    """catalogue.parquet with a title and genre per item."""
    rows = [
        {
            names.ITEM_ID: i,
            names.ITEM_TYPE: t,
            "title": f"Title of {i}",
            "genre": "FIC000000" if t == names.AUDIOBOOK else "news",
        }
        for t, (ids, _) in items.items()
        for i in ids
    ]
    pd.DataFrame(rows).to_parquet(path)


def seed_store(
    cfg: FeatureStoreConfig, items: dict[str, tuple[list[str], np.ndarray]], now_ms: int
) -> None:
    """u1's features, item popularity and HGNN embeddings in the online store."""
    store = open_store(cfg)
    apply_definitions(store, cfg)
    ts = pd.Timestamp(now_ms, unit="ms", tz="UTC")
    store.write_to_online_store(
        "user_recent_items",
        pd.DataFrame(
            [
                {
                    names.USER_ID: "u1",
                    "recent_audiobooks": [*STREAMED, "a000003"],
                    "recent_audiobook_signals": ["stream", "stream", "follow"],
                    "recent_audiobook_ms": [now_ms - 3, now_ms - 2, now_ms - 1],
                    "recent_podcasts": ["p000004"],
                    "recent_podcast_signals": ["stream"],
                    "recent_podcast_ms": [now_ms - 5],
                    "last_event_ms": now_ms - 1,
                    names.EVENT_TIMESTAMP: ts,
                }
            ]
        ),
    )
    store.write_to_online_store(
        "user_weak_signals",
        pd.DataFrame(
            [
                {
                    names.USER_ID: "u1",
                    "follow_audiobook_90d": 1,
                    "preview_audiobook_90d": 0,
                    "intent_to_pay_audiobook_90d": 0,
                    "stream_audiobook_90d": 2,
                    "stream_podcast_90d": 1,
                    "last_event_ms": now_ms - 1,
                    names.EVENT_TIMESTAMP: ts,
                }
            ]
        ),
    )
    pop, hgnn = [], []
    for t, (ids, vecs) in items.items():
        for rank, (i, v) in enumerate(zip(ids, vecs, strict=True)):
            pop.append(
                {
                    names.ITEM_ID: i, names.ITEM_TYPE: t, "users_90d": len(ids) - rank,
                    "streams_90d": 2 * (len(ids) - rank), "users_14d": 1,
                    "streams_14d": 1, names.EVENT_TIMESTAMP: ts,
                }
            )  # fmt: skip
            hgnn.append(
                {
                    names.ITEM_ID: i, names.ITEM_TYPE: t, "hgnn_embedding": v[::-1].copy(),
                    "hgnn_version": "hgnn-test", "hgnn_cutoff_ms": now_ms,
                    names.EVENT_TIMESTAMP: ts,
                }
            )  # fmt: skip
    store.write_to_online_store("item_popularity", pd.DataFrame(pop))
    store.write_to_online_store("item_hgnn_embedding", pd.DataFrame(hgnn))


@pytest.fixture
def online_world(tmp_path: Path) -> OnlineWorld:
    """A model version v1, its catalogue, and a seeded SQLite store."""
    items = random_items(N_AUDIOBOOKS, N_PODCASTS, DIM, seed=1)
    models = tmp_path / "models"
    write_version(models, "v1", items, seed=1)
    catalogue = tmp_path / "catalogue.parquet"
    write_catalogue(catalogue, items)
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    now_ms = int(time.time() * 1000)
    seed_store(store_cfg, items, now_ms)
    return OnlineWorld(models, catalogue, store_cfg, items, now_ms)


def serving_rig(
    make_topic: Callable[..., str],
    tmp_path: Path,
    bootstrap: str,
    partitions: int = 2,
    **serve: str,
) -> tuple[WorkerRig, dict[str, str], dict[str, tuple[list[str], np.ndarray]]]:
    """Fresh topics and SQLite store (seeded as seed_store), model v1 and its catalogue;
    returns the stream rig (not started), the environment of an API serving them, and
    v1's items."""
    from tests.online.server import api_env

    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    rig = WorkerRig.create(make_topic, store_cfg, tmp_path, partitions=partitions)
    items = random_items(N_AUDIOBOOKS, N_PODCASTS, DIM, seed=1)
    seed_store(store_cfg, items, int(time.time() * 1000))
    write_version(tmp_path / "models", "v1", items, seed=1)
    write_catalogue(tmp_path / "catalogue.parquet", items)
    env = api_env(
        tmp_path / "models",
        store_cfg,
        tmp_path / "catalogue.parquet",
        bootstrap,
        rig.interactions,
        **serve,
    )
    return rig, env, items
