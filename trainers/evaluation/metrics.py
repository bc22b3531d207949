"""The paper's offline metrics: HR@10, MRR over the top 100, Coverage, bootstrap CIs.

Per user, a ranked list of the top 100 candidates (items the user streamed before the
cut-off removed). HR@10: 1 if any held-out item is in the top 10. MRR: 1 / rank of the
first held-out item within the top 100, else 0. Coverage: share of the candidate
catalogue appearing in at least one user's top 100. 95% CIs: percentile bootstrap over
users (seeded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

TOP_N = 100
HR_K = 10


def top_lists(
    scores: np.ndarray, exclude: Sequence[Sequence[int]], n: int = TOP_N
) -> np.ndarray:
    """Indices of each row's n best items, best first; excluded items never appear.

    Ties break by lower item index (stable), so lists are deterministic.
    """
    s = np.array(scores, dtype=np.float64, copy=True)
    for u, items in enumerate(exclude):
        if len(items):
            s[u, list(items)] = -np.inf
    n = min(n, s.shape[1])
    part = (
        np.argpartition(-s, n - 1, axis=1)[:, :n]
        if n < s.shape[1]
        else np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
    )
    vals = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    out = np.take_along_axis(part, order, axis=1)
    # lists may be shorter than n when a user excludes most of the catalogue
    return np.where(np.isfinite(np.take_along_axis(s, out, axis=1)), out, -1)


def hits_at(
    lists: np.ndarray, targets: Sequence[set[int]], k: int = HR_K
) -> np.ndarray:
    """Per user: 1.0 if a target is among the first k items of the list, else 0.0."""
    return np.array(
        [
            float(any(int(i) in t for i in row[:k]))
            for row, t in zip(lists, targets, strict=True)
        ]
    )


def reciprocal_ranks(
    lists: np.ndarray, targets: Sequence[set[int]], n: int = TOP_N
) -> np.ndarray:
    """Per user: 1 / rank of the first target in the top n, else 0.0."""
    out = np.zeros(len(lists))
    for u, (row, t) in enumerate(zip(lists, targets, strict=True)):
        for rank, item in enumerate(row[:n], start=1):
            if int(item) in t:
                out[u] = 1.0 / rank
                break
    return out


def coverage(lists: np.ndarray, n_items: int, n: int = TOP_N) -> float:
    """Share of the n_items candidates appearing in any user's top n."""
    seen = np.unique(lists[:, :n])
    return float((seen >= 0).sum()) / max(n_items, 1)


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean over users."""
    if len(values) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    means = values[idx].mean(axis=1)
    return (
        float(np.quantile(means, alpha / 2)),
        float(np.quantile(means, 1 - alpha / 2)),
    )


def coverage_ci(
    lists: np.ndarray, n_items: int, n_boot: int = 200, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of Coverage, resampling users.

    Biased low: a resample of n users holds ~0.63 n distinct ones, whose lists' union is
    smaller, so the interval can lie below the point estimate (the report says so).
    """
    if len(lists) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    n = len(lists)
    top = lists[:, :TOP_N]
    flat = top.ravel()
    keep = flat >= 0
    order = np.argsort(flat[keep], kind="stable")
    items = flat[keep][order]
    users = np.repeat(np.arange(n), top.shape[1])[keep][order]
    # an item is covered when any user listing it is drawn: one reduceat per draw, not
    # np.unique over the resampled lists (10k users x 100, 200 draws: 9 s -> 0.6 s)
    starts = (
        np.flatnonzero(np.r_[True, items[1:] != items[:-1]]) if len(items) else None
    )
    covs = []
    for _ in range(n_boot):
        drawn = np.zeros(n, dtype=bool)
        drawn[rng.integers(0, n, n)] = True
        hit = (
            0 if starts is None else np.logical_or.reduceat(drawn[users], starts).sum()
        )
        covs.append(float(hit) / max(n_items, 1))
    return (float(np.quantile(covs, 0.025)), float(np.quantile(covs, 0.975)))


@dataclass(frozen=True)
class Metrics:
    """HR@10, MRR@100 and Coverage@100 with 95% CIs, over n_users users."""

    n_users: int
    hr10: float
    hr10_ci: tuple[float, float]
    mrr: float
    mrr_ci: tuple[float, float]
    coverage: float
    coverage_ci: tuple[float, float]

    def to_json(self) -> dict[str, object]:
        """JSON-compatible dict."""
        return asdict(self)


def evaluate_lists(
    lists: np.ndarray,
    targets: Sequence[set[int]],
    n_items: int,
    seed: int = 0,
    n_boot: int = 1000,
) -> Metrics:
    """All three metrics with bootstrap CIs for one method on one user group."""
    hits = hits_at(lists, targets)
    rr = reciprocal_ranks(lists, targets)

    def mean(v: np.ndarray) -> float:
        return float(v.mean()) if len(v) else float("nan")

    return Metrics(
        n_users=len(lists),
        hr10=mean(hits),
        hr10_ci=bootstrap_ci(hits, n_boot, seed),
        mrr=mean(rr),
        mrr_ci=bootstrap_ci(rr, n_boot, seed),
        coverage=coverage(lists, n_items) if len(lists) else float("nan"),
        coverage_ci=coverage_ci(lists, n_items, max(n_boot // 5, 50), seed),
    )
