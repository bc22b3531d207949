"""Inductive full-graph inference: a unit-norm embedding for every node, edges or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from colisten import names
from trainers.graph import IdMaps
from trainers.hgnn.model import HGNN


@torch.no_grad()
def infer_embeddings(
    model: HGNN,
    data: HeteroData,
    device: torch.device | str = "cpu",
    edge_chunk: int | None = 2_000_000,
) -> dict[str, np.ndarray]:
    """z for every node of every type, with full (unsampled) neighbourhoods."""
    model = model.to(device).eval()
    x = {nt: data[nt].x.to(device) for nt in data.node_types}
    edges = {
        et: data[et].edge_index.to(device)
        for et in data.edge_types
        if "edge_index" in data[et]
    }
    z = model(x, edges, edge_chunk)
    return {nt: t.detach().cpu().numpy().astype(np.float32) for nt, t in z.items()}


def embeddings_frame(z: dict[str, np.ndarray], maps: IdMaps) -> pd.DataFrame:
    """item_id, item_type, embedding (float32 array) rows for every item in maps."""
    parts = []
    for nt in names.ITEM_TYPES:
        if nt not in z:
            continue
        parts.append(
            pd.DataFrame(
                {
                    names.ITEM_ID: maps.ids[nt],
                    names.ITEM_TYPE: nt,
                    "embedding": list(z[nt]),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
