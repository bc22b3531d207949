"""HGNN-w-users baseline: the same layer/model on a tripartite user-audiobook-podcast graph.

Users are nodes; edges join a user to every item they touched (streams and weak signals)
in the 90 days before the cut-off, both directions (ua/au, up/pu). A user's features are
the L2-normalised mean text embedding of those items (so the model stays inductive for
users too). Training is link prediction on user->item edges with the same margin loss,
balanced sampler and early stopping as the item graph; validation holds out, per
relation, the newest-formed user-item links (by first touch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from colisten import names
from trainers.graph import EdgeType, assemble
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.infer import embed
from trainers.hgnn.train import TrainResult, train_hgnn

USER = "user"
WINDOW_MS = 90 * 24 * 3600 * 1000
USER_EDGE_TYPES: dict[str, EdgeType] = {
    names.AUDIOBOOK: (USER, "ua", names.AUDIOBOOK),
    names.PODCAST: (USER, "up", names.PODCAST),
}


@dataclass
class WithUsersResult:
    """User and item embeddings (unit norm) and the training record."""

    users: pd.DataFrame
    items: pd.DataFrame
    train: TrainResult | None
    """None when the embeddings were read back from a saved run."""


def build_user_graph(
    events: pd.DataFrame,
    content: pd.DataFrame,
    cutoff_ms: int,
    window_ms: int = WINDOW_MS,
) -> tuple[HeteroData, dict[str, list[str]]]:
    """(HeteroData, ids per node type) from events in (cutoff - window, cutoff)."""
    ev = events[
        (events[names.TS] < cutoff_ms) & (events[names.TS] > cutoff_ms - window_ms)
    ]
    ev = ev[ev[names.ITEM_ID].isin(set(content[names.ITEM_ID]))]
    pairs = ev.groupby(
        [names.USER_ID, names.ITEM_ID, names.ITEM_TYPE], as_index=False
    ).agg(first_ts=(names.TS, "min"), last_ts=(names.TS, "max"))
    ids = {USER: sorted(pairs[names.USER_ID].unique())}
    x_dict: dict[str, torch.Tensor] = {}
    emb_by_item: dict[str, np.ndarray] = {}
    for nt in names.ITEM_TYPES:
        part = content[content[names.ITEM_TYPE] == nt].sort_values(names.ITEM_ID)
        ids[nt] = part[names.ITEM_ID].tolist()
        mat = np.stack(part["text_embedding"].to_numpy()).astype(np.float32)
        x_dict[nt] = torch.as_tensor(mat)
        emb_by_item.update(zip(ids[nt], mat, strict=True))
    index = {nt: {k: i for i, k in enumerate(v)} for nt, v in ids.items()}
    user_idx = pairs[names.USER_ID].map(index[USER]).to_numpy()
    item_vecs = np.stack([emb_by_item[i] for i in pairs[names.ITEM_ID]])
    sums = np.zeros((len(ids[USER]), item_vecs.shape[1]), np.float32)
    np.add.at(sums, user_idx, item_vecs)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    x_dict[USER] = torch.as_tensor(sums)
    label_edges, label_times, label_attrs = {}, {}, {}
    for nt, et in USER_EDGE_TYPES.items():
        part = pairs[pairs[names.ITEM_TYPE] == nt]
        src = part[names.USER_ID].map(index[USER]).to_numpy(np.int64)
        dst = part[names.ITEM_ID].map(index[nt]).to_numpy(np.int64)
        label_edges[et] = torch.as_tensor(np.stack([src, dst]).reshape(2, -1))
        label_times[et] = torch.as_tensor(part["last_ts"].to_numpy(np.int64))
        first = torch.as_tensor(part["first_ts"].to_numpy(np.int64))
        label_attrs[et] = {"edge_label_first_time": first}
    return assemble(x_dict, label_edges, label_times, label_attrs), ids


def train_with_users(
    events: pd.DataFrame,
    content: pd.DataFrame,
    cutoff_ms: int,
    cfg: HGNNConfig,
    progress: bool = True,
) -> WithUsersResult:
    """Train the tripartite baseline and embed every user and item in the graph."""
    data, ids = build_user_graph(events, content, cutoff_ms)
    result = train_hgnn(data, cfg, progress=progress)
    mode = result.inference.mode if result.inference else "full"
    z = embed(result.model, data, cfg, mode)
    users = pd.DataFrame({names.USER_ID: ids[USER], "embedding": list(z[USER])})
    items = pd.concat(
        [
            pd.DataFrame(
                {names.ITEM_ID: ids[nt], names.ITEM_TYPE: nt, "embedding": list(z[nt])}
            )
            for nt in names.ITEM_TYPES
        ],
        ignore_index=True,
    )
    return WithUsersResult(users, items, result)
