"""Vectorised neighbour sampling: a batch's seeds -> a layered block of sampled in-edges.

The draw is PyG's NeighborSampler's (torch-sparse backend, which the old trainer used):
hop h expands the nodes first reached at hop h - 1 (the seeds at hop 1), each drawing up
to fanouts[h - 1] in-neighbours per edge type, uniformly without replacement (Robert
Floyd's algorithm, as torch-sparse does); a node is expanded once, at the first hop that
reaches it. What differs is the cost: torch-sparse loops over nodes in C++ with one
`randint` call per pick (about 240k calls and 130 ms per batch on `large`); here a hop
is a few tensor operations over all its nodes.

The block lists each node type's nodes in the order they were reached (seeds, then
hop 1, ...), so the rows a layer computes are a prefix: the last layer the seeds, each
earlier layer one hop more. A layer's in-edges per edge type are dense [targets, k]
matrices, one per hop (k = that hop's fan-out; a target with fewer neighbours repeats
one, which leaves a max unchanged), over the rows whose messages it needs (`used`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

EdgeType = tuple[str, str, str]


@dataclass(frozen=True)
class InNeighbors:
    """Every node's in-neighbours per edge type, as CSR: sources grouped by destination."""

    ptr: dict[EdgeType, Tensor]
    src: dict[EdgeType, Tensor]
    num_nodes: dict[str, int]

    @classmethod
    def from_edges(
        cls, edge_index_dict: dict[EdgeType, Tensor], num_nodes: dict[str, int]
    ) -> InNeighbors:
        """CSR of each edge_index [2, E] by its destination (messages flow src -> dst)."""
        ptr, src = {}, {}
        for et, index in edge_index_dict.items():
            index = index.cpu()
            order = torch.argsort(index[1], stable=True)
            counts = torch.bincount(index[1], minlength=num_nodes[et[2]])
            ptr[et] = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
            src[et] = index[0, order].contiguous()
        return cls(ptr, src, dict(num_nodes))


