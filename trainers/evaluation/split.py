"""The global time split: candidates, test users, their held-out targets, warm/cold, tiers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from colisten import names
from colisten.timeunits import DAY_MS

POP_DAYS = 90
N_TIERS = 5


@dataclass
class EvalSet:
    """One task (audiobooks or podcasts): who is tested on what, and what is excluded."""

    item_type: str
    cutoff_ms: int
    holdout_end_ms: int
    candidates: list[str]
    """Items of the type released at or before the cut-off, sorted (the catalogue)."""
    users: list[str]
    """Test users: at least one held-out stream of a candidate they had not streamed."""
    targets: list[set[int]]
    exclude: list[list[int]]
    """Per user, candidates streamed before the cut-off (removed from their list)."""
    warm: np.ndarray
    """Per user: any audiobook interaction (weak signals included) before the cut-off."""
    popularity: np.ndarray
    """Per candidate: distinct users streaming it in the 90 days before the cut-off."""
    tiers: np.ndarray
    """Per candidate: popularity tier 1 (top 20% of candidates) .. 5 (least popular)."""

    def subset(
        self, mask: np.ndarray
    ) -> tuple[list[int], list[set[int]], list[list[int]]]:
        """(user positions, targets, exclusions) of the users where mask holds."""
        pos = np.flatnonzero(mask).tolist()
        return pos, [self.targets[i] for i in pos], [self.exclude[i] for i in pos]


def popularity_tiers(pop: np.ndarray, n_tiers: int = N_TIERS) -> np.ndarray:
    """Tier per item by popularity rank: equal-sized groups, 1 = most popular."""
    order = np.lexsort((np.arange(len(pop)), -pop))
    tiers = np.empty(len(pop), np.int64)
    tiers[order] = np.arange(len(pop)) * n_tiers // max(len(pop), 1) + 1
    return tiers


def make_eval_set(
    events: pd.DataFrame,
    catalogue: pd.DataFrame,
    cutoff_ms: int,
    holdout_days: float,
    item_type: str = names.AUDIOBOOK,
) -> EvalSet:
    """Train = ts < cutoff; hold-out = [cutoff, cutoff + holdout_days)."""
    end = int(cutoff_ms + holdout_days * DAY_MS)
    released = pd.to_datetime(catalogue["release_date"], utc=True)
    cutoff_ts = pd.Timestamp(cutoff_ms, unit="ms", tz="UTC")
    cat = catalogue[(catalogue[names.ITEM_TYPE] == item_type) & (released <= cutoff_ts)]
    candidates = sorted(cat[names.ITEM_ID])
    index = {item: i for i, item in enumerate(candidates)}
    train = events[events[names.TS] < cutoff_ms]
    hold = events[(events[names.TS] >= cutoff_ms) & (events[names.TS] < end)]
    streams = train[
        (train[names.EVENT_TYPE] == names.STREAM) & train[names.ITEM_ID].isin(index)
    ]
    before = streams.groupby(names.USER_ID)[names.ITEM_ID].agg(
        lambda s: sorted({index[i] for i in s})
    )
    held = hold[
        (hold[names.EVENT_TYPE] == names.STREAM) & hold[names.ITEM_ID].isin(index)
    ]
    held_sets = held.groupby(names.USER_ID)[names.ITEM_ID].agg(
        lambda s: {index[i] for i in s}
    )
    warm_users = set(
        train.loc[train[names.ITEM_TYPE] == names.AUDIOBOOK, names.USER_ID]
    )
    users, targets, exclude = [], [], []
    for user, items in sorted(held_sets.items()):
        seen = before.get(user, [])
        new = items - set(seen)
        if new:
            users.append(str(user))
            targets.append(new)
            exclude.append(list(seen))
    recent = streams[streams[names.TS] >= cutoff_ms - POP_DAYS * DAY_MS]
    counts = recent.groupby(names.ITEM_ID)[names.USER_ID].nunique()
    pop = np.array([float(counts.get(i, 0)) for i in candidates])
    return EvalSet(
        item_type=item_type,
        cutoff_ms=cutoff_ms,
        holdout_end_ms=end,
        candidates=candidates,
        users=users,
        targets=targets,
        exclude=exclude,
        warm=np.array([u in warm_users for u in users], dtype=bool),
        popularity=pop,
        tiers=popularity_tiers(pop),
    )
