"""Content embeddings with the real sentence model: cached, unit norm, written to the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from feature_repo.batch_views import ITEM_CONTENT
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from tests.trainers.conftest import TinyWorld
from trainers.content import embed_items, write_item_content
from trainers.text_model import DEFAULT_TEXT_MODEL

pytestmark = pytest.mark.integration


def test_embed_cache_and_write(tiny: TinyWorld, tmp_path: Path) -> None:
    cat = tiny.catalogue.groupby("item_type").head(15).reset_index(drop=True)
    first = embed_items(cat, None, tmp_path / "cache", progress=False)
    assert first.attrs["n_new"] == 30 and first.attrs["items_per_s"] > 0
    assert (first["text_model"] == DEFAULT_TEXT_MODEL).all()
    emb = np.stack(first["text_embedding"].to_numpy())
    assert emb.shape == (30, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)

    again = embed_items(cat, None, tmp_path / "cache", progress=False)
    assert again.attrs["n_new"] == 0
    np.testing.assert_array_equal(np.stack(again["text_embedding"].to_numpy()), emb)
    changed = cat.copy()
    changed.loc[0, "description"] = "A brand new description."
    assert (
        embed_items(changed, None, tmp_path / "cache", progress=False).attrs["n_new"]
        == 1
    )

    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    apply_definitions(open_store(cfg), cfg)
    write_item_content(first, cfg)
    write_item_content(first, cfg)  # idempotent: one part, replaced
    parts = sorted(p.name for p in (cfg.data_dir / "offline" / ITEM_CONTENT).iterdir())
    assert parts == ["part-empty.parquet", "text-embeddings.parquet"]
    got = (
        open_store(cfg)
        .get_online_features(
            features=[f"{ITEM_CONTENT}:text_embedding", f"{ITEM_CONTENT}:genre"],
            entity_rows=[{"item_id": cat.loc[0, "item_id"]}],
        )
        .to_dict()
    )
    np.testing.assert_allclose(got["text_embedding"][0], emb[0], rtol=1e-6)
    assert got["genre"] == [cat.loc[0, "genre"]]
