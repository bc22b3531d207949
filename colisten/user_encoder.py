"""The user tower's inputs and its numpy runtime, shared by training and serving (no TF).

``build_user_inputs`` turns raw ``two_tower_user_v1`` rows (the dicts Feast returns, full
``view__feature`` names or bare names; a missing user is all None) into tower inputs.
``UserEncoder`` loads an exported version and runs the user tower as a plain numpy
forward pass from the exported weights (the fastest exact runtime for one row: see
bench/two_tower_bench.py), returning L2-normalised 128-d vectors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from colisten import names

WEAK_COUNTS = names.WEAK_SIGNAL_COUNTS
STREAM_COUNTS = names.STREAM_COUNTS
INPUT_ORDER = ("age", "country", "music_taste", "counts", "z_a", "z_p")
"""The user tower concatenates its inputs in this order (country through its embedding)."""
AGE_CENTER, AGE_SCALE = 40.0, 20.0
LN_EPS = 1e-3
"""Keras LayerNormalization's default epsilon, used by the numpy runtime too."""
_VIEW = {
    "age": names.USER_PROFILE_VIEW,
    "country": names.USER_PROFILE_VIEW,
    "music_taste": names.USER_PROFILE_VIEW,
    **{c: names.USER_WEAK_SIGNALS_VIEW for c in WEAK_COUNTS + STREAM_COUNTS},
    **{
        f"recent_{k}": names.USER_RECENT_ITEMS_VIEW
        for k in ("audiobooks", "audiobook_signals", "podcasts", "podcast_signals")
    },
}


@dataclass(frozen=True)
class UserFeatureSpec:
    """Everything needed to turn feature rows into tower inputs; saved in the manifest."""

    countries: tuple[str, ...] = ()
    """Country vocabulary; index 0 is the OOV / missing bucket, country i is i + 1."""
    music_dim: int = 0
    item_dim: int = 128
    """Dimension of the item vectors averaged into z̄_a and z̄_p."""
    use_weak_signals: bool = True
    """False: no weak-signal counts, and recent items only where the newest signal is a
    stream (the Table 1 B ablation)."""
    item_vectors: str = "hgnn"
    """Which item vectors z̄ averages: 'hgnn' (2T-HGNN) or 'text' (plain 2T, no HGNN)."""
    country_dim: int = 8

    @property
    def count_names(self) -> tuple[str, ...]:
        """The count features read, in order."""
        return (WEAK_COUNTS if self.use_weak_signals else ()) + STREAM_COUNTS

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        out = asdict(self)
        out["countries"] = list(self.countries)
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> UserFeatureSpec:
        """Inverse of to_json (unknown keys raise TypeError)."""
        raw = dict(raw)
        raw["countries"] = tuple(raw.get("countries", ()))
        return cls(**raw)


@dataclass
class ItemVectors:
    """Item id -> row of a float32 matrix (the vectors z̄ averages)."""

    ids: Sequence[str]
    matrix: np.ndarray
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, np.float32)
        self.index = {item: i for i, item in enumerate(self.ids)}

    def mean(self, items: Sequence[str]) -> np.ndarray | None:
        """Mean vector of the known items (None when none is known)."""
        rows = [self.index[i] for i in items if i in self.index]
        return self.matrix[rows].mean(axis=0) if rows else None


def _get(row: Mapping[str, Any], name: str) -> Any:
    full = f"{_VIEW[name]}__{name}"
    return row.get(full, row.get(name))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _as_list(value: Any) -> list[Any]:
    if _missing(value):
        return []
    return list(value)


def _mean_of(
    items: Sequence[str], vectors: ItemVectors | Mapping[str, np.ndarray], dim: int
) -> np.ndarray:
    if isinstance(vectors, ItemVectors):
        got = vectors.mean(items)
    else:
        known = [np.asarray(vectors[i], np.float32) for i in items if i in vectors]
        got = np.mean(known, axis=0) if known else None
    return np.zeros(dim, np.float32) if got is None else got.astype(np.float32)


def recent_items(row: Mapping[str, Any], kind: str, streams_only: bool) -> list[str]:
    """A row's recent audiobooks or podcasts (kind), optionally only streamed ones."""
    items = _as_list(_get(row, f"recent_{kind}s"))
    if not streams_only:
        return [str(i) for i in items]
    signals = _as_list(_get(row, f"recent_{kind}_signals"))
    return [str(i) for i, s in zip(items, signals, strict=False) if s == names.STREAM]


