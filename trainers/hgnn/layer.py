"""The paper's heterogeneous GraphSAGE layer: per-relation max-pool, one self term per node.

For relation r, ``agg_r(c) = max_{c' in N_r(c)} relu(W_r h_c' + b_r)`` (element-wise), and
``h_c = act(W_c h_c + sum_r agg_r(c))``. sigma is ReLU. W_c (no bias; the relation terms
carry the b of the paper) is applied exactly once per node, whatever the number of
relations. Because every message is a ReLU output (>= 0), a node with no neighbours in
a relation aggregates to 0, which is also what PyG's max aggregation returns for it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

EdgeType = tuple[str, str, str]


class RelationMaxPool(MessagePassing):
    """agg_r: element-wise max over neighbours of relu(W_r h + b); 0 without neighbours."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__(aggr="max", flow="source_to_target")
        self.lin = nn.Linear(in_dim, out_dim, bias=True)

    def forward(
        self,
        x_src: Tensor,
        edge_index: Tensor,
        num_dst: int,
        edge_chunk: int | None = None,
    ) -> Tensor:
        """Aggregate into num_dst target nodes; edge_chunk bounds memory (same result)."""
        msg = torch.relu(self.lin(x_src))  # per source node, not per edge
        if edge_chunk is None or edge_index.size(1) <= edge_chunk:
            return self.propagate(edge_index, x=msg, size=(msg.size(0), num_dst))
        out = msg.new_zeros(num_dst, msg.size(1))
        for start in range(0, edge_index.size(1), edge_chunk):
            part = edge_index[:, start : start + edge_chunk]
            part_out = self.propagate(part, x=msg, size=(msg.size(0), num_dst))
            out = torch.maximum(out, part_out)  # exact: empty rows are 0, messages >= 0
        return out

    def message(self, x_j: Tensor) -> Tensor:
        """The neighbour's transformed state, unchanged."""
        return x_j


class HeteroSageLayer(nn.Module):
    """One layer over every node and edge type: h = act(W_c h + sum_r agg_r)."""

    def __init__(
        self,
        node_types: list[str],
        edge_types: list[EdgeType],
        in_dim: int,
        out_dim: int,
        activation: bool = True,
        shared_self: bool = False,
    ) -> None:
        super().__init__()
        self.node_types = list(node_types)
        self.edge_types = [tuple(et) for et in edge_types]
        self.activation = activation
        self.shared_self = shared_self
        keys = ["item"] if shared_self else self.node_types
        self.self_lin = nn.ModuleDict(
            {k: nn.Linear(in_dim, out_dim, bias=False) for k in keys}
        )
        rels = sorted({et[1] for et in self.edge_types})
        self.rel = nn.ModuleDict({r: RelationMaxPool(in_dim, out_dim) for r in rels})

    def self_key(self, node_type: str) -> str:
        """Which W_c a node type uses (one shared W_c in the homogeneous ablations)."""
        return "item" if self.shared_self else node_type

    def forward(
        self,
        x_dict: dict[str, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        edge_chunk: int | None = None,
    ) -> dict[str, Tensor]:
        """New states for every node type present in x_dict."""
        out = {nt: self.self_lin[self.self_key(nt)](x) for nt, x in x_dict.items()}
        for et, edge_index in edge_index_dict.items():
            src, rel, dst = et
            if rel not in self.rel or src not in x_dict or dst not in x_dict:
                continue
            agg = self.rel[rel](
                x_dict[src], edge_index, x_dict[dst].size(0), edge_chunk
            )
            out[dst] = out[dst] + agg
        if self.activation:
            out = {nt: torch.relu(h) for nt, h in out.items()}
        return out
