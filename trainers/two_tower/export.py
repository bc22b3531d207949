"""Publish a trained two-tower version in the model store (models/two_tower/<version>/).

Files: user_tower.keras and user_tower.npz (weights for the numpy runtime),
item_tower.keras, user_item_vectors.npz (the item vectors z̄ averages), items_<type>.npy
and items_<type>_ids.json (the item tower applied to every item of each type: the format
the API loads, mmap-friendly), index_<target type>/ (colisten.retrieval, loaded by the API
as is), model.pt (the same weights as tensors, so trainers.registry can list and load it)
and manifest.json (written by the store, which renames the folder into place and moves
`latest`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from colisten import names
from colisten.model_store import TWO_TOWER, ModelStore, version_name
from trainers.registry import write_model_file
from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.data import SERVICE, TrainingData
from trainers.two_tower.train import TrainResult, apply_model

KIND = TWO_TOWER


def item_vectors(
    result: TrainResult, data: TrainingData, item_type: str
) -> tuple[list[str], np.ndarray]:
    """(ids, unit vectors) of every item of a type through the trained item tower."""
    rows = data.items.rows_of(item_type)
    vecs = apply_model(result.item_model, data.items.inputs(rows, data.item_spec))
    return [data.items.ids[r] for r in rows], vecs.astype(np.float32)


def export_two_tower(
    result: TrainResult,
    data: TrainingData,
    cfg: TwoTowerConfig,
    meta: dict[str, Any],
    models_dir: Path | None = None,
    build_index: bool = True,
) -> Path:
    """Publish a complete version in the model store (`latest` moves); return its dir."""
    import torch

    from trainers.two_tower.model import tower_weights

    weights = tower_weights(result.user_model)  # type: ignore[arg-type]
    version = version_name(
        (k, np.ascontiguousarray(v).tobytes()) for k, v in weights.items()
    )

    def write(tmp: Path) -> dict[str, Any]:
        result.user_model.save(tmp / "user_tower.keras")  # type: ignore[attr-defined]
        result.item_model.save(tmp / "item_tower.keras")  # type: ignore[attr-defined]
        np.savez(tmp / "user_tower.npz", **weights)
        zsrc = data.items.user_vectors(cfg.use_hgnn)
        np.savez(
            tmp / "user_item_vectors.npz", ids=np.array(zsrc.ids), vectors=zsrc.matrix
        )
        counts = {}
        for itype in names.ITEM_TYPES:
            ids, vecs = item_vectors(result, data, itype)
            save_item_vectors(tmp, itype, ids, vecs)
            counts[itype] = len(ids)
            if build_index and itype == cfg.target_type:
                _index(vecs, ids, tmp / f"index_{itype}", version)
        manifest = {
            "hgnn_version": meta.get("hgnn_version"),
            "feature_service": SERVICE,
            "cutoff_ms": meta.get("cutoff_ms"),
            "dims": {
                "user": int(weights[f"dense{len(cfg.hidden) - 1}/bias"].shape[0]),
                "z": data.user_spec.item_dim,
                "text": data.item_spec.text_dim,
                "hgnn": data.item_spec.hgnn_dim,
            },
            "spec": data.user_spec.to_json(),
            "item_spec": {
                "languages": list(data.item_spec.languages),
                "genres": list(data.item_spec.genres),
            },
            "config": cfg.to_json(),
            "items": counts,
            "labels": int(len(data.label_rows)),
            "history": result.history,
            "index": build_index,
            **{k: v for k, v in meta.items() if k not in ("hgnn_version", "cutoff_ms")},
        }
        state = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
        full = {**manifest, "kind": KIND, "version": version}
        write_model_file(tmp, state, cfg.to_json(), full)
        return manifest

    store = ModelStore(models_dir) if models_dir is not None else ModelStore.default()
    return store.publish(KIND, version, write)


def save_item_vectors(
    version_dir: Path, item_type: str, ids: list[str], vectors: np.ndarray
) -> None:
    """items_<type>.npy (float32 rows) and items_<type>_ids.json (row i is ids[i])."""
    np.save(version_dir / f"items_{item_type}.npy", np.asarray(vectors, np.float32))
    (version_dir / f"items_{item_type}_ids.json").write_text(json.dumps(list(ids)))


def load_item_vectors(
    version_dir: Path, item_type: str
) -> tuple[list[str], np.ndarray]:
    """The ids and vectors save_item_vectors wrote (vectors mmap'd)."""
    ids = json.loads((version_dir / f"items_{item_type}_ids.json").read_text())
    return ids, np.load(version_dir / f"items_{item_type}.npy", mmap_mode="r")


def _index(vecs: np.ndarray, ids: list[str], out: Path, version: str) -> None:
    from colisten.retrieval import build_index, choose_kind

    build_index(
        vecs,
        ids,
        out,
        choose_kind(len(ids)),
        model_version=version,
        extra={"feature_service": SERVICE},
    )