def build_user_inputs(
    rows: Sequence[Mapping[str, Any]],
    item_vectors: ItemVectors | Mapping[str, np.ndarray],
    spec: UserFeatureSpec,
) -> dict[str, np.ndarray]:
    """Tower inputs for feature rows; missing features fall back to cold-start defaults."""
    n = len(rows)
    country_ix = {c: i + 1 for i, c in enumerate(spec.countries)}
    out = {
        "age": np.zeros((n, 2), np.float32),
        "country": np.zeros(n, np.int32),
        "music_taste": np.zeros((n, spec.music_dim), np.float32),
        "counts": np.zeros((n, len(spec.count_names)), np.float32),
        "z_a": np.zeros((n, spec.item_dim), np.float32),
        "z_p": np.zeros((n, spec.item_dim), np.float32),
    }
    streams_only = not spec.use_weak_signals
    for i, row in enumerate(rows):
        age = _get(row, "age")
        if not _missing(age) and int(age) >= 0:
            out["age"][i] = ((float(age) - AGE_CENTER) / AGE_SCALE, 1.0)
        country = _get(row, "country")
        out["country"][i] = country_ix.get(country, 0) if country else 0
        taste = _as_list(_get(row, "music_taste"))
        if len(taste) == spec.music_dim:
            out["music_taste"][i] = taste
        for j, col in enumerate(spec.count_names):
            value = _get(row, col)
            out["counts"][i, j] = 0.0 if _missing(value) else np.log1p(float(value))
        for key, kind in (("z_a", "audiobook"), ("z_p", "podcast")):
            items = recent_items(row, kind, streams_only)
            out[key][i] = _mean_of(items, item_vectors, spec.item_dim)
    return out


# -- the numpy runtime -----------------------------------------------------------------


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def mlp_forward(
    x: np.ndarray, weights: Mapping[str, np.ndarray], depth: int
) -> np.ndarray:
    """Dense -> ReLU -> LayerNorm for each hidden layer, a linear last layer, then L2."""
    h = x
    for k in range(depth):
        h = h @ weights[f"dense{k}/kernel"] + weights[f"dense{k}/bias"]
        if k < depth - 1:
            h = np.maximum(h, 0.0)
            mu = h.mean(axis=-1, keepdims=True)
            var = ((h - mu) ** 2).mean(axis=-1, keepdims=True)
            h = (h - mu) / np.sqrt(var + LN_EPS)
            h = h * weights[f"ln{k}/gamma"] + weights[f"ln{k}/beta"]
    return l2_normalize(h)


def user_tower_numpy(
    inputs: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray], depth: int = 3
) -> np.ndarray:
    """The user tower's forward pass in numpy (same maths as the Keras model)."""
    parts = [
        weights["country_embedding"][inputs["country"]]
        if key == "country"
        else inputs[key]
        for key in INPUT_ORDER
    ]
    x = np.concatenate([np.asarray(p, np.float32) for p in parts], axis=1)
    return mlp_forward(x, weights, depth).astype(np.float32)


class UserEncoder:
    """An exported user tower: feature rows in, unit 128-d user vectors out (numpy)."""

    def __init__(
        self,
        spec: UserFeatureSpec,
        weights: Mapping[str, np.ndarray],
        item_vectors: ItemVectors,
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.weights = dict(weights)
        self.item_vectors = item_vectors
        self.manifest = dict(manifest or {})
        self.depth = sum(1 for k in self.weights if k.endswith("/kernel"))

    @classmethod
    def load(cls, model_dir: Path | str) -> UserEncoder:
        """Load manifest.json, user_tower.npz and the item vectors z̄ averages."""
        model_dir = Path(model_dir)
        manifest = json.loads((model_dir / "manifest.json").read_text())
        with np.load(model_dir / "user_tower.npz", allow_pickle=False) as npz:
            weights = {k: npz[k] for k in npz.files}
        with np.load(model_dir / "user_item_vectors.npz", allow_pickle=False) as npz:
            items = ItemVectors([str(i) for i in npz["ids"]], npz["vectors"])
        return cls(
            UserFeatureSpec.from_json(manifest["spec"]), weights, items, manifest
        )

    def inputs(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        """Tower inputs for rows."""
        return build_user_inputs(rows, self.item_vectors, self.spec)

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Unit user vectors [n, dim] for two_tower_user_v1 rows."""
        return user_tower_numpy(self.inputs(rows), self.weights, self.depth)
