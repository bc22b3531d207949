"""Triplet batches (anchor, positive, negatives) with their sampled neighbourhoods.

Two implementations of one interface (`epoch`, `fixed`; batches with `embeddings`):

- BlockBatches (cfg.batching="blocks", the default): our vectorised sampler
  (trainers.hgnn.neighbors) and the model's block forward, every random draw from one
  seeded generator. On `large` a batch of the same shape costs ~3x less than below.
- PygBatches (cfg.batching="pyg"): PyG's LinkNeighborLoader with triplet negatives and
  HGNN.forward(targets=), the trainer of issue 5. Kept as the reference: the block path
  must give the same loss and gradients on the same sampled subgraph
  (tests/trainers/hgnn/test_batches.py) and is timed against it (bench/hgnn_speed.py).

Negatives are uniform nodes of the positive's type, num_negatives per positive; with
cfg.shared_negatives = S > 0 (blocks only) a batch instead draws S uniform nodes once
and scores every anchor against all of them: the same loss (an average of the hinge
over random negatives), from a third of the seeds of 5 negatives per positive.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.loader import LinkNeighborLoader
from torch_geometric.sampler import NegativeSampling, NeighborSampler

from trainers.graph import EdgeType
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.infer import message_edges
from trainers.hgnn.model import HGNN, forward_block
from trainers.hgnn.neighbors import Block, InNeighbors, sample_block

EVAL_BATCH = 1024
"""Positives per validation batch of the block path (no gradients; a node's sampled
neighbourhood does not depend on its batch, so this changes speed, not the metric)."""


class Triplets(Protocol):
    """One batch of positive edges of one edge type, ready to embed."""

    @property
    def et(self) -> EdgeType:
        """The batch's supervised edge type."""
        ...

    @property
    def size(self) -> int:
        """Positive edges in the batch."""
        ...

    def embeddings(self, model: HGNN) -> tuple[Tensor, Tensor, Tensor]:
        """(anchor [B, d], positive [B, d], negatives [B, K, d] or shared [K, d])."""
        ...


Epoch = tuple[Iterator[tuple[EdgeType, Triplets]], int]


def _order(
    counts: dict[EdgeType, int], batch_size: int, generator: torch.Generator
) -> tuple[list[tuple[EdgeType, int]], dict[EdgeType, Tensor]]:
    """Every relation's edges shuffled and cut into batches; all batches shuffled."""
    perms = {et: torch.randperm(n, generator=generator) for et, n in counts.items()}
    slots = [
        (et, start) for et, n in counts.items() for start in range(0, n, batch_size)
    ]
    order = torch.randperm(len(slots), generator=generator).tolist()
    return [slots[i] for i in order], perms


@dataclass(frozen=True)
class BlockTriplets:
    """A triplet batch as local ids into its sampled block's seeds."""

    et: EdgeType
    block: Block
    anchor: Tensor
    pos: Tensor
    neg: Tensor
    """[B, K] per anchor, or [S] shared by every anchor."""
    x: dict[str, Tensor]

    @property
    def size(self) -> int:
        """Positive edges in the batch."""
        return int(self.anchor.numel())

    def embeddings(self, model: HGNN) -> tuple[Tensor, Tensor, Tensor]:
        """(anchor [B, d], positive [B, d], negatives [B, K, d] or shared [S, d])."""
        src, _, dst = self.et
        z = forward_block(model, self.x, self.block)
        neg = z[dst].index_select(0, self.neg.reshape(-1))
        return (
            z[src].index_select(0, self.anchor),
            z[dst].index_select(0, self.pos),
            neg.view(*self.neg.shape, -1),
        )


class BlockBatches:
    """Triplet batches over a graph with the vectorised block sampler."""

    def __init__(self, data: HeteroData, cfg: HGNNConfig, device: torch.device):
        self.data = data
        self.cfg = cfg
        self.device = device
        self.num_nodes = {nt: int(data[nt].num_nodes) for nt in data.node_types}
        self.x = {nt: data[nt].x.to(device) for nt in data.node_types}
        self.neighbors = InNeighbors.from_edges(message_edges(data), self.num_nodes)

    def batch(
        self,
        et: EdgeType,
        edges: Tensor,
        generator: torch.Generator,
        shared: int = 0,
    ) -> BlockTriplets:
        """The triplets of edges [2, B]: fresh negatives and a fresh neighbourhood."""
        src, _, dst = et
        b = edges.size(1)
        shape = (shared,) if shared else (b, self.cfg.num_negatives)
        neg = torch.randint(0, max(self.num_nodes[dst], 1), shape, generator=generator)
        if src == dst:
            seeds = {src: torch.cat([edges[0], edges[1], neg.view(-1)])}
        else:
            seeds = {src: edges[0], dst: torch.cat([edges[1], neg.view(-1)])}
        block, local = sample_block(self.neighbors, seeds, self.cfg.fanouts, generator)
        ids = local[dst][b:] if src != dst else local[src][2 * b :]
        pos = local[dst][:b] if src != dst else local[src][b : 2 * b]
        return BlockTriplets(
            et,
            block.to(self.device),
            local[src][:b].to(self.device),
            pos.to(self.device),
            ids.view(shape).to(self.device),
            self.x,
        )

    def epoch(self, edges: dict[EdgeType, Tensor], generator: torch.Generator) -> Epoch:
        """One epoch's shuffled batches of every edge type, and how many there are."""
        size = self.cfg.batch_size
        slots, perms = _order(
            {et: e.size(1) for et, e in edges.items()}, size, generator
        )

        def batches() -> Iterator[tuple[EdgeType, Triplets]]:
            for et, start in slots:
                pick = edges[et][:, perms[et][start : start + size]]
                yield et, self.batch(et, pick, generator, self.cfg.shared_negatives)

        return batches(), len(slots)

    def fixed(self, et: EdgeType, edges: Tensor, seed: int) -> Iterator[BlockTriplets]:
        """Validation batches: edges in order, num_negatives each, draws fixed by seed."""
        generator = torch.Generator().manual_seed(seed)
        for start in range(0, edges.size(1), EVAL_BATCH):
            yield self.batch(et, edges[:, start : start + EVAL_BATCH], generator)


