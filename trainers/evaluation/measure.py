"""Every table of `colisten evaluate`: rank each row (per seed), score it, pair it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from colisten import names
from trainers.evaluation import baselines as bl
from trainers.evaluation import reference as ref
from trainers.evaluation.config import EvalConfig
from trainers.evaluation.learned import EXAMPLE_WEIGHTS, SeedRun
from trainers.evaluation.metrics import evaluate_lists
from trainers.evaluation.paired import paired_table
from trainers.evaluation.seeded import RowRuns, row_metrics
from trainers.evaluation.split import EvalSet
from trainers.evaluation.tiers import tier_metrics

MAIN_ROWS = (
    "Popularity",
    "LLM-KNN",
    "HGNN",
    "HGNN-w-users",
    "2T",
    "2T-HGNN",
    EXAMPLE_WEIGHTS,
)
COLD_ROWS = ("Popularity", "HGNN-w-users", "2T", "2T-HGNN", EXAMPLE_WEIGHTS)
PODCAST_ROWS = ("Popularity", "2T", "2T-HGNN")

ScorerFactory = Callable[[], Mapping[str, bl.RowScorer]]


def method_metrics(
    es: EvalSet, lists: np.ndarray, mask: np.ndarray, seed: int, n_boot: int
) -> dict[str, Any]:
    """Metrics of one method (one run) for the users where mask holds."""
    pos, targets, _ = es.subset(mask)
    return evaluate_lists(
        lists[pos], targets, len(es.candidates), seed, n_boot
    ).to_json()


def rank_runs(
    es: EvalSet,
    fixed: Mapping[str, bl.RowScorer],
    by_seed: Mapping[int, ScorerFactory],
) -> dict[str, RowRuns]:
    """Rank every row: seedless rows once, learned rows once per seed (built lazily)."""
    runs = {
        n: RowRuns.of([bl.rank_all(es, s).astype(np.int32)], es.targets)
        for n, s in fixed.items()
    }
    lists: dict[str, list[np.ndarray]] = {}
    for make in by_seed.values():
        for name, scorer in make().items():
            lists.setdefault(name, []).append(bl.rank_all(es, scorer).astype(np.int32))
    seeds = tuple(by_seed)
    return runs | {n: RowRuns.of(li, es.targets, seeds) for n, li in lists.items()}


def learned_scorers(
    es: EvalSet,
    store_cfg: Any,
    run: SeedRun,
    rows: Sequence[Mapping[str, Any]],
    train_events: pd.DataFrame,
    ablations: Sequence[str],
) -> dict[str, bl.RowScorer]:
    """The audiobook scorers of one seed's models."""
    from trainers.two_tower.data import hgnn_vectors

    hg = hgnn_vectors(store_cfg.data_dir, run.hgnn["full"])
    hgnn = dict(zip(hg[names.ITEM_ID], hg["hgnn_embedding"], strict=True))
    out: dict[str, bl.RowScorer] = {"HGNN": bl.knn(es, train_events, hgnn)}
    if run.with_users is not None:
        wu = run.with_users
        out["HGNN-w-users"] = bl.with_users(es, wu.users, wu.items)
    for name in ["2T", "2T-HGNN", "B", EXAMPLE_WEIGHTS, *ablations]:
        if name in run.two_towers:
            out[name] = bl.two_tower(es, Path(run.two_towers[name]["dir"]), rows)
    return out


def podcast_scorers(
    ps: EvalSet, run: SeedRun, rows: Sequence[Mapping[str, Any]]
) -> dict[str, bl.RowScorer]:
    """The podcast two-tower scorers of one seed's models."""
    return {
        name: bl.two_tower(ps, Path(run.two_towers[f"{name} (podcasts)"]["dir"]), rows)
        for name in ("2T", "2T-HGNN")
    }


def group_tables(
    es: EvalSet,
    runs: Mapping[str, RowRuns],
    groups: Mapping[str, tuple[Sequence[str], np.ndarray]],
    cfg: EvalConfig,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tables, paired tests): per group key, its rows' metrics on its users."""
    tables, paired = {}, {}
    for key, (rows, mask) in groups.items():
        pos = np.flatnonzero(mask).tolist()
        tables[key] = {
            n: row_metrics(runs[n], pos, len(es.candidates), cfg.seed, cfg.n_boot)
            for n in rows
        }
        paired[key] = paired_table(runs, rows, pos, n_boot=cfg.n_boot, seed=cfg.seed)
    return tables, paired


def measure(
    world: Path,
    sets: Mapping[str, EvalSet],
    rows: Mapping[str, list[dict[str, Any]]],
    train_events: pd.DataFrame,
    catalogue: pd.DataFrame,
    store_cfg: Any,
    runs: Mapping[int, SeedRun],
    cfg: EvalConfig,
) -> dict[str, Any]:
    """Every table, the paired tests against 2T-HGNN, the counts (metrics.json's core)."""
    from trainers.two_tower.pipeline import load_items

    es = sets[names.AUDIOBOOK]
    items = load_items(store_cfg, es.cutoff_ms, None)
    text = {i: items.text[k] for k, i in enumerate(items.ids)}
    refs = ref.reference_scorers(es, train_events, catalogue, world)
    fixed = {
        "Popularity": bl.popularity(es),
        "LLM-KNN": bl.knn(es, train_events, text),
    } | refs
    by_seed = {
        s: partial(
            learned_scorers,
            es,
            store_cfg,
            run,
            rows[names.AUDIOBOOK],
            train_events,
            cfg.ablations,
        )
        for s, run in runs.items()
    }
    ab = rank_runs(es, fixed, by_seed)
    main = [n for n in MAIN_ROWS if n in ab]
    cold = [n for n in COLD_ROWS if n in ab]
    tables, paired = group_tables(
        es,
        ab,
        {
            "warm": ([*main, *refs], es.warm),
            "cold": ([*cold, *refs], ~es.warm),
            "ablations": (["2T-HGNN", "B", *cfg.ablations], es.warm),
        },
        cfg,
    )
    tables["long_tail"] = {
        n: tier_metrics(es, ab[n].lists, cfg.seed, cfg.n_boot) for n in [*main, *refs]
    }
    counts = {
        "candidates": len(es.candidates),
        "test_users": len(es.users),
        "warm_users": int(es.warm.sum()),
        "cold_users": int((~es.warm).sum()),
    }
    if names.PODCAST in sets:
        ps = sets[names.PODCAST]
        pod = rank_runs(
            ps,
            {"Popularity": bl.popularity(ps)},
            {
                s: partial(podcast_scorers, ps, run, rows[names.PODCAST])
                for s, run in runs.items()
            },
        )
        everyone = np.ones(len(ps.users), dtype=bool)
        pt, pp = group_tables(ps, pod, {"podcasts": (PODCAST_ROWS, everyone)}, cfg)
        tables |= pt
        paired |= pp
        counts |= {
            "podcast_candidates": len(ps.candidates),
            "podcast_test_users": len(ps.users),
        }
    return {
        "tables": tables,
        "paired": paired,
        "counts": counts,
        "seeds": list(cfg.seeds),
        "reference": {
            "rows": list(refs),
            "pending_days": ref.PENDING_DAYS,
            "genre_epsilon": ref.EPSILON,
            "oracle": ref.ORACLE in refs,
        },
    }
