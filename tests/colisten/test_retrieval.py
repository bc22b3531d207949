"""Exact and Annoy top-k behind one interface: hand-made answers, recall, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from colisten.retrieval import (
    AnnoyIndex,
    ExactIndex,
    build_index,
    choose_kind,
    load_index,
)


def _unit(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


HAND = np.array(
    [[1, 0, 0], [0.8, 0.6, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0]], np.float32
)
HAND_IDS = ["x", "y", "z", "w", "v"]


def test_exact_top_k_on_hand_made_vectors(tmp_path: Path) -> None:
    index = load_index(build_index(HAND, HAND_IDS, tmp_path, "exact"))
    assert isinstance(index, ExactIndex)
    hits = index.search(np.array([1, 0, 0], np.float32), 3)
    assert [h[0] for h in hits] == ["x", "y", "z"]
    assert [round(h[1], 4) for h in hits] == [1.0, 0.8, 0.0]
    assert index.search(np.array([0, 0, 1], np.float32), 1) == [("w", 1.0)]


@pytest.mark.parametrize("kind", ["exact", "annoy"])
def test_exclusions_over_fetch_to_leave_k(tmp_path: Path, kind: str) -> None:
    index = load_index(build_index(HAND, HAND_IDS, tmp_path, kind))  # type: ignore[arg-type]
    hits = index.search(np.array([1, 0, 0], np.float32), 2, exclude={"x", "y", "nope"})
    assert [h[0] for h in hits] == ["z", "w"] or [h[0] for h in hits] == ["w", "z"]
    assert len(index.search(np.array([1, 0, 0], np.float32), 10, exclude={"x"})) == 4


def test_annoy_recall_at_10_with_defaults(tmp_path: Path) -> None:
    vecs, ids = _unit(5000, 64, 0), [f"i{i}" for i in range(5000)]
    exact = load_index(build_index(vecs, ids, tmp_path / "e", "exact"))
    annoy = load_index(build_index(vecs, ids, tmp_path / "a", "annoy"))
    assert isinstance(annoy, AnnoyIndex)
    queries = _unit(100, 64, 1)
    recall = np.mean(
        [
            len(
                {i for i, _ in annoy.search(q, 10)}
                & {i for i, _ in exact.search(q, 10)}
            )
            / 10
            for q in queries
        ]
    )
    assert recall >= 0.95, recall
    top = annoy.search(queries[0], 1)[0]
    assert top[1] == pytest.approx(float(exact.vector(top[0]) @ queries[0]), abs=1e-4)


@pytest.mark.parametrize("kind", ["exact", "annoy"])
def test_save_load_round_trip(tmp_path: Path, kind: str) -> None:
    vecs, ids = _unit(200, 8, 2), [f"item-{i}" for i in range(200)]
    out = build_index(vecs, ids, tmp_path, kind, model_version="v7")  # type: ignore[arg-type]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["count"] == 200 and manifest["dim"] == 8
    assert manifest["kind"] == kind and manifest["model_version"] == "v7"
    if kind == "annoy":
        assert {"trees", "seed", "search_k", "metric"} <= set(manifest)
    a, b = load_index(out), load_index(out)
    q = vecs[17]
    assert a.search(q, 5) == b.search(q, 5)
    assert a.search(q, 1)[0][0] == "item-17"
    np.testing.assert_allclose(a.vector("item-3"), vecs[3], atol=1e-6)


def test_choose_kind_and_bad_input(tmp_path: Path) -> None:
    assert choose_kind(10, 100) == "exact" and choose_kind(100, 100) == "annoy"
    with pytest.raises(ValueError):
        build_index(HAND, ["a", "a", "b", "c", "d"], tmp_path, "exact")
    index = load_index(build_index(HAND, HAND_IDS, tmp_path, "exact"))
    with pytest.raises(ValueError):
        index.search(np.ones(4, np.float32), 1)
