"""Full and sampled inference on small random graphs: sampling, determinism, unit norm."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import HeteroData

from trainers.graph import assemble
from trainers.hgnn.infer import infer_embeddings, sample_in_edges, sampled_embeddings
from trainers.hgnn.model import HGNN, HGNNArch

A, P = "audiobook", "podcast"
LABELS = ((A, "aa", A), (A, "ap", P), (P, "pp", P))


def _graph(seed: int = 0) -> HeteroData:
    g = torch.Generator().manual_seed(seed)
    n = {A: 30, P: 45}
    x = {nt: torch.randn(k, 8, generator=g) for nt, k in n.items()}
    edges = {
        (s, r, d): torch.stack(
            [
                torch.randint(0, n[s], (150,), generator=g),
                torch.randint(0, n[d], (150,), generator=g),
            ]
        )
        for s, r, d in LABELS
    }
    times = {et: torch.zeros(e.size(1), dtype=torch.long) for et, e in edges.items()}
    return assemble(x, edges, times)


def _model(data: HeteroData) -> HGNN:
    torch.manual_seed(0)
    arch = HGNNArch(tuple(data.node_types), tuple(data.edge_types), 8, 6, 5)
    return HGNN(arch).eval()


def test_sample_in_edges_caps_each_target_without_replacement() -> None:
    edges = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 1, 1, 3]])
    got = sample_in_edges(edges, 4, 2, torch.Generator().manual_seed(0))
    per_target = torch.bincount(got[1], minlength=4).tolist()
    assert per_target == [2, 2, 0, 1]  # capped at 2; fewer are all kept
    pairs = [tuple(p) for p in got.t().tolist()]
    assert len(set(pairs)) == len(pairs)
    assert set(pairs) <= {tuple(p) for p in edges.t().tolist()}
    assert torch.equal(sample_in_edges(edges, 4, -1, torch.Generator()), edges)


def test_sampled_with_unbounded_fanouts_equals_full() -> None:
    data = _graph()
    model = _model(data)
    full = infer_embeddings(model, data)
    sampled = sampled_embeddings(model, data, (10_000, 10_000), draws=1, seed=0)
    for nt in full:
        np.testing.assert_allclose(sampled[nt], full[nt], atol=1e-6)


def test_sampled_is_deterministic_unit_norm_and_differs_from_full() -> None:
    data = _graph(1)
    model = _model(data)
    runs = [sampled_embeddings(model, data, (3, 2), draws=4, seed=7) for _ in "ab"]
    other = sampled_embeddings(model, data, (3, 2), draws=4, seed=8)
    full = infer_embeddings(model, data)
    for nt in runs[0]:
        assert np.array_equal(runs[0][nt], runs[1][nt])
        norms = np.linalg.norm(runs[0][nt], axis=1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert not np.array_equal(runs[0][A], other[A])
    assert not np.allclose(runs[0][A], full[A], atol=1e-4)
