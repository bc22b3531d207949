"""The HGNN: stacked HeteroSageLayers and a final L2 normalisation (z = h / ||h||)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from trainers.hgnn.layer import EdgeType, HeteroSageLayer
from trainers.hgnn.neighbors import Block


@dataclass(frozen=True)
class HGNNArch:
    """Everything needed to rebuild the network: graph metadata and sizes."""

    node_types: tuple[str, ...]
    edge_types: tuple[EdgeType, ...]
    in_dim: int
    hidden_dim: int = 128
    out_dim: int = 128
    num_layers: int = 2
    shared_self: bool = False
    """One W_c for every node type (the homogeneous aa-only / pp-only ablations)."""
    final_relu: bool = False
    """ReLU on the last layer too, as the paper's update formula reads. Off by default:
    a ReLU output is >= 0 (every cosine >= 0) and can be all-zero, which no L2
    normalisation turns into a unit vector; so the last layer is linear, as in PyG's
    GraphSAGE models. Hidden layers always use ReLU."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (for checkpoints loaded with weights_only=True)."""
        out = asdict(self)
        out["node_types"] = list(self.node_types)
        out["edge_types"] = [list(et) for et in self.edge_types]
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HGNNArch:
        """Inverse of to_json."""
        raw = dict(raw)
        raw["node_types"] = tuple(raw["node_types"])
        raw["edge_types"] = tuple(tuple(et) for et in raw["edge_types"])
        return cls(**raw)


class HGNN(nn.Module):
    """num_layers HeteroSageLayers; outputs unit-norm embeddings for every node type."""

    def __init__(self, arch: HGNNArch) -> None:
        super().__init__()
        self.arch = arch
        dims = (
            [arch.in_dim] + [arch.hidden_dim] * (arch.num_layers - 1) + [arch.out_dim]
        )
        self.layers = nn.ModuleList(
            HeteroSageLayer(
                list(arch.node_types),
                list(arch.edge_types),
                dims[i],
                dims[i + 1],
                activation=(i < arch.num_layers - 1) or arch.final_relu,
                shared_self=arch.shared_self,
            )
            for i in range(arch.num_layers)
        )

    def forward(
        self,
        x_dict: dict[str, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        edge_chunk: int | None = None,
        targets: dict[str, Tensor] | None = None,
    ) -> dict[str, Tensor]:
        """z per node type; with targets (node indices), only those rows are computed.

        Node types with no incoming edges use their self path only. Rows outside targets
        are 0 when targets is given; the targets' rows equal the untrimmed computation.
        """
        h = dict(x_dict)
        needs = (
            needed_nodes(targets, h, edge_index_dict, len(self.layers))
            if targets is not None
            else [None] * len(self.layers)
        )
        for layer, need in zip(self.layers, needs, strict=True):
            h = layer(h, edge_index_dict, edge_chunk, need)
        return {nt: F.normalize(z, p=2.0, dim=-1) for nt, z in h.items()}


def forward_block(
    model: HGNN, x_dict: dict[str, Tensor], block: Block
) -> dict[str, Tensor]:
    """z of the block's seeds (its first block.rows[-1][nt] nodes of each type).

    The same values as model(x, edges, targets=seeds) over the block's edges; each layer
    computes only its prefix of rows, messages only for the rows it reads.
    """
    h = {nt: x for nt, x in x_dict.items() if nt in block.nodes}
    ids: dict[str, Tensor] | None = block.nodes
    for layer, rows, edges in zip(model.layers, block.rows, block.edges, strict=True):
        h, ids = layer.forward_block(h, edges, rows, ids), None
    return {nt: F.normalize(z, p=2.0, dim=-1) for nt, z in h.items()}


def needed_nodes(
    targets: dict[str, Tensor],
    x_dict: dict[str, Tensor],
    edge_index_dict: dict[EdgeType, Tensor],
    num_layers: int,
) -> list[dict[str, Tensor]]:
    """Per layer, a mask per node type of the states it must compute for targets' outputs.

    The last layer needs the targets; each earlier one also needs the sources of every
    edge into a node the next layer needs.
    """
    cur = {nt: x.new_zeros(x.size(0), dtype=torch.bool) for nt, x in x_dict.items()}
    for nt, idx in targets.items():
        cur[nt][idx] = True
    needs = [cur]
    for _ in range(num_layers - 1):  # the first layer's inputs need no mask
        prev = {nt: m.clone() for nt, m in cur.items()}
        for (src, _, dst), edge_index in edge_index_dict.items():
            if src in prev and dst in cur:
                prev[src][edge_index[0][cur[dst][edge_index[1]]]] = True
        needs.append(cur := prev)
    return needs[::-1]


def load_model(arch: dict[str, Any], state_dict: dict[str, Tensor]) -> HGNN:
    """Rebuild an HGNN from a checkpoint's arch dict and weights (eval mode)."""
    model = HGNN(HGNNArch.from_json(arch))
    model.load_state_dict(state_dict)
    return model.eval()