@dataclass(frozen=True)
class PygTriplets:
    """A LinkNeighborLoader triplet batch (a HeteroData subgraph)."""

    et: EdgeType
    data: HeteroData
    device: torch.device

    @property
    def size(self) -> int:
        """Positive edges in the batch."""
        return int(self.data[self.et[0]].src_index.numel())

    def embeddings(self, model: HGNN) -> tuple[Tensor, Tensor, Tensor]:
        """(anchor [B, d], positive [B, d], negatives [B, K, d])."""
        batch = self.data.to(self.device)
        src, _, dst = self.et
        seeds = {
            src: batch[src].src_index,
            dst: torch.cat(
                [batch[dst].dst_pos_index, batch[dst].dst_neg_index.view(-1)]
            ),
        }
        if src == dst:
            seeds = {src: torch.cat([batch[src].src_index, seeds[dst]])}
        z = model(batch.x_dict, batch.edge_index_dict, targets=seeds)
        neg_index = batch[dst].dst_neg_index
        return (
            z[src].index_select(0, batch[src].src_index),
            z[dst].index_select(0, batch[dst].dst_pos_index),
            z[dst].index_select(0, neg_index.reshape(-1)).view(*neg_index.shape, -1),
        )


def neighbor_sampler(data: HeteroData, cfg: HGNNConfig) -> NeighborSampler:
    """Uniform fixed fan-out sampler over data (torch-sparse backend; no pyg-lib here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*without a 'pyg-lib' installation.*"
        )
        return NeighborSampler(data, num_neighbors=list(cfg.fanouts))


class PygBatches:
    """Triplet batches from PyG's LinkNeighborLoader (global torch RNG)."""

    def __init__(self, data: HeteroData, cfg: HGNNConfig, device: torch.device):
        self.data = data
        self.cfg = cfg
        self.device = device
        self.sampler = neighbor_sampler(data, cfg)

    def loader(
        self, et: EdgeType, edges: Tensor, generator: torch.Generator | None
    ) -> LinkNeighborLoader:
        """Batches of edges [2, E]; shuffled when a generator is given."""
        return LinkNeighborLoader(
            self.data,
            list(self.cfg.fanouts),
            edge_label_index=(et, edges),
            neg_sampling=NegativeSampling("triplet", amount=self.cfg.num_negatives),
            batch_size=self.cfg.batch_size,
            shuffle=generator is not None,
            neighbor_sampler=self.sampler,
            generator=generator,
        )

    def epoch(self, edges: dict[EdgeType, Tensor], generator: torch.Generator) -> Epoch:
        """One epoch's batches of every edge type in a seeded random order."""
        loaders = {et: self.loader(et, e, generator) for et, e in edges.items()}
        slots = [et for et, ld in loaders.items() for _ in range(len(ld))]
        order = torch.randperm(len(slots), generator=generator).tolist()

        def batches() -> Iterator[tuple[EdgeType, Triplets]]:
            iters = {et: iter(ld) for et, ld in loaders.items()}
            for i in order:
                et = slots[i]
                yield et, PygTriplets(et, next(iters[et]), self.device)

        return batches(), len(slots)

    def fixed(self, et: EdgeType, edges: Tensor, seed: int) -> Iterator[PygTriplets]:
        """Validation batches in order; the caller fixes the global RNG (seed unused)."""
        for batch in self.loader(et, edges, None):
            yield PygTriplets(et, batch, self.device)


def make_batches(
    data: HeteroData, cfg: HGNNConfig, device: torch.device
) -> BlockBatches | PygBatches:
    """The batch maker cfg.batching asks for."""
    if cfg.batching == "pyg":
        return PygBatches(data, cfg, device)
    return BlockBatches(data, cfg, device)
