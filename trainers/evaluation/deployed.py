"""Evaluate the models a deployment trained (HGNN version + exported two-tower) on hold-out days."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from colisten import names
from colisten.world import format as fmt
from feature_repo.config import FeatureStoreConfig
from trainers.evaluation import baselines as bl
from trainers.evaluation.measure import method_metrics
from trainers.evaluation.split import make_eval_set


def evaluate_deployed(
    world: Path,
    store_cfg: FeatureStoreConfig,
    hgnn_version: str,
    two_tower_dir: Path,
    holdout_days: float = 14.0,
    seed: int = 0,
    n_boot: int = 200,
) -> dict[str, Any]:
    """Warm and cold audiobook metrics of Popularity, LLM-KNN, HGNN and the deployed 2T-HGNN.

    Features are the store's own, read point-in-time at the world's split; the hold-out
    is [split, split + holdout_days). Returns {"warm": {...}, "cold": {...}, "counts"}.
    """
    from feature_repo.store import open_store
    from trainers.two_tower.data import hgnn_vectors, historical_user_rows
    from trainers.two_tower.pipeline import load_items

    manifest = fmt.WorldManifest.read(world)
    cutoff = manifest.split_ms
    events = fmt.read_events(world, until_ms=int(cutoff + holdout_days * 86_400_000))
    train = events[events[names.TS] < cutoff]
    es = make_eval_set(events, fmt.read_catalogue(world), cutoff, holdout_days)
    items = load_items(store_cfg, cutoff, None)
    text = {i: items.text[k] for k, i in enumerate(items.ids)}
    hg = hgnn_vectors(store_cfg.data_dir, hgnn_version)
    hgnn = dict(zip(hg[names.ITEM_ID], hg["hgnn_embedding"], strict=True))
    rows = historical_user_rows(
        open_store(store_cfg), es.users, np.full(len(es.users), cutoff)
    )
    scorers = {
        "Popularity": bl.popularity(es),
        "LLM-KNN": bl.knn(es, train, text),
        "HGNN": bl.knn(es, train, hgnn),
        "2T-HGNN (deployed)": bl.two_tower(es, two_tower_dir, rows),
    }
    lists = {name: bl.rank_all(es, s) for name, s in scorers.items()}
    cold_rows = ("Popularity", "2T-HGNN (deployed)")
    return {
        "warm": {
            n: method_metrics(es, lists[n], es.warm, seed, n_boot) for n in scorers
        },
        "cold": {
            n: method_metrics(es, lists[n], ~es.warm, seed, n_boot) for n in cold_rows
        },
        "counts": {
            "candidates": len(es.candidates),
            "warm_users": int(es.warm.sum()),
            "cold_users": int((~es.warm).sum()),
        },
    }
