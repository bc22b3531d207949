"""Metric functions against hand-computed lists."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainers.evaluation.metrics import (
    bootstrap_ci,
    coverage,
    coverage_ci,
    evaluate_lists,
    hits_at,
    reciprocal_ranks,
    top_lists,
)
from trainers.evaluation.split import make_eval_set, popularity_tiers


def test_top_lists_excludes_and_breaks_ties_by_index() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.9], [0.0, 0.0, 0.0, 1.0]])
    lists = top_lists(scores, [[1], []], n=3)
    assert lists.tolist() == [[3, 2, 0], [3, 0, 1]]
    assert top_lists(scores[:1], [[0, 1, 2]], n=3).tolist() == [[3, -1, -1]]


def test_hit_rate_mrr_coverage_by_hand() -> None:
    lists = np.array([[5, 3, 1, 0], [2, 4, 0, 1], [1, 0, 2, 3]])
    targets = [{3}, {7}, {1, 2}]
    assert hits_at(lists, targets, k=1).tolist() == [0.0, 0.0, 1.0]
    assert hits_at(lists, targets, k=2).tolist() == [1.0, 0.0, 1.0]
    assert reciprocal_ranks(lists, targets).tolist() == [0.5, 0.0, 1.0]
    assert reciprocal_ranks(lists, targets, n=1).tolist() == [0.0, 0.0, 1.0]
    assert coverage(lists, n_items=10) == 0.6  # items 0..5 appear
    assert coverage(lists[:, :1], n_items=10) == 0.3
    m = evaluate_lists(lists, targets, 10, n_boot=200)
    assert m.hr10 == 2 / 3 and m.mrr == 0.5 and m.n_users == 3
    assert m.hr10_ci[0] <= m.hr10 <= m.hr10_ci[1]


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    v = np.random.default_rng(1).random(500)
    assert bootstrap_ci(v, seed=3) == bootstrap_ci(v, seed=3)
    lo, hi = bootstrap_ci(v, seed=3)
    assert lo < v.mean() < hi and hi - lo < 0.1


def test_coverage_ci_matches_resampling_the_lists() -> None:
    rng = np.random.default_rng(4)
    lists = np.stack([rng.permutation(60)[:12] for _ in range(30)])
    lists[:5, -4:] = -1  # short lists
    naive_rng = np.random.default_rng(7)
    covs = [coverage(lists[naive_rng.integers(0, 30, 30)], 60) for _ in range(80)]
    naive = (float(np.quantile(covs, 0.025)), float(np.quantile(covs, 0.975)))
    assert coverage_ci(lists, 60, n_boot=80, seed=7) == naive
    assert coverage_ci(np.full((3, 4), -1), 10, n_boot=20) == (0.0, 0.0)


def test_popularity_tiers_equal_groups() -> None:
    tiers = popularity_tiers(np.array([9.0, 0, 5, 7, 1, 3, 2, 8, 4, 6]))
    assert tiers.tolist() == [1, 5, 3, 2, 5, 4, 4, 1, 3, 2]


def test_eval_set_targets_only_new_holdout_streams() -> None:
    day = 86_400_000
    cat = pd.DataFrame(
        {
            "item_id": ["a1", "a2", "a3", "p1"],
            "item_type": ["audiobook"] * 3 + ["podcast"],
            "release_date": pd.to_datetime([0, 0, 20 * day, 0], unit="ms", utc=True),
        }
    )
    rows = [  # user, item, type, event, ts (days)
        ("u1", "a1", "audiobook", "stream", 1),
        (
            "u1",
            "a1",
            "audiobook",
            "stream",
            11,
        ),  # held out, already streamed: no target
        ("u1", "a2", "audiobook", "stream", 12),
        ("u2", "a2", "audiobook", "preview", 2),  # weak signal only: warm
        ("u2", "a2", "audiobook", "stream", 13),
        ("u3", "p1", "podcast", "stream", 3),  # cold
        ("u3", "a1", "audiobook", "stream", 14),
        ("u4", "a3", "audiobook", "stream", 21),  # released after the cut-off
        ("u5", "a1", "audiobook", "stream", 30),  # after the hold-out
    ]
    ev = pd.DataFrame(
        rows, columns=["user_id", "item_id", "item_type", "event_type", "ts"]
    )
    ev["ts"] = ev["ts"] * day
    ev["event_id"] = [f"e{i}" for i in range(len(ev))]
    es = make_eval_set(ev, cat, 10 * day, 14)
    assert es.candidates == ["a1", "a2"]
    assert es.users == ["u1", "u2", "u3"]
    assert es.targets == [{1}, {1}, {0}]
    assert es.exclude == [[0], [], []]
    assert es.warm.tolist() == [True, True, False]
