"""Block batches against the PyG path: same loss and gradients, same fan-outs, determinism."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from tests.trainers.conftest import TinyWorld
from trainers.graph import build_hetero_data, split_hetero_by_time
from trainers.hgnn.batches import BlockBatches, PygBatches
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.infer import infer_embeddings
from trainers.hgnn.loss import margin_loss
from trainers.hgnn.neighbors import sample_block
from trainers.hgnn.train import build_model, train_hgnn

SMALL = {"hidden_dim": 32, "out_dim": 32, "num_negatives": 3, "batch_size": 64}
PER_EDGE = SMALL | {"shared_negatives": 0}
THREADS = max(2, os.cpu_count() or 2)
"""The default thread count of a multi-core machine (the conftest pins 1)."""


@pytest.fixture(scope="module")
def train_data(tiny: TinyWorld) -> HeteroData:
    """The tiny graph's training part."""
    data, _ = build_hetero_data(tiny.edges_as_of(tiny.manifest.split_ms), tiny.content)
    return split_hetero_by_time(data, 0.1)[0]


def _grads(model: torch.nn.Module, loss: torch.Tensor) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, list(model.parameters()), allow_unused=True))


@pytest.mark.parametrize("rel", ["aa", "ap", "pp"])
@pytest.mark.parametrize("shared", [0, 16])
def test_block_loss_and_grads_equal_the_pyg_forward(
    train_data: HeteroData, rel: str, shared: int
) -> None:
    """The same sampled batch through HGNN.forward(targets=) and the block forward."""
    cfg = HGNNConfig(**SMALL, shared_negatives=shared)
    torch.manual_seed(0)
    model = build_model(train_data, cfg)
    et = next(et for et in train_data.edge_types if et[1] == rel)
    edges = train_data[et].edge_label_index[:, :64]
    batch = BlockBatches(train_data, cfg, torch.device("cpu")).batch(
        et, edges, torch.Generator().manual_seed(1), shared
    )
    new = margin_loss(*batch.embeddings(model), cfg.margin)

    block, (src, _, dst) = batch.block, et
    x = {nt: train_data[nt].x[block.nodes[nt]] for nt in block.nodes}
    sub = {e: block.edge_index(0, e) for e in block.edges[0]}
    seeds = {nt: torch.arange(n) for nt, n in block.rows[-1].items()}
    z = model(x, sub, targets=seeds)  # the old path's forward on this subgraph
    neg = z[dst][batch.neg.reshape(-1)].view(*batch.neg.shape, -1)
    old = margin_loss(z[src][batch.anchor], z[dst][batch.pos], neg, cfg.margin)

    assert float(new.detach()) == pytest.approx(float(old.detach()), abs=1e-7)
    for a, b in zip(_grads(model, new), _grads(model, old), strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_first_hop_fanout_matches_pyg(train_data: HeteroData) -> None:
    """Edges into the seeds: min(degree, fan-out) per edge type in both samplers."""
    cfg = HGNNConfig(**PER_EDGE)
    seeds = {
        nt: torch.arange(0, int(train_data[nt].num_nodes), 3)
        for nt in ("audiobook", "podcast")
    }
    out = PygBatches(train_data, cfg, torch.device("cpu")).sampler._sample(seeds)
    blocks = BlockBatches(train_data, cfg, torch.device("cpu"))
    block, _ = sample_block(
        blocks.neighbors, seeds, cfg.fanouts, torch.Generator().manual_seed(0)
    )
    for et, col in out.col.items():
        pyg_into_seeds = int((col < len(seeds[et[2]])).sum())
        assert block.edge_index(1, et).size(1) == pyg_into_seeds, et


def _same_grads_twice(batches: BlockBatches | PygBatches, cfg: HGNNConfig) -> bool:
    """One batch's gradients, computed three times, are bit-identical."""
    torch.manual_seed(0)
    model = build_model(batches.data, cfg)
    edges = {
        et: batches.data[et].edge_label_index
        for et in batches.data.edge_types
        if "edge_label_index" in batches.data[et]
    }
    (it, _), runs = batches.epoch(edges, torch.Generator().manual_seed(3)), []
    _, batch = next(it)
    for _ in range(3):
        loss = margin_loss(*batch.embeddings(model), cfg.margin)
        runs.append(_grads(model, loss))
    return all(
        (a is None and b is None) or torch.equal(a, b)
        for other in runs[1:]
        for a, b in zip(runs[0], other, strict=True)
    )


@pytest.mark.parametrize("batching", ["blocks", "pyg"])
def test_same_seed_same_embeddings_at_default_threads(
    train_data: HeteroData, batching: str
) -> None:
    """Bit-identical at several threads.

    Before issue 15 they were not: advanced indexing (z[index]) with gradients has
    IndexBackward = index_put_(accumulate=True), which on CPU adds in parallel with
    atomics, in whatever order the threads arrive. index_select's backward (index_add_)
    and the other ops of a step are deterministic at a fixed thread count.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        # full-size layers: index_put_'s threads only split work above 32k elements
        paper = {"batch_size": 256, "shared_negatives": 0}
        extra = paper if batching == "pyg" else {}
        cfg = HGNNConfig(batching=batching, max_epochs=1, inference="full", **extra)
        kind = PygBatches if batching == "pyg" else BlockBatches
        assert _same_grads_twice(kind(train_data, cfg, torch.device("cpu")), cfg)
        runs = [
            infer_embeddings(
                train_hgnn(train_data, cfg, progress=False).model, train_data
            )
            for _ in "ab"
        ]
        for nt in runs[0]:
            assert np.array_equal(runs[0][nt], runs[1][nt])
    finally:
        torch.set_num_threads(threads)
