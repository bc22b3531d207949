"""Long tail: HR@10 and MRR per popularity tier, with 95% bootstrap CIs over users.

A user counts in a tier when a held-out target lies in it; their targets are then
restricted to the tier's items. With several training seeds, each user's value is
averaged over seeds before the mean and the bootstrap (as in `seeded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from trainers.evaluation.metrics import bootstrap_ci, hits_at, reciprocal_ranks
from trainers.evaluation.split import N_TIERS, EvalSet


def tier_metrics(
    es: EvalSet,
    lists: np.ndarray | Sequence[np.ndarray],
    seed: int = 0,
    n_boot: int = 1000,
) -> dict[str, dict[str, Any]]:
    """Per tier: n_users, hr10, hr10_ci, mrr, mrr_ci (lists: one array or one per seed)."""
    runs = [lists] if isinstance(lists, np.ndarray) and lists.ndim == 2 else list(lists)
    out = {}
    for tier in range(1, N_TIERS + 1):
        in_tier = set(np.flatnonzero(es.tiers == tier).tolist())
        pos = [u for u, t in enumerate(es.targets) if t & in_tier]
        targets = [es.targets[u] & in_tier for u in pos]
        hits = np.mean([hits_at(r[pos], targets) for r in runs], axis=0)
        rr = np.mean([reciprocal_ranks(r[pos], targets) for r in runs], axis=0)
        out[str(tier)] = {
            "n_users": len(pos),
            "hr10": float(hits.mean()) if pos else float("nan"),
            "hr10_ci": bootstrap_ci(hits, n_boot, seed),
            "mrr": float(rr.mean()) if pos else float("nan"),
            "mrr_ci": bootstrap_ci(rr, n_boot, seed),
        }
    return out
