"""A row's results over training seeds: per-user HR@10 / RR, mean and spread over seeds.

A learned row is ranked once per training seed. Its table entry is the mean over seeds:
HR@10 and MRR average each user's value over seeds first, and the 95% CI resamples users
of those averages; Coverage is the mean of the per-seed Coverages (its CI the mean of
the per-seed bounds). With one seed this is exactly `evaluate_lists`. Rows that do not
depend on a seed (Popularity, LLM-KNN, the reference rows) have a single run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainers.evaluation.metrics import (
    Metrics,
    bootstrap_ci,
    coverage,
    coverage_ci,
    hits_at,
    reciprocal_ranks,
)

METRICS = ("hr10", "mrr")


@dataclass(frozen=True)
class RowRuns:
    """One row's top-100 lists and per-user HR@10 and RR, one run per training seed."""

    lists: tuple[np.ndarray, ...]
    hits: np.ndarray
    """(runs, users): 1.0 where a target is in the run's top 10."""
    rr: np.ndarray
    """(runs, users): reciprocal rank of the first target in the run's top 100."""
    seeds: tuple[int, ...] | None
    """Training seed of each run; None for a row that does not depend on a seed."""

    @classmethod
    def of(
        cls,
        lists: Sequence[np.ndarray],
        targets: Sequence[set[int]],
        seeds: Sequence[int] | None = None,
    ) -> RowRuns:
        """Score each run's lists against the targets (one list per user)."""
        if seeds is not None and len(seeds) != len(lists):
            raise ValueError(f"{len(lists)} runs but seeds {seeds}")
        return cls(
            lists=tuple(lists),
            hits=np.stack([hits_at(li, targets) for li in lists]),
            rr=np.stack([reciprocal_ranks(li, targets) for li in lists]),
            seeds=None if seeds is None else tuple(seeds),
        )

    def per_user(self, pos: Sequence[int]) -> dict[str, np.ndarray]:
        """HR@10 and RR of the users at pos, each averaged over the runs."""
        idx = list(pos)
        return {
            "hr10": self.hits[:, idx].mean(axis=0),
            "mrr": self.rr[:, idx].mean(axis=0),
        }


def _mean(v: np.ndarray) -> float:
    return float(v.mean()) if len(v) else float("nan")


def _sd(v: Sequence[float]) -> float | None:
    return float(np.std(v, ddof=1)) if len(v) > 1 else None


def row_metrics(
    run: RowRuns, pos: Sequence[int], n_items: int, seed: int = 0, n_boot: int = 1000
) -> dict[str, Any]:
    """The table entry of a row for the users at pos (plus per-seed values if seeded)."""
    idx = list(pos)
    per_user = run.per_user(idx)
    lists = [li[idx] for li in run.lists]
    covs = [coverage(li, n_items) if len(idx) else float("nan") for li in lists]
    cov_cis = np.array(
        [coverage_ci(li, n_items, max(n_boot // 5, 50), seed) for li in lists]
    )
    out: dict[str, Any] = Metrics(
        n_users=len(idx),
        hr10=_mean(per_user["hr10"]),
        hr10_ci=bootstrap_ci(per_user["hr10"], n_boot, seed),
        mrr=_mean(per_user["mrr"]),
        mrr_ci=bootstrap_ci(per_user["mrr"], n_boot, seed),
        coverage=float(np.mean(covs)),
        coverage_ci=(float(cov_cis[:, 0].mean()), float(cov_cis[:, 1].mean())),
    ).to_json()
    if run.seeds is not None:
        by_seed = {
            "hr10": [_mean(h[idx]) for h in run.hits],
            "mrr": [_mean(r[idx]) for r in run.rr],
            "coverage": covs,
        }
        out |= {
            "seeds": list(run.seeds),
            **{f"{k}_by_seed": v for k, v in by_seed.items()},
            "hr10_sd": _sd(by_seed["hr10"]),
            "mrr_sd": _sd(by_seed["mrr"]),
        }
    return out
