"""Item content embeddings: embed title + description once per (model, text), write item_content."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from colisten import names, settings
from trainers.text_model import load_sentence_model, text_model_name

if TYPE_CHECKING:
    from feature_repo.config import FeatureStoreConfig

CONTENT_PART = "text-embeddings"
"""Offline part name: each run replaces the whole catalogue snapshot (idempotent)."""
CACHE_FILE = "embeddings.parquet"


def default_cache_dir() -> Path:
    """COLISTEN_CACHE_DIR, else cache/text under the state dir (COLISTEN_HOME)."""
    return settings.cache_dir()


def item_text(catalogue: pd.DataFrame) -> pd.Series:
    """The text embedded for each item: 'title. description'."""
    return catalogue["title"].fillna("") + ". " + catalogue["description"].fillna("")


def cache_key(model_name: str, text: str) -> str:
    """sha256 of the model name and the text."""
    return hashlib.sha256(f"{model_name}\n{text}".encode()).hexdigest()


def _cache_path(cache_dir: Path, model_name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name).strip("_")
    return Path(cache_dir) / slug / CACHE_FILE


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    table = pq.read_table(path)
    keys = table.column("key").to_pylist()
    vecs = table.column("embedding").to_numpy(zero_copy_only=False)
    return dict(zip(keys, vecs, strict=True))


def _write_cache(path: Path, cache: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(cache)
    table = pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "embedding": pa.array(
                [np.asarray(cache[k], np.float32) for k in keys], pa.list_(pa.float32())
            ),
        }
    )
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def embed_items(
    catalogue_df: pd.DataFrame,
    model_name: str | None,
    cache_dir: Path,
    batch_size: int = 64,
    progress: bool = True,
) -> pd.DataFrame:
    """item_content rows for every catalogue item, embedding only texts not in the cache.

    ``frame.attrs`` gets ``n_new`` (items embedded now), ``seconds`` and ``items_per_s``.
    """
    model_name = text_model_name(model_name)
    texts = item_text(catalogue_df).tolist()
    keys = [cache_key(model_name, t) for t in texts]
    path = _cache_path(cache_dir, model_name)
    cache = _read_cache(path)
    todo = sorted(
        {k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items()
    )
    t0 = time.perf_counter()
    if todo:
        model = load_sentence_model(model_name)
        vecs = model.encode(
            [t for _, t in todo],
            batch_size=batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        cache.update(
            {k: v.astype(np.float32) for (k, _), v in zip(todo, vecs, strict=True)}
        )
        _write_cache(path, cache)
    seconds = time.perf_counter() - t0
    frame = pd.DataFrame(
        {
            names.ITEM_ID: catalogue_df[names.ITEM_ID].to_numpy(),
            names.ITEM_TYPE: catalogue_df[names.ITEM_TYPE].to_numpy(),
            "text_embedding": [cache[k].tolist() for k in keys],
            "text_model": model_name,
            "language": catalogue_df["language"].to_numpy(),
            "genre": catalogue_df["genre"].to_numpy(),
            names.EVENT_TIMESTAMP: pd.to_datetime(
                catalogue_df["release_date"], utc=True
            ).to_numpy(),
        }
    )
    frame[names.EVENT_TIMESTAMP] = pd.to_datetime(
        frame[names.EVENT_TIMESTAMP], utc=True
    )
    frame.attrs.update(
        n_new=len(todo),
        seconds=seconds,
        items_per_s=len(todo) / seconds if todo and seconds > 0 else 0.0,
    )
    return frame


def write_item_content(frame: pd.DataFrame, store_cfg: FeatureStoreConfig) -> Path:
    """Write rows to item_content: one idempotent offline part, then the online store."""
    from feature_repo.batch_views import ARROW_SCHEMAS, ITEM_CONTENT
    from feature_repo.offline import write_offline_part
    from feature_repo.store import open_store

    rows = frame.copy()
    rows["text_embedding"] = [np.asarray(v, np.float32) for v in rows["text_embedding"]]
    part = write_offline_part(
        ITEM_CONTENT,
        rows,
        ARROW_SCHEMAS[ITEM_CONTENT],
        CONTENT_PART,
        store_cfg.data_dir,
    )
    open_store(store_cfg).write_to_online_store(ITEM_CONTENT, rows)
    return part
