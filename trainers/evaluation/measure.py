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
from trainers.evaluation.learned import SeedRun
from trainers.evaluation.metrics import evaluate_lists
from trainers.evaluation.paired import paired_table
from trainers.evaluation.plan import (
    ABLATIONS,
    ABLATIONS_KNN,
    COLD,
    LEARNED,
    LONG_TAIL,
    PODCASTS,
    REFERENCE_TABLES,
    WARM,
    EvalPlan,
    make_plan,
    paired_against,
)
from trainers.evaluation.seeded import RowRuns, row_metrics
from trainers.evaluation.split import EvalSet
from trainers.evaluation.tiers import tier_metrics

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


def fixed_scorers(
    plan: EvalPlan, target: str, es: EvalSet, train_events: pd.DataFrame, store_cfg: Any
) -> dict[str, bl.RowScorer]:
    """The scorers of a target's rows that do not depend on a training seed."""
    out: dict[str, bl.RowScorer] = {}
    for row in plan.rows:
        if row.target != target or row.method in LEARNED:
            continue
        if row.method == "popularity":
            out[row.name] = bl.popularity(es)
        elif row.method == "llm_knn":
            out[row.name] = bl.knn(es, train_events, _text_vectors(store_cfg, es))
        else:
            raise ValueError(f"row {row.name}: no fixed scorer for {row.method}")
    return out


def _text_vectors(store_cfg: Any, es: EvalSet) -> dict[str, np.ndarray]:
    from trainers.two_tower.pipeline import load_items

    items = load_items(store_cfg, es.cutoff_ms, None)
    return {i: items.text[k] for k, i in enumerate(items.ids)}


def learned_scorers(
    plan: EvalPlan,
    target: str,
    es: EvalSet,
    store_cfg: Any,
    run: SeedRun,
    rows: Sequence[Mapping[str, Any]],
    train_events: pd.DataFrame,
) -> dict[str, bl.RowScorer]:
    """The scorers of one seed's models for a target's learned rows (those it trained)."""
    from trainers.two_tower.data import hgnn_vectors

    out: dict[str, bl.RowScorer] = {}
    for row in plan.learned(target):
        if row.method == "hgnn_knn" and row.hgnn is not None:
            hg = hgnn_vectors(store_cfg.data_dir, run.hgnn[row.hgnn])
            vectors = dict(zip(hg[names.ITEM_ID], hg["hgnn_embedding"], strict=True))
            out[row.name] = bl.knn(es, train_events, vectors)
        elif row.method == "with_users" and run.with_users is not None:
            wu = run.with_users
            out[row.name] = bl.with_users(es, wu.users, wu.items)
        elif row.method == "two_tower" and row.key in run.two_towers:
            model_dir = Path(run.two_towers[row.key]["dir"])
            out[row.name] = bl.two_tower(es, model_dir, rows)
    return out


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
        paired[key] = paired_table(
            runs,
            rows,
            pos,
            against=paired_against(key),
            n_boot=cfg.n_boot,
            seed=cfg.seed,
        )
    return tables, paired


def _masks(es: EvalSet) -> dict[str, np.ndarray]:
    """The users each table is measured on."""
    return {
        WARM: es.warm,
        COLD: ~es.warm,
        ABLATIONS: es.warm,
        ABLATIONS_KNN: es.warm,
        PODCASTS: np.ones(len(es.users), dtype=bool),
    }


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
    plan = make_plan(cfg)
    es = sets[names.AUDIOBOOK]
    refs = ref.reference_scorers(es, train_events, catalogue, world)
    tables: dict[str, Any] = {}
    paired: dict[str, Any] = {}
    for target, tset in sets.items():
        fixed = fixed_scorers(plan, target, tset, train_events, store_cfg)
        extra = refs if target == names.AUDIOBOOK else {}
        by_seed = {
            s: partial(
                learned_scorers,
                plan,
                target,
                tset,
                store_cfg,
                run,
                rows[target],
                train_events,
            )
            for s, run in runs.items()
        }
        ranked = rank_runs(tset, fixed | extra, by_seed)
        tables_here = plan.tables_of(target)
        groups = {
            t: (
                [n for n in plan.table(t) if n in ranked]
                + (list(extra) if t in REFERENCE_TABLES else []),
                mask,
            )
            for t, mask in _masks(tset).items()
            if t in tables_here
        }
        got, pairs = group_tables(tset, ranked, groups, cfg)
        tables |= got
        paired |= pairs
        if LONG_TAIL in tables_here:
            tail = [*(n for n in plan.table(LONG_TAIL) if n in ranked), *extra]
            tables[LONG_TAIL] = {
                n: tier_metrics(tset, ranked[n].lists, cfg.seed, cfg.n_boot)
                for n in tail
            }
    counts = {
        "candidates": len(es.candidates),
        "test_users": len(es.users),
        "warm_users": int(es.warm.sum()),
        "cold_users": int((~es.warm).sum()),
    }
    if names.PODCAST in sets:
        ps = sets[names.PODCAST]
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
