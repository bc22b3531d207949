"""The co-listening graph: HeteroData from edge and content frames, and the time split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from colisten import names
from trainers.store_loader import (  # noqa: F401  (re-exported: the graph's inputs)
    CONTENT_COLUMNS,
    CONTENT_VIEW,
    EDGE_COLUMNS,
    EDGES_VIEW,
    GraphInputs,
    load_graph_inputs,
    load_item_content,
)

EdgeType = tuple[str, str, str]

LABEL_EDGE_TYPES: dict[str, EdgeType] = {
    names.REL_AA: (names.AUDIOBOOK, names.REL_AA, names.AUDIOBOOK),
    names.REL_AP: (names.AUDIOBOOK, names.REL_AP, names.PODCAST),
    names.REL_PP: (names.PODCAST, names.REL_PP, names.PODCAST),
}
"""Canonical (supervised) edge type of each co-listening relation."""
REVERSE_REL: dict[str, str] = {names.REL_AP: "pa", "ua": "au", "up": "pu"}
"""Name of the reverse edge type of each bipartite relation (same-type ones reuse theirs)."""


@dataclass(frozen=True)
class IdMaps:
    """Dense node index <-> item id, per node type (ids sorted, so maps are reproducible)."""

    ids: dict[str, list[str]]

    def index(self, node_type: str) -> dict[str, int]:
        """item id -> dense index for one node type."""
        return {item: i for i, item in enumerate(self.ids[node_type])}


def count_stratum(n_users: np.ndarray) -> np.ndarray:
    """floor(log2(n_users)): strata 1 | 2-3 | 4-7 | ... users per edge (0 or less: 0)."""
    n = np.maximum(np.asarray(n_users, dtype=np.int64), 1)
    return np.floor(np.log2(n)).astype(np.int64)


def time_holdout_mask(
    times: np.ndarray, val_frac: float, strata: np.ndarray | None = None
) -> np.ndarray:
    """True for the round(val_frac * n) newest entries, taken stratum by stratum.

    Each entry is scored by its mid-rank by time within its stratum, (rank + 0.5) / size
    (1 = the newest); the highest scores are held out (ties: newer, then later position),
    so each stratum gives about val_frac of its own entries. No strata: one stratum, so
    this is plainly the newest round(val_frac * n).
    """
    times = np.asarray(times)
    n = len(times)
    n_val = int(round(val_frac * n))
    mask = np.zeros(n, dtype=bool)
    if not n_val:
        return mask
    strata = np.zeros(n, np.int64) if strata is None else np.asarray(strata)
    _, group, sizes = np.unique(strata, return_inverse=True, return_counts=True)
    group = group.ravel()
    by_time = np.lexsort((np.arange(n), times, group))  # stratum, time, position
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(n) - starts[group[by_time]]  # 0 = oldest in its stratum
    score = np.empty(n)
    score[by_time] = (rank + 0.5) / sizes[group[by_time]]
    order = np.lexsort((np.arange(n), times, score))
    mask[order[n - n_val :]] = True
    return mask


def relation_holdout_mask(
    relations: np.ndarray,
    first_ms: np.ndarray,
    n_users: np.ndarray,
    val_frac: float,
) -> np.ndarray:
    """Validation edges: per relation, the val_frac formed last, in every count stratum.

    Why this rule (the paper says only "10% of training edges"; our guide says split by
    time): the newest 10% by *last* co-listen over all relations picks busy pairs (2.31
    vs 1.32 users per edge on `small`, 1.2% pp). By *first* co-listen alone it picks
    pairs seen once (1.02 vs 1.46 users per edge: a pair with more users has more
    chances of an early co-listen). So each relation holds out val_frac of its own edges
    (aa, ap, pp each represented), and within a relation each users-per-edge stratum
    (count_stratum) holds out its newest-formed edges by first_colisten_ms: still a time
    rule, with the train count mix (1.40 vs 1.42 users per edge on `small`).
    """
    relations = np.asarray(relations)
    mask = np.zeros(len(relations), dtype=bool)
    strata = count_stratum(n_users)
    for rel in np.unique(relations):
        rows = np.flatnonzero(relations == rel)
        mask[rows] = time_holdout_mask(
            np.asarray(first_ms)[rows], val_frac, strata[rows]
        )
    return mask


def split_edges_by_time(
    edges: pd.DataFrame, val_frac: float = 0.1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation) edge frames by relation_holdout_mask (rows in pair_id order)."""
    ordered = edges.sort_values([names.PAIR_ID]).reset_index(drop=True)
    mask = relation_holdout_mask(
        ordered["relation"].to_numpy(),
        ordered["first_colisten_ms"].to_numpy(),
        ordered["n_users"].to_numpy(),
        val_frac,
    )
    return ordered[~mask].reset_index(drop=True), ordered[mask].reset_index(drop=True)


TIME_COLS = ("last_colisten_ms", "first_colisten_ms", "n_users")
"""Edge columns kept on each supervised edge (as edge_label_time / _first_time / _count)."""
LABEL_ATTRS = ("edge_label_first_time", "edge_label_count")
LabelAttrs = dict[str, torch.Tensor]
"""Per supervised edge: edge_label_time (last co-listen), edge_label_first_time, and
edge_label_count (users per edge); the split reads the last two when present."""


