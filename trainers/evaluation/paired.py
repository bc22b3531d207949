"""Paired bootstrap over users: is 2T-HGNN's HR@10 / MRR different from another row's?

Both rows are scored on the same users, so the test resamples users once and takes the
mean per-user difference (a − b) on that resample: the same indices for both rows. The
95% CI is the percentile interval of those means; the two-sided p-value is twice the
share of resampled means on the far side of 0 (ties at 0 count as the far side), capped
at 1 and floored at 1/n_boot (the resolution of n_boot draws). With several training
seeds, each user's metric is first averaged over seeds (`RowRuns.per_user`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trainers.evaluation.seeded import METRICS, RowRuns

ALPHA = 0.05


@dataclass(frozen=True)
class PairedDiff:
    """Mean of a − b over users, its 95% bootstrap CI, a two-sided p-value."""

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
    """Paired percentile bootstrap over users of mean(a − b) (a[u], b[u]: one user)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 1:
        raise ValueError(f"per-user arrays of equal length expected, got {d.shape}")
    if len(d) == 0:
        nan = float("nan")
        return PairedDiff(0, nan, (nan, nan), nan, False)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    far = min(np.mean(means <= 0), np.mean(means >= 0))
    p = float(min(1.0, max(2 * far, 1.0 / n_boot)))
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
