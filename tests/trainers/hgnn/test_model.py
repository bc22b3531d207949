"""HGNN.forward with targets: the seeds' outputs and gradients equal the full computation."""

from __future__ import annotations

import torch

from trainers.hgnn.model import HGNN, HGNNArch, needed_nodes

A, P = "audiobook", "podcast"
EDGE_TYPES = ((A, "aa", A), (A, "ap", P), (P, "pa", A), (P, "pp", P))


def _graph(seed: int) -> tuple[dict[str, torch.Tensor], dict, dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    n = {A: 30, P: 45}
    x = {nt: torch.randn(k, 8, generator=g) for nt, k in n.items()}
    edges = {
        (s, r, d): torch.stack(
            [
                torch.randint(0, n[s], (60,), generator=g),
                torch.randint(0, n[d], (60,), generator=g),
            ]
        )
        for s, r, d in EDGE_TYPES
    }
    targets = {A: torch.tensor([3, 7, 7, 0]), P: torch.tensor([44, 1])}
    return x, edges, targets


def _model() -> HGNN:
    torch.manual_seed(0)
    return HGNN(HGNNArch((A, P), EDGE_TYPES, in_dim=8, hidden_dim=6, out_dim=5))


def test_targets_give_the_same_rows_and_gradients() -> None:
    model = _model()
    for seed in range(3):
        x, edges, targets = _graph(seed)
        full = model(x, edges)
        loss_full = sum(
            full[nt][t].square().sum() * (i + 1)
            for i, (nt, t) in enumerate(targets.items())
        )
        grads_full = torch.autograd.grad(loss_full, list(model.parameters()))
        trimmed = model(x, edges, targets=targets)
        for nt, t in targets.items():
            assert torch.allclose(trimmed[nt][t], full[nt][t], atol=1e-6)
        loss_trim = sum(
            trimmed[nt][t].square().sum() * (i + 1)
            for i, (nt, t) in enumerate(targets.items())
        )
        grads_trim = torch.autograd.grad(loss_trim, list(model.parameters()))
        for a, b in zip(grads_full, grads_trim, strict=True):
            assert torch.allclose(a, b, atol=1e-5)


def test_needed_nodes_grow_by_one_hop_per_layer() -> None:
    x = {A: torch.zeros(4, 1), P: torch.zeros(3, 1)}
    # p2 -> a1 -> a0 (aa), and a3 -> p0 (ap)
    edges = {
        (A, "aa", A): torch.tensor([[1], [0]]),
        (P, "pa", A): torch.tensor([[2], [1]]),
        (A, "ap", P): torch.tensor([[3], [0]]),
    }
    first, last = needed_nodes({A: torch.tensor([0])}, x, edges, 2)
    assert last[A].tolist() == [True, False, False, False]
    assert not last[P].any()
    assert first[A].tolist() == [True, True, False, False]  # a0 and its neighbour a1
    assert not first[P].any()  # p2 is two hops away: only its layer-1 input is used
