"""Scorers of every row of the paper's tables, and the ranked lists they produce.

A scorer is user vectors · item vectors plus a vanishing popularity prior, so a user
without a vector (no history, not in a graph) gets the Popularity list, and ties break
by popularity. Popularity itself is the prior alone (90 days before the cut-off).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from colisten import names
from trainers.evaluation.metrics import TOP_N, top_lists
from trainers.evaluation.split import EvalSet

PRIOR = 1e-6


class RowScorer(Protocol):
    """Anything that scores users (by position in the EvalSet) against every candidate."""

    def scores(self, pos: Sequence[int]) -> np.ndarray:
        """(len(pos), candidates) scores; larger ranks earlier."""
        ...


@dataclass
class Scorer:
    """scores[u, i] = users[u] · items[i] + PRIOR · popularity rank share."""

    users: np.ndarray | None
    items: np.ndarray | None
    prior: np.ndarray

    def scores(self, pos: Sequence[int]) -> np.ndarray:
        """Scores of the users at positions pos against every candidate."""
        base = np.tile(self.prior, (len(pos), 1))
        if self.users is None or self.items is None:
            return base
        return self.users[list(pos)] @ self.items.T + PRIOR * base


def prior_of(es: EvalSet) -> np.ndarray:
    """Popularity scaled to [0, 1] (the tie-break and fallback of every scorer)."""
    pop = es.popularity
    return pop / pop.max() if len(pop) and pop.max() > 0 else np.zeros(len(pop))


def rank_all(es: EvalSet, scorer: RowScorer, chunk: int = 2000) -> np.ndarray:
    """Top-100 lists of every test user (their earlier streams excluded)."""
    out = []
    for start in range(0, len(es.users), chunk):
        pos = list(range(start, min(start + chunk, len(es.users))))
        out.append(top_lists(scorer.scores(pos), [es.exclude[p] for p in pos], TOP_N))
    return np.concatenate(out) if out else np.zeros((0, TOP_N), np.int64)


def popularity(es: EvalSet) -> Scorer:
    """Most distinct users in the 90 days before the cut-off, the same list for all."""
    return Scorer(None, None, prior_of(es))


def _matrix(
    ids: Sequence[str], vectors: Mapping[str, np.ndarray], dim: int
) -> np.ndarray:
    zero = np.zeros(dim, np.float32)
    return np.stack([np.asarray(vectors.get(i, zero), np.float32) for i in ids])


def touched_mean(
    events: pd.DataFrame,
    cutoff_ms: int,
    users: Sequence[str],
    vectors: Mapping[str, np.ndarray],
    item_type: str = names.AUDIOBOOK,
) -> np.ndarray:
    """Per user: mean vector of the items of item_type touched (any signal) before cutoff."""
    dim = len(next(iter(vectors.values())))
    ev = events[(events[names.TS] < cutoff_ms) & (events[names.ITEM_TYPE] == item_type)]
    ev = ev[ev[names.USER_ID].isin(set(users)) & ev[names.ITEM_ID].isin(vectors.keys())]
    pairs = ev[[names.USER_ID, names.ITEM_ID]].drop_duplicates()
    index = {u: i for i, u in enumerate(users)}
    out = np.zeros((len(users), dim), np.float32)
    cnt = np.zeros(len(users), np.float32)
    rows = pairs[names.USER_ID].map(index).to_numpy()
    mats = (
        _matrix(pairs[names.ITEM_ID].tolist(), vectors, dim)
        if len(pairs)
        else np.zeros((0, dim))
    )
    np.add.at(out, rows, mats)
    np.add.at(cnt, rows, 1.0)
    return out / np.maximum(cnt, 1.0)[:, None]


def knn(es: EvalSet, events: pd.DataFrame, vectors: Mapping[str, np.ndarray]) -> Scorer:
    """LLM-KNN (text vectors) or HGNN (HGNN vectors): mean of touched audiobooks · items."""
    users = touched_mean(events, es.cutoff_ms, es.users, vectors)
    dim = users.shape[1]
    return Scorer(users, _matrix(es.candidates, vectors, dim), prior_of(es))


def with_users(es: EvalSet, users: pd.DataFrame, items: pd.DataFrame) -> Scorer:
    """HGNN-w-users: user node embeddings · item node embeddings of the tripartite graph."""
    u_by = dict(zip(users[names.USER_ID], users["embedding"], strict=True))
    i_by = dict(zip(items[names.ITEM_ID], items["embedding"], strict=True))
    dim = len(next(iter(i_by.values())))
    return Scorer(
        _matrix(es.users, u_by, dim), _matrix(es.candidates, i_by, dim), prior_of(es)
    )


def two_tower(
    es: EvalSet, model_dir: Path, rows: Sequence[Mapping[str, Any]]
) -> Scorer:
    """An exported two-tower version: UserEncoder (numpy) on the rows · item vectors."""
    from colisten.user_encoder import UserEncoder

    enc = UserEncoder.load(model_dir)
    users = enc.encode(rows)
    from trainers.two_tower.export import load_item_vectors

    ids, vectors = load_item_vectors(model_dir, es.item_type)
    by_id = dict(zip([str(i) for i in ids], np.asarray(vectors), strict=True))
    return Scorer(users, _matrix(es.candidates, by_id, users.shape[1]), prior_of(es))


def random_scorer(es: EvalSet, seed: int = 0) -> Scorer:
    """Random item vectors: the chance level of the metrics (for sanity checks)."""
    rng = np.random.default_rng(seed)
    return Scorer(
        rng.standard_normal((len(es.users), 16)),
        rng.standard_normal((len(es.candidates), 16)),
        np.zeros(len(es.candidates)),
    )
