"""Paired tests over users: is 2T-HGNN's HR@10 / MRR different from another row's?

Both rows are scored on the same users. The difference's 95% CI comes from a paired
bootstrap: users are resampled once and the mean per-user difference (a − b) taken on
that resample (the same indices for both rows), and the interval is the percentile
interval of those means. The two-sided p-value comes from a paired sign-flip
(randomisation) test: under "no difference" each user's a − b is as likely negative as
positive, so p is the share of sign assignments whose |sum| is at least the observed
one; exact (every assignment) when at most `EXACT_FLIPS` users differ, else from
`n_boot` random assignments, as (1 + hits) / (1 + draws). Unlike the bootstrap's tail
share, it stays valid with a handful of users: 3 users who all differ one way give
p = 0.25 (MovieLens, session 14: the bootstrap's tail share had said 0.046). With
several training seeds, each user's metric is first averaged over seeds
(`RowRuns.per_user`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trainers.evaluation.seeded import METRICS, RowRuns

ALPHA = 0.05
EXACT_FLIPS = 16
"""Up to this many users with a non-zero difference, the sign-flip test enumerates all
2^n assignments (65,536 at 16)."""


@dataclass(frozen=True)
class PairedDiff:
    """Mean of a − b over users, its 95% bootstrap CI, a two-sided sign-flip p-value."""

    n_users: int
    diff: float
    ci: tuple[float, float]
    p: float
    significant: bool
    """p < 0.05."""

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return asdict(self)


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = ALPHA,
) -> PairedDiff:
    """mean(a − b) over users (a[u], b[u]: one user): bootstrap CI, sign-flip p."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 1:
        raise ValueError(f"per-user arrays of equal length expected, got {d.shape}")
    if len(d) == 0:
        nan = float("nan")
        return PairedDiff(0, nan, (nan, nan), nan, False)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    p = sign_flip_p(d, n_boot, seed)
    return PairedDiff(
        n_users=len(d),
        diff=float(d.mean()),
        ci=(
            float(np.quantile(means, alpha / 2)),
            float(np.quantile(means, 1 - alpha / 2)),
        ),
        p=p,
        significant=p < alpha,
    )


def sign_flip_p(d: np.ndarray, n_draws: int = 1000, seed: int = 0) -> float:
    """Two-sided p of a paired sign-flip test that the per-user differences d centre on 0.

    Users with d = 0 change nothing under a flip and are left out; exact up to
    `EXACT_FLIPS` users that differ, else Monte Carlo over `n_draws` assignments.
    """
    nz = np.asarray(d, dtype=np.float64)
    nz = nz[nz != 0]
    if len(nz) == 0:
        return 1.0
    observed = abs(nz.sum()) * (1 - 1e-12)  # float sums of the same terms may differ
    if len(nz) <= EXACT_FLIPS:
        bits = (np.arange(2 ** len(nz))[:, None] >> np.arange(len(nz))) & 1
        sums = (1 - 2 * bits) @ nz
        return float(np.mean(np.abs(sums) >= observed))
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_draws, len(nz)))
    hits = int(np.sum(np.abs(signs @ nz) >= observed))
    return (1 + hits) / (1 + n_draws)


def paired_table(
    runs: Mapping[str, RowRuns],
    rows: Sequence[str],
    pos: Sequence[int],
    against: str = "2T-HGNN",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """`against` minus each other row of a table, per metric, on the users at pos."""
    if against not in rows:
        return {}
    ours = runs[against].per_user(pos)
    out = {}
    for name in rows:
        if name == against:
            continue
        theirs = runs[name].per_user(pos)
        out[name] = {
            m: paired_bootstrap(ours[m], theirs[m], n_boot, seed).to_json()
            for m in METRICS
        }
    return out
