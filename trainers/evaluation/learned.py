"""Train the learned rows for one seed: HGNNs (full and ablations), two-towers, tripartite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm import tqdm

from trainers.evaluation.config import ABLATION_ROWS, EvalConfig
from trainers.evaluation.plan import FULL, make_plan

# Imported eagerly, before the store and the content stage run: loading torch_geometric
# (and with it triton's native library) after them crashed the process (segfault).
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.pipeline import run_hgnn
from trainers.hgnn.with_users import train_with_users
from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.pipeline import load_items, run_two_tower

if TYPE_CHECKING:
    from feature_repo.config import FeatureStoreConfig


@dataclass(frozen=True)
class TrainContext:
    """What every learned row trains on: the store as of the cut-off and its events."""

    store_cfg: FeatureStoreConfig
    cutoff_ms: int
    catalogue: pd.DataFrame
    train_events: pd.DataFrame
    progress: bool


def seed_dir(models: Path, seed: int, seeds: tuple[int, ...]) -> Path:
    """Where one seed's models go: models/ for a single seed, else models/seed-<seed>."""
    return models if len(seeds) == 1 else models / f"seed-{seed}"


def hgnn_config(cfg: EvalConfig, seed: int, ablation: str | None = None) -> HGNNConfig:
    """The HGNN config of one seed (and, if given, one Table 1 ablation key)."""
    base: dict[str, Any] = {
        "max_epochs": cfg.hgnn_epochs,
        "patience": cfg.hgnn_patience,
        "seed": seed,
        "num_threads": cfg.threads,
        **cfg.hgnn_overrides,
    }
    if ablation is not None:
        base["ablation"] = ABLATION_ROWS[ablation][1]
    return HGNNConfig(**base)


def train_hgnns(
    ctx: TrainContext,
    cfg: EvalConfig,
    seed: int,
    models: Path,
    have: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """HGNN versions of one seed by plan key: each ablation letter, then FULL (last).

    Keys in `have` (versions an earlier run trained) are taken from it, not trained.
    """
    have = have or {}
    return {
        key: have[key]
        if key in have
        else run_hgnn(
            ctx.store_cfg,
            ctx.cutoff_ms,
            ctx.catalogue,
            hgnn_config(cfg, seed, None if key == FULL else key),
            models,
            ctx.progress,
        )
        for key in make_plan(cfg).hgnn_keys
    }


def two_tower_variants(
    cfg: EvalConfig, seed: int, hv: dict[str, str]
) -> dict[str, tuple[TwoTowerConfig, str | None]]:
    """Every two-tower row of one seed by row key: its config and the HGNN it reads."""
    tbase = TwoTowerConfig(
        epochs=cfg.tt_epochs, hidden=cfg.tt_hidden, seed=seed, threads=cfg.threads
    )
    return {
        row.key: (
            replace(tbase, **row.two_tower),
            hv[row.hgnn] if row.hgnn is not None else None,
        )
        for row in make_plan(cfg).two_towers()
    }


def train_two_towers(
    ctx: TrainContext,
    variants: dict[str, tuple[TwoTowerConfig, str | None]],
    models: Path,
    cache: dict[tuple[str, int], list[dict[str, Any]]],
    have: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Train and export each variant; per name its model dir and training record.

    Names in `have` (records of an earlier run's models) are taken from it, not trained.
    """
    import time

    have = have or {}
    todo = {k: v for k, v in variants.items() if k not in have}
    done = {}
    for name, (tcfg, version) in tqdm(
        todo.items(), desc="two-towers", disable=not ctx.progress
    ):
        items = load_items(ctx.store_cfg, ctx.cutoff_ms, version)
        t0 = time.perf_counter()
        run = run_two_tower(
            ctx.store_cfg,
            ctx.train_events,
            ctx.cutoff_ms,
            tcfg,
            version,
            models,
            items,
            progress=ctx.progress,
            cache=cache,
        )
        done[name] = {
            "dir": run.model_dir,
            "history": run.result.history,
            "labels": len(run.data.label_rows),
            "seconds": time.perf_counter() - t0,
            "feature_max_ms": run.data.feature_max_ms,
        }
    return {k: have[k] if k in have else done[k] for k in variants}


def train_tripartite(ctx: TrainContext, cfg: EvalConfig, seed: int) -> Any:
    """HGNN-w-users of one seed (user and item node embeddings)."""
    from feature_repo.store import open_store
    from trainers.store_loader import load_item_content

    content_df = load_item_content(open_store(ctx.store_cfg), None, ctx.cutoff_ms)
    return train_with_users(
        ctx.train_events,
        content_df,
        ctx.cutoff_ms,
        hgnn_config(cfg, seed),
        progress=ctx.progress,
    )


@dataclass
class SeedRun:
    """The learned models of one seed."""

    seed: int
    hgnn: dict[str, str]
    two_towers: dict[str, dict[str, Any]]
    with_users: Any | None