def assemble(
    x_dict: dict[str, torch.Tensor],
    label_edges: dict[EdgeType, torch.Tensor],
    label_times: dict[EdgeType, torch.Tensor],
    label_attrs: dict[EdgeType, LabelAttrs] | None = None,
) -> HeteroData:
    """HeteroData with features, supervised edges and their message-passing directions.

    Same-type relations get both directions under one edge type; a bipartite relation
    (s, r, d) gets its reverse (d, REVERSE_REL[r], s). label_attrs: more per-label-edge
    tensors (edge_label_first_time, edge_label_count), stored under their names.
    """
    data = HeteroData()
    for nt, x in x_dict.items():
        data[nt].x = x
    for et, index in label_edges.items():
        src, rel, dst = et
        data[et].edge_label_index = index
        data[et].edge_label_time = label_times[et]
        for key, value in (label_attrs or {}).get(et, {}).items():
            data[et][key] = value
        if src == dst:
            data[et].edge_index = torch.cat([index, index.flip(0)], dim=1)
        else:
            data[et].edge_index = index
            data[dst, REVERSE_REL[rel], src].edge_index = index.flip(0)
    return data


def build_hetero_data(
    edges_df: pd.DataFrame,
    content_df: pd.DataFrame,
    min_count: int = 1,
    relations: tuple[str, ...] = names.RELATIONS,
) -> tuple[HeteroData, IdMaps]:
    """Graph of every content item (x = text embedding) and the kept co-listening edges."""
    ids: dict[str, list[str]] = {}
    x_dict: dict[str, torch.Tensor] = {}
    dim = len(content_df["text_embedding"].iloc[0]) if len(content_df) else 0
    for nt in names.ITEM_TYPES:
        part = content_df[content_df[names.ITEM_TYPE] == nt].sort_values(names.ITEM_ID)
        ids[nt] = part[names.ITEM_ID].tolist()
        emb = (
            np.stack(part["text_embedding"].to_numpy())
            if len(part)
            else np.zeros((0, dim))
        )
        x_dict[nt] = torch.as_tensor(np.asarray(emb, dtype=np.float32))
    maps = IdMaps(ids)
    kept = edges_df[
        edges_df["relation"].isin(relations) & (edges_df["n_users"] >= min_count)
    ]
    kept = kept.sort_values(names.PAIR_ID)
    label_edges: dict[EdgeType, torch.Tensor] = {}
    label_times: dict[EdgeType, torch.Tensor] = {}
    label_attrs: dict[EdgeType, LabelAttrs] = {}
    for rel in relations:
        et = LABEL_EDGE_TYPES[rel]
        part = kept[kept["relation"] == rel]
        src = part["src_item"].map(maps.index(et[0]))
        dst = part["dst_item"].map(maps.index(et[2]))
        ok = (src.notna() & dst.notna()).to_numpy()  # endpoints without content: drop
        index = np.stack([src[ok].to_numpy(np.int64), dst[ok].to_numpy(np.int64)])
        label_edges[et] = torch.as_tensor(index.reshape(2, -1))
        cols = {c: torch.as_tensor(part[c].to_numpy(np.int64)[ok]) for c in TIME_COLS}
        label_times[et] = cols["last_colisten_ms"]
        label_attrs[et] = {
            "edge_label_first_time": cols["first_colisten_ms"],
            "edge_label_count": cols["n_users"],
        }
    return assemble(x_dict, label_edges, label_times, label_attrs), maps


def label_edge_types(data: HeteroData) -> list[EdgeType]:
    """The supervised edge types of a graph (those carrying edge_label_index)."""
    return [et for et in data.edge_types if "edge_label_index" in data[et]]


def split_hetero_by_time(
    data: HeteroData, val_frac: float = 0.1
) -> tuple[HeteroData, dict[EdgeType, torch.Tensor]]:
    """(training graph without the held-out edges, held-out label edges per type).

    Per supervised edge type, val_frac of its own edges are held out of both supervision
    and message passing: the newest-formed by edge_label_first_time within each
    edge_label_count stratum (relation_holdout_mask says why). A graph without those
    attributes (the user graph's counts) falls back to edge_label_time, one stratum.
    """
    train_edges, train_times, train_attrs, val_edges = {}, {}, {}, {}
    for et in label_edge_types(data):
        store = data[et]
        first = store.get("edge_label_first_time", store.edge_label_time).numpy()
        count = store.get("edge_label_count")
        strata = count_stratum(count.numpy()) if count is not None else None
        held = torch.as_tensor(time_holdout_mask(first, val_frac, strata))
        train_edges[et] = store.edge_label_index[:, ~held]
        train_times[et] = store.edge_label_time[~held]
        train_attrs[et] = {k: store[k][~held] for k in LABEL_ATTRS if k in store}
        val_edges[et] = store.edge_label_index[:, held]
    x_dict = {nt: data[nt].x for nt in data.node_types}
    return assemble(x_dict, train_edges, train_times, train_attrs), val_edges
