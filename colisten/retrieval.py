"""Top-k by inner product over unit vectors: exact (numpy) and Annoy, behind one interface.

An index directory holds the index itself (``vectors.npy`` for exact search, ``index.ann``
for Annoy), ``ids.json`` (row i of the index is item ``ids[i]``: Annoy needs dense ints,
so we keep our own id map) and ``manifest.json`` (dim, metric, kind, trees, seed,
search_k, count, model version). Files are written under temporary names and renamed,
manifest last, so a reader that finds the manifest finds a complete index. Both kinds are
loaded with mmap, so several processes serving the same index share its pages.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

Kind = Literal["exact", "annoy"]
Metric = Literal["angular", "dot"]

MANIFEST = "manifest.json"
IDS = "ids.json"
VECTORS = "vectors.npy"
ANNOY_FILE = "index.ann"

DEFAULT_THRESHOLD = 50_000
"""Below this many items exact search is exact and no slower than Annoy at the default
search_k (bench/RESULTS.md, dim 128, k 110): 0.32 ms at 20k and 0.85 ms at 50k
(synthetic); on `medium`'s 30k trained podcast vectors exact took 0.44 ms/query and
Annoy (50 trees, search_k 10k) 0.78 ms at recall@10 0.976."""
DEFAULT_TREES = 50
DEFAULT_SEARCH_FRACTION = 0.04
"""Default Annoy search_k as a share of the catalogue: recall@10 0.99 at 2.2 ms/query on
250k clustered synthetic unit vectors at dim 128 (bench/online_index.py). Unstructured
(uniform) vectors are the worst case for any tree index and need search_k ~ n/2."""
MIN_SEARCH_K = 10_000
DEFAULT_SEED = 42


def choose_kind(n: int, threshold: int = DEFAULT_THRESHOLD) -> Kind:
    """Exact search for catalogues smaller than threshold, Annoy for larger ones."""
    return "exact" if n < threshold else "annoy"


def default_search_k(n: int) -> int:
    """The search_k used when none is configured: a share of n, at least MIN_SEARCH_K."""
    return max(MIN_SEARCH_K, int(DEFAULT_SEARCH_FRACTION * n))


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    return np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)


class TopKIndex(ABC):
    """Top-k items by inner product with a query vector; ids are our own strings."""

    def __init__(self, ids: Sequence[str], manifest: dict[str, Any]) -> None:
        self.ids: tuple[str, ...] = tuple(ids)
        self.row: dict[str, int] = {item: i for i, item in enumerate(self.ids)}
        self.manifest = manifest

    @property
    def count(self) -> int:
        """How many items the index holds."""
        return len(self.ids)

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return int(self.manifest["dim"])

    @abstractmethod
    def _top(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the n best items, best first."""

    @abstractmethod
    def vector(self, item_id: str) -> np.ndarray:
        """The stored vector of one item (KeyError if unknown)."""

    def search(
        self, query: np.ndarray, k: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """The k best (item_id, score) pairs, best first, leaving out excluded ids.

        Over-fetches by the number of excluded ids the index holds, so k remain when the
        catalogue allows; an approximate index widens its fetch until it does.
        """
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query has dim {q.shape[0]}, index has {self.dim}")
        k = min(k, self.count)
        if k <= 0:
            return []
        skip = {self.row[e] for e in exclude if e in self.row}
        want = min(self.count, k + len(skip))
        while True:
            rows, scores = self._top(q, want)
            out = [
                (self.ids[r], float(s))
                for r, s in zip(rows.tolist(), scores.tolist(), strict=True)
                if r not in skip
            ]
            if len(out) >= k or want >= self.count:
                return out[:k]
            want = min(self.count, want * 2)


class ExactIndex(TopKIndex):
    """Brute force over a float32 matrix (mmap'd from vectors.npy)."""

    def __init__(
        self, vectors: np.ndarray, ids: Sequence[str], manifest: dict[str, Any]
    ) -> None:
        super().__init__(ids, manifest)
        if vectors.shape != (len(self.ids), self.dim):
            raise ValueError(
                f"vectors {vectors.shape} do not match {len(self.ids)} ids"
            )
        self.vectors = vectors

    def _top(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors @ query
        if n < len(scores):
            part = np.argpartition(-scores, n - 1)[:n]
        else:
            part = np.arange(len(scores))
        order = part[np.argsort(-scores[part], kind="stable")]
        return order, scores[order]

    def vector(self, item_id: str) -> np.ndarray:
        """The stored vector of one item."""
        return np.asarray(self.vectors[self.row[item_id]], dtype=np.float32)


class AnnoyIndex(TopKIndex):
    """Annoy forest (angular or dot), mmap'd; scores are inner products of unit vectors."""

    def __init__(
        self, index: Any, ids: Sequence[str], manifest: dict[str, Any], search_k: int
    ) -> None:
        super().__init__(ids, manifest)
        self.index = index
        self.search_k = search_k
        self.metric: Metric = manifest["metric"]

    @classmethod
    def load(
        cls, directory: Path, search_k: int | None = None, prefault: bool = False
    ) -> AnnoyIndex:
        """Memory-map a built index; prefault=False lets processes share pages lazily."""
        import annoy

        manifest, ids = _read_meta(directory)
        index = annoy.AnnoyIndex(int(manifest["dim"]), manifest["metric"])
        index.load(str(directory / ANNOY_FILE), prefault=prefault)
        sk = search_k or int(manifest.get("search_k") or default_search_k(len(ids)))
        return cls(index, ids, manifest, sk)

    def _top(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        rows, dist = self.index.get_nns_by_vector(
            query.tolist(), n, search_k=max(self.search_k, n), include_distances=True
        )
        d = np.asarray(dist, dtype=np.float32)
        scores = 1.0 - d * d / 2.0 if self.metric == "angular" else d
        return np.asarray(rows, dtype=np.int64), scores

    def vector(self, item_id: str) -> np.ndarray:
        """The stored vector of one item."""
        return np.asarray(self.index.get_item_vector(self.row[item_id]), np.float32)


def build_index(
    vectors: np.ndarray,
    ids: Sequence[str],
    out_dir: Path,
    kind: Kind,
    *,
    metric: Metric = "angular",
    n_trees: int = DEFAULT_TREES,
    search_k: int | None = None,
    seed: int = DEFAULT_SEED,
    model_version: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write an index of unit-normalised vectors, its id map and manifest into out_dir."""
    mat = normalize(vectors)
    if mat.ndim != 2 or mat.shape[0] != len(ids):
        raise ValueError(f"vectors {mat.shape} do not match {len(ids)} ids")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "kind": kind,
        "dim": int(mat.shape[1]),
        "count": len(ids),
        "metric": metric if kind == "annoy" else "dot",
        "model_version": model_version,
        **(extra or {}),
    }
    if kind == "exact":
        with open(out_dir / f".{VECTORS}.tmp", "wb") as fh:
            np.save(fh, mat)
        os.replace(out_dir / f".{VECTORS}.tmp", out_dir / VECTORS)
    elif kind == "annoy":
        import annoy

        index = annoy.AnnoyIndex(mat.shape[1], metric)
        index.set_seed(seed)
        for i, row in enumerate(mat):
            index.add_item(i, row)
        index.build(n_trees, n_jobs=-1)
        index.save(str(out_dir / f".{ANNOY_FILE}.tmp"))
        index.unload()
        os.replace(out_dir / f".{ANNOY_FILE}.tmp", out_dir / ANNOY_FILE)
        manifest |= {
            "trees": n_trees,
            "seed": seed,
            "search_k": search_k or default_search_k(len(ids)),
        }
    else:
        raise ValueError(f"unknown index kind {kind!r}")
    _write_json(out_dir / IDS, list(ids))
    _write_json(out_dir / MANIFEST, manifest)
    return out_dir


def load_index(
    directory: Path, search_k: int | None = None, prefault: bool = False
) -> TopKIndex:
    """Load an index directory written by build_index (mmap'd, read-only)."""
    directory = Path(directory)
    manifest, ids = _read_meta(directory)
    if manifest["kind"] == "annoy":
        return AnnoyIndex.load(directory, search_k=search_k, prefault=prefault)
    vectors = np.load(directory / VECTORS, mmap_mode="r")
    return ExactIndex(vectors, ids, manifest)


def _read_meta(directory: Path) -> tuple[dict[str, Any], list[str]]:
    manifest = json.loads((directory / MANIFEST).read_text())
    ids = json.loads((directory / IDS).read_text())
    if len(ids) != manifest["count"]:
        raise ValueError(
            f"{directory}: {len(ids)} ids, manifest says {manifest['count']}"
        )
    return manifest, ids


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)
