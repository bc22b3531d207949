"""colisten evaluate: features -> content -> HGNNs -> two-towers -> every table, one run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from colisten import names
from colisten.world import format as fmt
from trainers.evaluation import learned
from trainers.evaluation.config import ABLATION_ROWS, EvalConfig
from trainers.evaluation.measure import measure, method_metrics
from trainers.evaluation.split import make_eval_set
from trainers.evaluation.tiers import tier_metrics

__all__ = [
    "ABLATION_ROWS",
    "EvalConfig",
    "method_metrics",
    "run_evaluation",
    "tier_metrics",
]


def _timed(timing: dict[str, float], key: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    timing[key] = round(time.perf_counter() - t0, 2)
    return out


def _materialize_once(
    world: Path, store_cfg: Any, cutoff: int, progress: bool
) -> dict[str, Any]:
    from trainers.materialize.run import materialize

    marker = store_cfg.data_dir / "materialize.json"
    if marker.exists() and json.loads(marker.read_text()).get("cutoff_ms") == cutoff:
        return json.loads(marker.read_text())
    stats = materialize(world, store_cfg, cutoff, progress=progress)
    info = {"cutoff_ms": cutoff, **stats.as_dict()}
    marker.write_text(json.dumps(info, indent=2))
    return info


def run_evaluation(
    world: Path,
    out: Path,
    cfg: EvalConfig,
    content_fn: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run everything for a world into out/ (store, models, report); return metrics."""
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import open_store
    from trainers.content import default_cache_dir, embed_items, write_item_content
    from trainers.evaluation.report import write_report
    from trainers.two_tower.data import historical_user_rows

    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    manifest = fmt.WorldManifest.read(world)
    cutoff = manifest.split_ms
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=out / "feast")
    timing: dict[str, float] = {}
    stages = tqdm(total=7, desc="evaluate", disable=not progress)

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        stages.set_postfix_str(name)
        got = _timed(timing, name, fn)
        stages.update(1)
        return got

    catalogue = fmt.read_catalogue(world)
    features_info = stage(
        "features", lambda: _materialize_once(world, store_cfg, cutoff, progress)
    )
    content = stage(
        "content",
        lambda: write_item_content(
            (
                content_fn
                or (
                    lambda c: embed_items(
                        c, None, default_cache_dir(), progress=progress
                    )
                )
            )(catalogue),
            store_cfg,
        ),
    )
    del content
    events = fmt.read_events(
        world, until_ms=int(cutoff + cfg.holdout_days * 86_400_000)
    )
    train_events = events[events[names.TS] < cutoff]
    ctx = learned.TrainContext(store_cfg, cutoff, catalogue, train_events, progress)
    dirs = {s: learned.seed_dir(out / "models", s, cfg.seeds) for s in cfg.seeds}
    hv = stage(
        "hgnn",
        lambda: {s: learned.train_hgnns(ctx, cfg, s, dirs[s]) for s in cfg.seeds},
    )
    sets = {names.AUDIOBOOK: make_eval_set(events, catalogue, cutoff, cfg.holdout_days)}
    if cfg.podcasts:
        sets[names.PODCAST] = make_eval_set(
            events, catalogue, cutoff, cfg.holdout_days, names.PODCAST
        )

    def user_rows() -> dict[str, list[dict[str, Any]]]:
        store = open_store(store_cfg)
        return {
            k: historical_user_rows(store, es.users, np.full(len(es.users), cutoff))
            for k, es in sets.items()
        }

    rows = stage("user_features", user_rows)
    cache: dict[tuple[str, int], list[dict[str, Any]]] = {}
    tts = stage(
        "two_tower",
        lambda: {
            s: learned.train_two_towers(
                ctx, learned.two_tower_variants(cfg, s, hv[s]), dirs[s], cache
            )
            for s in cfg.seeds
        },
    )
    wu = (
        stage(
            "hgnn_with_users",
            lambda: {s: learned.train_tripartite(ctx, cfg, s) for s in cfg.seeds},
        )
        if cfg.with_users
        else {}
    )
    runs = {s: learned.SeedRun(s, hv[s], tts[s], wu.get(s)) for s in cfg.seeds}
    results = stage(
        "metrics",
        lambda: measure(
            world, sets, rows, train_events, catalogue, store_cfg, runs, cfg
        ),
    )
    stages.close()
    timing["total"] = round(time.perf_counter() - t_start, 2)
    results |= {
        "world": str(world),
        "source": manifest.source,
        "scale": manifest.scale,
        "cutoff_ms": cutoff,
        "holdout_days": cfg.holdout_days,
        "config": _jsonable(asdict(cfg)),
        "features": features_info,
        "timing_s": timing,
        **_model_records(runs[cfg.seeds[0]]),
    }
    if len(cfg.seeds) > 1:
        results["seed_runs"] = {str(s): _model_records(r) for s, r in runs.items()}
    write_report(results, out)
    return results


def _model_records(run: learned.SeedRun) -> dict[str, Any]:
    """metrics.json's "models" and "training" of one seed's run."""
    tts = run.two_towers
    return {
        "models": {"hgnn": run.hgnn, **{k: str(v["dir"]) for k, v in tts.items()}},
        "training": {
            k: {kk: vv for kk, vv in v.items() if kk != "dir"} for k, v in tts.items()
        },
    }


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))
