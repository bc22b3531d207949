"""colisten evaluate: features -> content -> HGNNs -> two-towers -> every table, one run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from colisten import names
from colisten.timeunits import DAY_MS
from colisten.world import format as fmt
from trainers.evaluation import learned
from trainers.evaluation.config import EvalConfig
from trainers.evaluation.measure import measure
from trainers.evaluation.resume import reused_runs, save_with_users
from trainers.evaluation.split import EvalSet, make_eval_set

__all__ = ["EvalConfig", "run_evaluation"]


class _Steps:
    """The run's steps: a progress bar and each step's wall time (metrics.json's timing_s)."""

    def __init__(self, total: int, progress: bool) -> None:
        self.timing: dict[str, float] = {}
        self.bar = tqdm(total=total, desc="evaluate", disable=not progress)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time one step under its name."""
        self.bar.set_postfix_str(name)
        t0 = time.perf_counter()
        yield
        self.timing[name] = round(time.perf_counter() - t0, 2)
        self.bar.update(1)


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
    reuse: Sequence[Path] = (),
) -> dict[str, Any]:
    """Run everything for a world into out/ (store, models, report); return metrics.

    Linear: features as of the split, item content, the HGNNs of every seed, the
    hold-out sets and their users' features, the two-towers, HGNN-w-users, then every
    table of the plan (trainers.evaluation.plan) and the report. Models that an earlier
    run in `reuse` trained with the same settings (per seed: its HGNNs and two-towers)
    are taken from it, not retrained (trainers.evaluation.resume).
    """
    from feature_repo.config import FeatureStoreConfig
    from trainers.content import default_cache_dir, embed_items, write_item_content
    from trainers.evaluation.report import write_report

    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    manifest = fmt.WorldManifest.read(world)
    cutoff = manifest.split_ms
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=out / "feast")
    steps = _Steps(6 + cfg.with_users, progress)
    catalogue = fmt.read_catalogue(world)

    with steps("features"):
        features_info = _materialize_once(world, store_cfg, cutoff, progress)
    with steps("content"):
        embed = content_fn or (
            lambda c: embed_items(c, None, default_cache_dir(), progress=progress)
        )
        write_item_content(embed(catalogue), store_cfg)

    events = fmt.read_events(world, until_ms=int(cutoff + cfg.holdout_days * DAY_MS))
    train_events = events[events[names.TS] < cutoff]
    ctx = learned.TrainContext(store_cfg, cutoff, catalogue, train_events, progress)
    dirs = {s: learned.seed_dir(out / "models", s, cfg.seeds) for s in cfg.seeds}
    old = reused_runs(list(reuse), cfg, world, cutoff, store_cfg.data_dir)
    with steps("hgnn"):
        hv = {
            s: learned.train_hgnns(ctx, cfg, s, dirs[s], old.get(s, {}).get("hgnn"))
            for s in cfg.seeds
        }

    sets = _eval_sets(events, catalogue, cutoff, cfg)
    with steps("user_features"):
        rows = _user_rows(store_cfg, sets, cutoff)
    with steps("two_tower"):
        cache: dict[tuple[str, int], list[dict[str, Any]]] = {}
        tts = {
            s: learned.train_two_towers(
                ctx,
                learned.two_tower_variants(cfg, s, hv[s]),
                dirs[s],
                cache,
                old.get(s, {}).get("two_towers"),
            )
            for s in cfg.seeds
        }
    wu: dict[int, Any] = {}
    if cfg.with_users:
        with steps("hgnn_with_users"):
            wu = {s: old[s]["with_users"] for s in old}
            for s in cfg.seeds:
                if wu.get(s) is None:
                    wu[s] = learned.train_tripartite(ctx, cfg, s)
                    save_with_users(out / "models", s, wu[s])
    runs = {s: learned.SeedRun(s, hv[s], tts[s], wu.get(s)) for s in cfg.seeds}

    with steps("metrics"):
        results = measure(
            world, sets, rows, train_events, catalogue, store_cfg, runs, cfg
        )
    steps.bar.close()
    timing = steps.timing | {"total": round(time.perf_counter() - t_start, 2)}
    results |= {
        "world": str(world),
        "source": manifest.source,
        "scale": manifest.scale,
        "cutoff_ms": cutoff,
        "holdout_days": cfg.holdout_days,
        "config": _jsonable(asdict(cfg)),
        "features": features_info,
        "timing_s": timing,
        "reused": {str(s): r["source"] for s, r in old.items()},
        "reused_models": {
            str(s): sorted(r["hgnn"]) + sorted(r["two_towers"]) for s, r in old.items()
        },
        **_model_records(runs[cfg.seeds[0]]),
    }
    if len(cfg.seeds) > 1:
        results["seed_runs"] = {str(s): _model_records(r) for s, r in runs.items()}
    write_report(results, out)
    return results


def _eval_sets(
    events: pd.DataFrame, catalogue: pd.DataFrame, cutoff: int, cfg: EvalConfig
) -> dict[str, EvalSet]:
    """The hold-out sets: audiobooks, and podcasts when the plan has podcast rows."""
    sets = {names.AUDIOBOOK: make_eval_set(events, catalogue, cutoff, cfg.holdout_days)}
    if cfg.podcasts:
        sets[names.PODCAST] = make_eval_set(
            events, catalogue, cutoff, cfg.holdout_days, names.PODCAST
        )
    return sets


def _user_rows(
    store_cfg: Any, sets: dict[str, EvalSet], cutoff: int
) -> dict[str, list[dict[str, Any]]]:
    """Each set's users' two-tower feature rows, point-in-time at the cut-off."""
    from feature_repo.store import open_store
    from trainers.two_tower.data import historical_user_rows

    store = open_store(store_cfg)
    return {
        k: historical_user_rows(store, es.users, np.full(len(es.users), cutoff))
        for k, es in sets.items()
    }


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
