"""A small real user tower in numpy, and a writer of two-tower model versions, for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from colisten import names
from colisten.model_store import TWO_TOWER, ModelStore

COUNTS = (
    "user_weak_signals__follow_audiobook_90d",
    "user_weak_signals__preview_audiobook_90d",
    "user_weak_signals__intent_to_pay_audiobook_90d",
    "user_weak_signals__stream_audiobook_90d",
    "user_weak_signals__stream_podcast_90d",
)
RECENT = {
    names.AUDIOBOOK: "user_recent_items__recent_audiobooks",
    names.PODCAST: "user_recent_items__recent_podcasts",
}


class NumpyTower:
    """u = [log1p(counts), age] W_c + mean(recent audiobooks) + 0.5 mean(recent podcasts) + b.

    The recent-item means stand in for z̄_a / z̄_p over HGNN embeddings; a cold-start row
    (all None) gives b plus the profile term, so unknown users still get a vector.
    """

    def __init__(
        self,
        w_counts: np.ndarray,
        bias: np.ndarray,
        items: dict[str, dict[str, np.ndarray]],
    ) -> None:
        self.w_counts, self.bias, self.items = w_counts, bias, items

    @classmethod
    def load(cls, model_dir: Path) -> NumpyTower:
        """Read user_tower.npz and the item vectors of model_dir."""
        with np.load(Path(model_dir) / "user_tower.npz") as npz:
            w_counts, bias = npz["w_counts"], npz["bias"]
        items: dict[str, dict[str, np.ndarray]] = {}
        for t in names.ITEM_TYPES:
            ids = json.loads((Path(model_dir) / f"items_{t}_ids.json").read_text())
            vecs = np.load(Path(model_dir) / f"items_{t}.npy")
            items[t] = dict(zip(ids, vecs, strict=True))
        return cls(w_counts, bias, items)

    def _mean(self, item_type: str, recent: Any) -> np.ndarray:
        vecs = [
            self.items[item_type][i] for i in recent or [] if i in self.items[item_type]
        ]
        return np.mean(vecs, axis=0) if vecs else np.zeros_like(self.bias)

    def encode(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """One vector per raw two_tower_user_v1 row."""
        out = []
        for row in rows:
            age = row.get("user_profile__age")
            x = np.array(
                [np.log1p(row.get(c) or 0) for c in COUNTS]
                + [(age if age is not None and age >= 0 else 30) / 100.0],
                dtype=np.float32,
            )
            u = x @ self.w_counts + self.bias
            u = u + self._mean(names.AUDIOBOOK, row.get(RECENT[names.AUDIOBOOK]))
            u = u + 0.5 * self._mean(names.PODCAST, row.get(RECENT[names.PODCAST]))
            out.append(u)
        return np.asarray(out, dtype=np.float32)


ENCODER_SPEC = "tests.online.tower:NumpyTower"


def random_items(
    n_audiobooks: int, n_podcasts: int, dim: int, seed: int = 0
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Unit item vectors with ids a000000.../p000000..., per type."""
    rng = np.random.default_rng(seed)
    out = {}
    for t, n, prefix in (
        (names.AUDIOBOOK, n_audiobooks, "a"),
        (names.PODCAST, n_podcasts, "p"),
    ):
        vecs = rng.standard_normal((n, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        out[t] = ([f"{prefix}{i:06d}" for i in range(n)], vecs)
    return out


def write_version(
    models_dir: Path,
    version: str,
    items: dict[str, tuple[list[str], np.ndarray]],
    seed: int = 0,
    point_latest: bool = True,
) -> Path:
    """Export a two-tower version as the trainer does; optionally point `latest` at it."""
    dim = next(iter(items.values()))[1].shape[1]
    rng = np.random.default_rng(seed)

    def write(tmp: Path) -> dict[str, Any]:
        np.savez(
            tmp / "user_tower.npz",
            w_counts=(0.1 * rng.standard_normal((len(COUNTS) + 1, dim))).astype(
                np.float32
            ),
            bias=(0.2 * rng.standard_normal(dim)).astype(np.float32),
        )
        for t, (ids, vecs) in items.items():
            np.save(tmp / f"items_{t}.npy", vecs.astype(np.float32))
            (tmp / f"items_{t}_ids.json").write_text(json.dumps(ids))
        return {
            "hgnn_version": "hgnn-test",
            "feature_service": "two_tower_user_v1",
            "cutoff_ms": 1_767_000_000_000,
            "dims": {"user": dim, "item": dim},
        }

    store = ModelStore(models_dir)
    return store.publish(TWO_TOWER, version, write, move_latest=point_latest)
