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


def time_holdout_mask(times: np.ndarray, val_frac: float) -> np.ndarray:
    """True for the round(val_frac * n) most recent entries (ties: later position wins)."""
    n = len(times)
    n_val = int(round(val_frac * n))
    mask = np.zeros(n, dtype=bool)
    if n_val:
        order = np.lexsort((np.arange(n), np.asarray(times)))
        mask[order[n - n_val :]] = True
    return mask


def split_edges_by_time(
    edges: pd.DataFrame, val_frac: float = 0.1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): validation = the val_frac most recent edges by last_colisten_ms."""
    ordered = edges.sort_values([names.PAIR_ID]).reset_index(drop=True)
    mask = time_holdout_mask(ordered["last_colisten_ms"].to_numpy(), val_frac)
    return ordered[~mask].reset_index(drop=True), ordered[mask].reset_index(drop=True)


def assemble(
    x_dict: dict[str, torch.Tensor],
    label_edges: dict[EdgeType, torch.Tensor],
    label_times: dict[EdgeType, torch.Tensor],
) -> HeteroData:
    """HeteroData with features, supervised edges and their message-passing directions.

    Same-type relations get both directions under one edge type; a bipartite relation
    (s, r, d) gets its reverse (d, REVERSE_REL[r], s).
    """
    data = HeteroData()
    for nt, x in x_dict.items():
        data[nt].x = x
    for et, index in label_edges.items():
        src, rel, dst = et
        data[et].edge_label_index = index
        data[et].edge_label_time = label_times[et]
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
    for rel in relations:
        et = LABEL_EDGE_TYPES[rel]
        part = kept[kept["relation"] == rel]
        src = part["src_item"].map(maps.index(et[0]))
        dst = part["dst_item"].map(maps.index(et[2]))
        ok = src.notna() & dst.notna()  # endpoints without content as of the cut-off
        index = np.stack([src[ok].to_numpy(np.int64), dst[ok].to_numpy(np.int64)])
        label_edges[et] = torch.as_tensor(index.reshape(2, -1))
        label_times[et] = torch.as_tensor(
            part["last_colisten_ms"][ok].to_numpy(np.int64)
        )
    return assemble(x_dict, label_edges, label_times), maps


def label_edge_types(data: HeteroData) -> list[EdgeType]:
    """The supervised edge types of a graph (those carrying edge_label_index)."""
    return [et for et in data.edge_types if "edge_label_index" in data[et]]


def split_hetero_by_time(
    data: HeteroData, val_frac: float = 0.1
) -> tuple[HeteroData, dict[EdgeType, torch.Tensor]]:
    """(training graph without the held-out edges, held-out label edges per type).

    The val_frac most recent supervised edges, over all relations together, are held out
    of both supervision and message passing.
    """
    types = label_edge_types(data)
    times = np.concatenate([data[et].edge_label_time.numpy() for et in types] or [[]])
    mask = torch.as_tensor(time_holdout_mask(times, val_frac))
    train_edges, train_times, val_edges = {}, {}, {}
    start = 0
    for et in types:
        n = data[et].edge_label_index.size(1)
        held = mask[start : start + n]
        start += n
        train_edges[et] = data[et].edge_label_index[:, ~held]
        train_times[et] = data[et].edge_label_time[~held]
        val_edges[et] = data[et].edge_label_index[:, held]
    x_dict = {nt: data[nt].x for nt in data.node_types}
    return assemble(x_dict, train_edges, train_times), val_edges
