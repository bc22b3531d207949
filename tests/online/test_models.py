"""Serving-time indexes: built outside the model store, keyed by what they are built from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from online.config import ServeConfig
from online.models import _ensure_index


def _vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_same_version_name_with_other_vectors_gets_its_own_index(
    tmp_path: Path,
) -> None:
    cfg = ServeConfig(models_dir=tmp_path / "models", index_dir=tmp_path / "serving")
    where = cfg.index_dir / "two_tower" / "v1" / "index_audiobook"
    a_ids, b_ids = [f"a{i}" for i in range(20)], [f"b{i}" for i in range(30)]
    a = _ensure_index(_vectors(20, 1), a_ids, where, cfg, "v1")
    b = _ensure_index(_vectors(30, 2), b_ids, where, cfg, "v1")
    assert list(a.ids) == a_ids and list(b.ids) == b_ids
    # the same inputs find the index already built (one folder per input, two in all)
    again = _ensure_index(_vectors(20, 1), a_ids, where, cfg, "v1")
    assert list(again.ids) == a_ids
    assert len([p for p in where.parent.iterdir() if not p.name.startswith(".")]) == 2
    assert not (tmp_path / "models").exists(), "the API never writes the model store"


def test_default_index_dir_is_outside_the_model_store(tmp_path: Path) -> None:
    cfg = ServeConfig(models_dir=tmp_path / "models")
    assert not cfg.index_dir.is_relative_to(cfg.models_dir)
