"""Paired tests over users (bootstrap CI, sign-flip p) against hand-built arrays."""

from __future__ import annotations

import numpy as np
import pytest

from trainers.evaluation.paired import paired_bootstrap, paired_table, sign_flip_p
from trainers.evaluation.seeded import RowRuns


def test_identical_rows_differ_by_nothing() -> None:
    a = np.array([1.0, 0.0, 1.0, 0.5, 0.0])
    d = paired_bootstrap(a, a.copy(), n_boot=200)
    assert d.diff == 0.0 and d.ci == (0.0, 0.0)
    assert d.p == 1.0 and not d.significant and d.n_users == 5


def test_a_dominating_row_has_the_smallest_p() -> None:
    a = np.array([1.0, 1.0, 0.5, 1.0, 0.25, 1.0])
    b = np.array([0.0, 0.5, 0.0, 0.5, 0.0, 0.0])  # a > b for every user
    d = paired_bootstrap(a, b, n_boot=500, seed=1)
    assert d.diff == pytest.approx((a - b).mean())
    assert 0 < d.ci[0] <= d.diff <= d.ci[1] <= 1
    # six users all one way: 2 of the 2^6 sign assignments reach |sum| (exact)
    assert d.p == pytest.approx(2 / 64) and d.significant
    flipped = paired_bootstrap(b, a, n_boot=500, seed=1)
    assert flipped.diff == -d.diff and flipped.p == d.p
    assert flipped.ci == pytest.approx((-d.ci[1], -d.ci[0]))


def test_a_handful_of_users_cannot_be_significant() -> None:
    # 3 of 6 users hit by one row, none by the other: the bootstrap's tail share said
    # p < .05 here; 3 differing users allow no p below 2/8
    a = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    d = paired_bootstrap(a, np.zeros(6), n_boot=1000)
    assert d.p == pytest.approx(0.25) and not d.significant


def test_sign_flip_is_exact_for_few_users_and_drawn_for_many() -> None:
    d = np.array([0.5, -0.25, 1.0, 0.0, 0.75])  # 4 non-zero: 16 assignments
    sums = [
        abs(sum(s * x for s, x in zip(signs, d[d != 0], strict=True)))
        for signs in np.array(np.meshgrid(*[[-1, 1]] * 4)).T.reshape(-1, 4)
    ]
    brute = np.mean(np.array(sums) >= abs(d.sum()) - 1e-12)
    assert sign_flip_p(d) == pytest.approx(brute)
    assert sign_flip_p(np.zeros(5)) == 1.0
    shifted = np.ones(40)  # 40 users all one way: no draw reaches it
    assert sign_flip_p(shifted, n_draws=999, seed=3) == pytest.approx(1 / 1000)
    balanced = np.tile([1.0, -1.0], 20)
    assert sign_flip_p(balanced, n_draws=999) == 1.0


def test_noise_is_not_significant_and_draws_are_seeded() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(400), rng.random(400)
    d = paired_bootstrap(a, b, n_boot=300, seed=2)
    assert d == paired_bootstrap(a, b, n_boot=300, seed=2)
    assert d.ci[0] < 0 < d.ci[1] and d.p > 0.05 and not d.significant


def test_no_users_gives_nan() -> None:
    d = paired_bootstrap(np.array([]), np.array([]))
    assert d.n_users == 0 and np.isnan(d.diff) and not d.significant


def test_paired_table_averages_seeds_before_pairing() -> None:
    targets = [{0}, {0}]
    theirs = RowRuns.of([np.array([[0, 1], [1, 2]])], targets)  # hits 1, 0; rr 1, 0
    # 2T-HGNN, two seeds: user 1 misses in seed 0, finds item 0 second in seed 1
    ours = RowRuns.of(
        [np.array([[0, 1], [1, 2]]), np.array([[0, 1], [2, 0]])], targets, [0, 1]
    )
    out = paired_table(
        {"2T-HGNN": ours, "Popularity": theirs},
        ["Popularity", "2T-HGNN"],
        [0, 1],
        n_boot=100,
    )
    assert set(out) == {"Popularity"}
    assert out["Popularity"]["hr10"]["diff"] == pytest.approx((0 + 0.5) / 2)
    assert out["Popularity"]["mrr"]["diff"] == pytest.approx((0 + 0.25) / 2)
    assert paired_table({"2T": theirs}, ["2T"], [0, 1]) == {}
