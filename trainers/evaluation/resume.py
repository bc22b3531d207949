"""Reuse the learned models of seeds an earlier evaluation of the same world trained.

A `medium` evaluation trains ~50 minutes per seed on this machine; adding a seed to a
finished run, adding ablations to it, or finishing one that was stopped after its first
seeds, should not retrain what exists. `reused_runs` reads an earlier run's metrics.json
and returns, per seed it trained, the HGNN versions and two-tower records of that run
that this run's plan needs (the run trains the rest), after checking that it evaluated
the same world at the same cut-off with the same training settings (anything that
changes what a model learns); the HGNN vectors are copied into this run's store. A
seed's models all come from one source, so a reused two-tower always reads the HGNN it
was trained on. HGNN-w-users keeps its embeddings in memory during a run, so
`save_with_users` writes them beside the models (older runs lack the file; that row is
retrained).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from colisten import names
from trainers.evaluation.config import EvalConfig
from trainers.evaluation.plan import make_plan

# EvalConfig fields that change what a learned row learns: a reused run must match them.
TRAINING_FIELDS = (
    "holdout_days",
    "hgnn_epochs",
    "hgnn_patience",
    "hgnn_overrides",
    "tt_epochs",
    "tt_hidden",
    "tt_podcast_temperature",
)
WITH_USERS_DIR = "with_users"


class ReuseError(ValueError):
    """An earlier run cannot stand in for this one (other world, settings or models)."""


def _seed_records(metrics: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Per trained seed: {"models": ..., "training": ...} as metrics.json records them."""
    if "seed_runs" in metrics:
        return {int(s): r for s, r in metrics["seed_runs"].items()}
    seed = metrics["config"]["seeds"][0]
    return {seed: {"models": metrics["models"], "training": metrics["training"]}}


def _check_same_training(
    metrics: dict[str, Any], cfg: EvalConfig, world: Path, cutoff_ms: int, src: Path
) -> None:
    if Path(metrics["world"]).resolve() != world.resolve():
        raise ReuseError(f"{src} evaluated {metrics['world']}, not {world}")
    if metrics["cutoff_ms"] != cutoff_ms:
        raise ReuseError(f"{src} split at {metrics['cutoff_ms']}, this run {cutoff_ms}")
    mine = json.loads(json.dumps({f: getattr(cfg, f) for f in TRAINING_FIELDS}))
    theirs = {f: metrics["config"].get(f) for f in TRAINING_FIELDS}
    diff = {f: (theirs[f], mine[f]) for f in TRAINING_FIELDS if theirs[f] != mine[f]}
    if diff:
        raise ReuseError(f"{src} trained with other settings (theirs, ours): {diff}")


def reused_runs(
    sources: list[Path],
    cfg: EvalConfig,
    world: Path,
    cutoff_ms: int,
    data_dir: Path,
) -> dict[int, dict[str, Any]]:
    """Per seed of cfg.seeds found in the sources: source, hgnn, two_towers, with_users.

    The first source that trained a seed wins. `hgnn` and `two_towers` hold the models
    of the plan that the source has (by plan key and row key); the caller trains the
    others, e.g. the ablations a run without them lacks.
    """
    plan = make_plan(cfg)
    need_tt = {r.key for r in plan.two_towers()}
    found: dict[int, dict[str, Any]] = {}
    for src in sources:
        path = src / "metrics.json"
        if not path.exists():
            raise ReuseError(f"--reuse {src}: no metrics.json (not a finished run)")
        metrics = json.loads(path.read_text())
        _check_same_training(metrics, cfg, world, cutoff_ms, src)
        src_data = src / "feast"
        for seed, rec in _seed_records(metrics).items():
            if seed not in cfg.seeds or seed in found:
                continue
            hgnn = {
                k: v for k, v in rec["models"]["hgnn"].items() if k in plan.hgnn_keys
            }
            tts = {
                k: rec["training"][k] | {"dir": Path(rec["models"][k])}
                for k in sorted(need_tt & set(rec["training"]))
            }
            for k, t in tts.items():
                if not t["dir"].is_dir():
                    raise ReuseError(f"{src} seed {seed}: {k} model gone ({t['dir']})")
            for version in hgnn.values():
                _copy_hgnn(src_data, data_dir, version)
            found[seed] = {
                "source": str(src),
                "hgnn": hgnn,
                "two_towers": tts,
                "with_users": load_with_users(src / "models", seed)
                if cfg.with_users
                else None,
            }
    return found


def _copy_hgnn(src_data: Path, data_dir: Path, version: str) -> None:
    from trainers.two_tower.data import hgnn_vectors_path

    dst = hgnn_vectors_path(data_dir, version)
    if dst.exists():
        return
    src = hgnn_vectors_path(src_data, version)
    if not src.exists():
        raise ReuseError(f"HGNN {version}: its vectors are not in {src_data}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _with_users_path(models: Path, seed: int) -> Path:
    return models / WITH_USERS_DIR / f"seed-{seed}.parquet"


def save_with_users(models: Path, seed: int, result: Any) -> Path:
    """Write one seed's HGNN-w-users user and item embeddings (one parquet file)."""
    path = _with_users_path(models, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    users = result.users.rename(columns={names.USER_ID: "key"}).assign(kind="user")
    items = result.items.rename(columns={names.ITEM_ID: "key"}).assign(kind="item")
    pd.concat([users, items], ignore_index=True).to_parquet(path)
    return path


def load_with_users(models: Path, seed: int) -> Any | None:
    """A seed's saved HGNN-w-users embeddings (users, items), or None if not saved."""
    from trainers.hgnn.with_users import WithUsersResult

    path = _with_users_path(models, seed)
    if not path.exists():
        return None
    df = pd.read_parquet(path)
    users = df[df["kind"] == "user"].rename(columns={"key": names.USER_ID})
    items = df[df["kind"] == "item"].rename(columns={"key": names.ITEM_ID})
    return WithUsersResult(
        users[[names.USER_ID, "embedding"]].reset_index(drop=True),
        items[[names.ITEM_ID, names.ITEM_TYPE, "embedding"]].reset_index(drop=True),
        None,
    )
