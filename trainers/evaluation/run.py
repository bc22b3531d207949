"""colisten evaluate: features -> content -> HGNNs -> two-towers -> every table, one run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from colisten import names
from colisten.world import format as fmt
from trainers.evaluation import baselines as bl
from trainers.evaluation.metrics import evaluate_lists, hits_at, reciprocal_ranks
from trainers.evaluation.split import N_TIERS, EvalSet, make_eval_set

ABLATION_ROWS = {
    "A": ("no balanced sampler", "no_balanced"),
    "C": ("no p-p edges", "no_pp"),
    "D": ("no a-a edges", "no_aa"),
    "E": ("a-a only graph", "aa_only"),
    "F": ("p-p only graph", "pp_only"),
}


@dataclass(frozen=True)
class EvalConfig:
    """What `colisten evaluate` trains and measures."""

    holdout_days: float = 14.0
    hgnn_epochs: int = 50
    hgnn_patience: int = 10
    hgnn_overrides: dict[str, Any] = field(default_factory=dict)
    tt_epochs: int = 10
    tt_hidden: tuple[int, ...] = (512, 256, 128)
    ablations: tuple[str, ...] = tuple(ABLATION_ROWS)
    podcasts: bool = True
    with_users: bool = True
    n_boot: int = 1000
    seed: int = 0
    threads: int = 2

    @classmethod
    def quick(cls, **kw: Any) -> EvalConfig:
        """Few epochs, no HGNN ablations, fewer bootstrap draws (tests, smoke runs)."""
        base = {
            "hgnn_epochs": 2,
            "hgnn_patience": 2,
            "tt_epochs": 2,
            "ablations": (),
            "n_boot": 100,
        }
        return cls(**(base | kw))


def _timed(timing: dict[str, float], key: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    timing[key] = round(time.perf_counter() - t0, 2)
    return out


def _backfill_once(
    world: Path, store_cfg: Any, cutoff: int, progress: bool
) -> dict[str, Any]:
    from trainers.backfill import backfill

    marker = store_cfg.data_dir / "backfill.json"
    if marker.exists() and json.loads(marker.read_text()).get("cutoff_ms") == cutoff:
        return json.loads(marker.read_text())
    stats = backfill(world, store_cfg, cutoff, progress=progress)
    info = {"cutoff_ms": cutoff, **asdict(stats)}
    marker.write_text(json.dumps(info, indent=2))
    return info


def method_metrics(
    es: EvalSet, lists: np.ndarray, mask: np.ndarray, seed: int, n_boot: int
) -> dict[str, Any]:
    """Metrics of one method for the users where mask holds."""
    pos, targets, _ = es.subset(mask)
    return evaluate_lists(
        lists[pos], targets, len(es.candidates), seed, n_boot
    ).to_json()


def tier_metrics(es: EvalSet, lists: np.ndarray) -> dict[str, dict[str, float]]:
    """HR@10 and MRR per popularity tier: targets restricted to the tier's items."""
    out = {}
    for tier in range(1, N_TIERS + 1):
        in_tier = set(np.flatnonzero(es.tiers == tier).tolist())
        pos = [u for u, t in enumerate(es.targets) if t & in_tier]
        targets = [es.targets[u] & in_tier for u in pos]
        hits, rr = hits_at(lists[pos], targets), reciprocal_ranks(lists[pos], targets)
        out[str(tier)] = {
            "n_users": len(pos),
            "hr10": float(hits.mean()) if pos else float("nan"),
            "mrr": float(rr.mean()) if pos else float("nan"),
        }
    return out


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
    from trainers.hgnn.config import HGNNConfig
    from trainers.hgnn.pipeline import run_hgnn
    from trainers.hgnn.with_users import train_with_users
    from trainers.store_loader import load_item_content
    from trainers.two_tower.config import TwoTowerConfig
    from trainers.two_tower.data import historical_user_rows
    from trainers.two_tower.pipeline import load_items, run_two_tower

    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    manifest = fmt.WorldManifest.read(world)
    cutoff = manifest.split_ms
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=out / "feast")
    models = out / "models"
    timing: dict[str, float] = {}
    stages = tqdm(total=7, desc="evaluate", disable=not progress)

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        stages.set_postfix_str(name)
        got = _timed(timing, name, fn)
        stages.update(1)
        return got

    catalogue = fmt.read_catalogue(world)
    backfill_info = stage(
        "backfill", lambda: _backfill_once(world, store_cfg, cutoff, progress)
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
    hbase = {
        "max_epochs": cfg.hgnn_epochs,
        "patience": cfg.hgnn_patience,
        "seed": cfg.seed,
        "num_threads": cfg.threads,
        **cfg.hgnn_overrides,
    }

    def hgnns() -> dict[str, str]:
        versions = {}
        for (
            key
        ) in cfg.ablations:  # ablations first: the full model's rows are written last
            versions[key] = run_hgnn(
                store_cfg,
                cutoff,
                catalogue,
                HGNNConfig(**(hbase | {"ablation": ABLATION_ROWS[key][1]})),
                models,
                progress,
            )
        versions["full"] = run_hgnn(
            store_cfg, cutoff, catalogue, HGNNConfig(**hbase), models, progress
        )
        return versions

    hv = stage("hgnn", hgnns)
    events = fmt.read_events(
        world, until_ms=int(cutoff + cfg.holdout_days * 86_400_000)
    )
    train_events = events[events[names.TS] < cutoff]
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
    tbase = TwoTowerConfig(
        epochs=cfg.tt_epochs, hidden=cfg.tt_hidden, seed=cfg.seed, threads=cfg.threads
    )
    variants: dict[str, tuple[TwoTowerConfig, str | None]] = {
        "2T": (replace(tbase, use_hgnn=False), None),
        "2T-HGNN": (tbase, hv["full"]),
        "B": (replace(tbase, use_weak_signals=False), hv["full"]),
        **{k: (tbase, hv[k]) for k in cfg.ablations},
    }
    if cfg.podcasts:
        variants["2T (podcasts)"] = (
            replace(tbase, use_hgnn=False, target_type=names.PODCAST),
            None,
        )
        variants["2T-HGNN (podcasts)"] = (
            replace(tbase, target_type=names.PODCAST),
            hv["full"],
        )

    def two_towers() -> dict[str, Any]:
        done, cache = {}, {}
        for name, (tcfg, version) in tqdm(
            variants.items(), desc="two-towers", disable=not progress
        ):
            items = load_items(store_cfg, cutoff, version)
            t0 = time.perf_counter()
            run = run_two_tower(
                store_cfg,
                train_events,
                cutoff,
                tcfg,
                version,
                models,
                items,
                progress=progress,
                cache=cache,
            )
            done[name] = {
                "dir": run.model_dir,
                "history": run.result.history,
                "labels": len(run.data.label_rows),
                "seconds": time.perf_counter() - t0,
                "feature_max_ms": run.data.feature_max_ms,
            }
        return done

    tts = stage("two_tower", two_towers)

    def tripartite() -> Any:
        content_df = load_item_content(open_store(store_cfg), None, cutoff)
        return train_with_users(
            train_events, content_df, cutoff, HGNNConfig(**hbase), progress=progress
        )

    wu = stage("hgnn_with_users", tripartite) if cfg.with_users else None
    results = stage(
        "metrics",
        lambda: _measure(sets, rows, train_events, store_cfg, hv, tts, wu, cfg),
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
        "backfill": backfill_info,
        "timing_s": timing,
        "models": {"hgnn": hv, **{k: str(v["dir"]) for k, v in tts.items()}},
        "training": {
            k: {kk: vv for kk, vv in v.items() if kk != "dir"} for k, v in tts.items()
        },
    }
    write_report(results, out)
    return results


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _measure(
    sets: dict[str, EvalSet],
    rows: dict[str, list[dict[str, Any]]],
    train_events: pd.DataFrame,
    store_cfg: Any,
    hv: dict[str, str],
    tts: dict[str, Any],
    wu: Any,
    cfg: EvalConfig,
) -> dict[str, Any]:
    from trainers.two_tower.data import hgnn_vectors
    from trainers.two_tower.pipeline import load_items

    es = sets[names.AUDIOBOOK]
    items = load_items(store_cfg, es.cutoff_ms, None)
    text = {i: items.text[k] for k, i in enumerate(items.ids)}
    hg = hgnn_vectors(store_cfg.data_dir, hv["full"])
    hgnn = dict(zip(hg[names.ITEM_ID], hg["hgnn_embedding"], strict=True))
    scorers: dict[str, bl.Scorer] = {
        "Popularity": bl.popularity(es),
        "LLM-KNN": bl.knn(es, train_events, text),
        "HGNN": bl.knn(es, train_events, hgnn),
    }
    if wu is not None:
        scorers["HGNN-w-users"] = bl.with_users(es, wu.users, wu.items)
    for name in ["2T", "2T-HGNN", "B", *cfg.ablations]:
        scorers[name] = bl.two_tower(es, Path(tts[name]["dir"]), rows[names.AUDIOBOOK])
    lists = {
        name: bl.rank_all(es, s)
        for name, s in tqdm(scorers.items(), desc="ranking", leave=False)
    }
    m = lambda name, mask: method_metrics(es, lists[name], mask, cfg.seed, cfg.n_boot)  # noqa: E731
    main = [
        n
        for n in ("Popularity", "LLM-KNN", "HGNN", "HGNN-w-users", "2T", "2T-HGNN")
        if n in scorers
    ]
    cold_rows = [
        n for n in ("Popularity", "HGNN-w-users", "2T", "2T-HGNN") if n in scorers
    ]
    tables: dict[str, Any] = {
        "warm": {n: m(n, es.warm) for n in main},
        "cold": {n: m(n, ~es.warm) for n in cold_rows},
        "ablations": {n: m(n, es.warm) for n in ["2T-HGNN", "B", *cfg.ablations]},
        "long_tail": {n: tier_metrics(es, lists[n]) for n in main},
    }
    if names.PODCAST in sets:
        ps = sets[names.PODCAST]
        pod = {
            "Popularity": bl.popularity(ps),
            "2T": bl.two_tower(
                ps, Path(tts["2T (podcasts)"]["dir"]), rows[names.PODCAST]
            ),
            "2T-HGNN": bl.two_tower(
                ps, Path(tts["2T-HGNN (podcasts)"]["dir"]), rows[names.PODCAST]
            ),
        }
        everyone = np.ones(len(ps.users), dtype=bool)
        tables["podcasts"] = {
            n: method_metrics(ps, bl.rank_all(ps, s), everyone, cfg.seed, cfg.n_boot)
            for n, s in pod.items()
        }
    counts = {
        "candidates": len(es.candidates),
        "test_users": len(es.users),
        "warm_users": int(es.warm.sum()),
        "cold_users": int((~es.warm).sum()),
    }
    if names.PODCAST in sets:
        counts |= {
            "podcast_candidates": len(sets[names.PODCAST].candidates),
            "podcast_test_users": len(sets[names.PODCAST].users),
        }
    return {"tables": tables, "counts": counts}
