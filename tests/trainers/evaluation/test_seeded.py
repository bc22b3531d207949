"""A row over training seeds, and per-tier results with CIs, on hand-built lists."""

from __future__ import annotations

import numpy as np
import pytest

from trainers.evaluation.metrics import evaluate_lists
from trainers.evaluation.seeded import RowRuns, row_metrics
from trainers.evaluation.split import EvalSet
from trainers.evaluation.tiers import tier_metrics

LISTS = np.array([[5, 3, 1, 0], [2, 4, 0, 1], [1, 0, 2, 3]])
TARGETS = [{3}, {7}, {1, 2}]


def test_one_run_is_exactly_evaluate_lists() -> None:
    got = row_metrics(RowRuns.of([LISTS], TARGETS), [0, 1, 2], 10, seed=3, n_boot=200)
    want = evaluate_lists(LISTS, TARGETS, 10, seed=3, n_boot=200).to_json()
    assert got == want  # no per-seed keys for a row without seeds


def test_seeds_average_per_user_and_report_spread() -> None:
    other = np.array([[3, 5, 1, 0], [2, 4, 0, 1], [0, 4, 5, 6]])  # rr 1, 0, 0
    run = RowRuns.of([LISTS, other], TARGETS, seeds=[0, 1])
    assert run.per_user([0, 2])["mrr"].tolist() == [0.75, 0.5]
    m = row_metrics(run, [0, 1, 2], 10, n_boot=100)
    assert m["seeds"] == [0, 1]
    assert m["mrr_by_seed"] == [0.5, pytest.approx(1 / 3)]
    assert m["mrr"] == pytest.approx((0.5 + 1 / 3) / 2)
    assert m["hr10_by_seed"] == [pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert m["hr10_sd"] == pytest.approx(np.std([2 / 3, 1 / 3], ddof=1))
    assert m["coverage"] == pytest.approx((0.6 + 0.7) / 2)
    single = row_metrics(RowRuns.of([LISTS], TARGETS, seeds=[4]), [0, 1], 10)
    assert single["seeds"] == [4] and single["hr10_sd"] is None


def test_runs_and_seeds_must_match() -> None:
    with pytest.raises(ValueError):
        RowRuns.of([LISTS], TARGETS, seeds=[0, 1])


def _eval_set(tiers: list[int], targets: list[set[int]]) -> EvalSet:
    n = len(tiers)
    return EvalSet(
        item_type="audiobook",
        cutoff_ms=0,
        holdout_end_ms=1,
        candidates=[f"a{i}" for i in range(n)],
        users=[f"u{i}" for i in range(len(targets))],
        targets=targets,
        exclude=[[] for _ in targets],
        warm=np.ones(len(targets), dtype=bool),
        popularity=np.zeros(n),
        tiers=np.array(tiers),
    )


def test_tier_metrics_restrict_targets_and_carry_cis() -> None:
    # items 0, 1 in tier 1; items 2, 3 in tier 2; others in tiers 3..5
    es = _eval_set([1, 1, 2, 2, 3, 4, 5], [{0, 2}, {3}, {1}])
    lists = np.array([[2, 0, 1, 3], [1, 0, 2, 5], [0, 2, 3, 1]])
    out = tier_metrics(es, lists, n_boot=100)
    assert out["1"]["n_users"] == 2  # users 0 and 2
    assert out["1"]["mrr"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert out["2"]["n_users"] == 2 and out["2"]["mrr"] == pytest.approx((1 + 0) / 2)
    lo, hi = out["1"]["mrr_ci"]
    assert 0.25 <= lo <= out["1"]["mrr"] <= hi <= 0.5
    assert out["5"]["n_users"] == 0 and np.isnan(out["5"]["hr10"])
    twice = tier_metrics(es, [lists, lists], n_boot=100)
    assert all(twice[k] == out[k] for k in ("1", "2"))