def sample_in_neighbours(
    ptr: Tensor, src: Tensor, targets: Tensor, k: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Up to k distinct in-neighbours per target, uniformly: (nbr [n, k], count [n]).

    Below k neighbours a target takes them all and repeats its first in the spare
    columns; a target without any has count 0 (its row is -1). Above k, Floyd's
    algorithm picks k distinct positions, k rounds over every such target at once:
    round i draws r uniform in [0, d - k + i] and takes d - k + i instead if r is taken.
    k < 0 takes every neighbour.
    """
    start = ptr[targets]
    deg = ptr[targets + 1] - start
    if k < 0:  # every neighbour, as PyG's -1
        k = int(deg.max()) if len(deg) else 0
    take = deg.clamp(max=k)
    pick = torch.arange(k).expand(len(targets), k).clone()
    many = (deg > k).nonzero().view(-1)
    if len(many):
        d = deg[many]
        u = torch.rand(len(many), k, generator=generator, dtype=torch.float64)
        chosen = pick.new_empty(len(many), k)
        for i in range(k):
            top = d - k + i
            r = (u[:, i] * (top + 1).to(torch.float64)).long().minimum(top)
            if i:
                r = torch.where((chosen[:, :i] == r[:, None]).any(1), top, r)
            chosen[:, i] = r
        pick[many] = chosen
    pick = pick * (torch.arange(k) < take[:, None])  # spare columns: the first
    if len(src) == 0:
        return pick.new_full(pick.shape, -1), take
    nbr = src[(start[:, None] + pick).clamp_max(len(src) - 1)]
    return nbr.masked_fill_((take == 0)[:, None], -1), take


@dataclass(frozen=True)
class LayerEdges:
    """One edge type's sampled in-edges into the rows one layer computes.

    used: the source rows (of the layer's input states) whose messages are needed.
    nbr: per hop, [targets, k] positions into used; the hops' targets are consecutive.
    keep: [targets, 1], 0.0 where a target has no in-edge (None when all have one).
    """

    used: Tensor
    nbr: list[Tensor]
    keep: Tensor | None

    def to(self, device: torch.device | str) -> LayerEdges:
        """The same edges with their tensors on device."""
        keep = None if self.keep is None else self.keep.to(device)
        return LayerEdges(self.used.to(device), [n.to(device) for n in self.nbr], keep)


@dataclass(frozen=True)
class Block:
    """A batch's sampled computation graph, in local node ids per type.

    nodes[nt]: global ids in the order reached (seeds first). rows[l][nt]: how many
    leading nodes layer l computes (the last layer: the seeds). edges[l][et]: what
    layer l aggregates; its used rows index nodes (layer 0) or rows[l - 1].
    """

    nodes: dict[str, Tensor]
    rows: list[dict[str, int]]
    edges: list[dict[EdgeType, LayerEdges]]

    def to(self, device: torch.device | str) -> Block:
        """The same block with its tensors on device."""
        return Block(
            {nt: v.to(device) for nt, v in self.nodes.items()},
            self.rows,
            [{et: e.to(device) for et, e in layer.items()} for layer in self.edges],
        )

    def edge_index(self, layer: int, et: EdgeType) -> Tensor:
        """Layer's distinct sampled edges of et as a local edge_index [2, E] (src, dst)."""
        e = self.edges[layer].get(et)
        if e is None:
            return torch.empty(2, 0, dtype=torch.long)
        nbr = e.used[torch.cat([n.view(-1, n.size(1)) for n in _pad(e.nbr)])]
        dst = torch.arange(nbr.size(0), device=nbr.device)[:, None].expand_as(nbr)
        pairs = torch.stack([nbr, dst], -1).view(-1, 2)
        if e.keep is not None:
            pairs = pairs[(e.keep.view(-1)[pairs[:, 1]] > 0)]
        return torch.unique(pairs, dim=0).t()


def _pad(nbr: list[Tensor]) -> list[Tensor]:
    """The hops' [n, k] matrices widened to one k by repeating their first column."""
    k = max((n.size(1) for n in nbr), default=0)
    return [torch.cat([n] + [n[:, :1]] * (k - n.size(1)), 1) for n in nbr]


def sample_block(
    nbrs: InNeighbors,
    seeds: dict[str, Tensor],
    fanouts: tuple[int, ...],
    generator: torch.Generator,
) -> tuple[Block, dict[str, Tensor]]:
    """The block of seeds' len(fanouts)-hop sampled neighbourhood, and seeds' local ids.

    seeds may repeat (an anchor that is also a negative); each node appears once.
    """
    types = sorted(nbrs.num_nodes)
    local = {nt: torch.full((nbrs.num_nodes[nt],), -1) for nt in types}
    nodes: dict[str, list[Tensor]] = {nt: [] for nt in types}
    count = dict.fromkeys(types, 0)
    frontier = {}
    for nt in types:
        uniq = torch.unique(seeds.get(nt, torch.empty(0, dtype=torch.long)))
        local[nt][uniq] = torch.arange(len(uniq))
        nodes[nt].append(uniq)
        frontier[nt], count[nt] = uniq, len(uniq)
    seed_local = {nt: local[nt][s] for nt, s in seeds.items()}
    hops: list[dict[str, int]] = [dict(count)]
    sampled: list[dict[EdgeType, tuple[Tensor, Tensor]]] = []
    for k in fanouts:
        drawn = {
            et: sample_in_neighbours(
                nbrs.ptr[et], nbrs.src[et], frontier[et[2]], k, generator
            )
            for et in nbrs.ptr
        }
        for nt in types:
            cand = [
                nbr[take > 0].view(-1)
                for et, (nbr, take) in drawn.items()
                if et[0] == nt
            ]
            cand_all = torch.cat(cand) if cand else torch.empty(0, dtype=torch.long)
            new = torch.unique(cand_all[local[nt][cand_all] < 0])
            local[nt][new] = torch.arange(count[nt], count[nt] + len(new))
            nodes[nt].append(new)
            frontier[nt], count[nt] = new, count[nt] + len(new)
        sampled.append(
            {
                et: (torch.where(nbr >= 0, local[et[0]][nbr], -1), take)
                for et, (nbr, take) in drawn.items()
            }
        )
        hops.append(dict(count))
    layers = len(fanouts)
    rows = [hops[layers - 1 - layer] for layer in range(layers)]
    edges = []
    for layer in range(layers):
        inputs = hops[layers] if layer == 0 else rows[layer - 1]
        segments = sampled[: layers - layer]
        edges.append(
            {
                et: e
                for et in nbrs.ptr
                if (e := _layer_edges([s[et] for s in segments], inputs[et[0]]))
            }
        )
    block = Block({nt: torch.cat(v) for nt, v in nodes.items()}, rows, edges)
    return block, seed_local


def _layer_edges(
    segments: list[tuple[Tensor, Tensor]], num_inputs: int
) -> LayerEdges | None:
    """LayerEdges from per-hop (local nbr, count); None when there is no edge at all."""
    take = torch.cat([t for _, t in segments])
    if not bool((take > 0).any()):
        return None
    mark = torch.zeros(num_inputs + 1, dtype=torch.bool)  # slot num_inputs: the -1s
    for nbr, _ in segments:
        mark[nbr.view(-1)] = True
    mark[-1] = False
    used = mark[:-1].nonzero().view(-1)
    position = torch.cumsum(mark, 0) - 1
    position[-1] = 0  # targets without in-edges read message 0, then keep zeroes it
    matrices = [position[n] for n, _ in segments]
    keep = None if bool((take > 0).all()) else (take > 0).to(torch.float32)[:, None]
    return LayerEdges(used, matrices, keep)
