"""The HGNN layer against a hand computation on a 5-node graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainers.hgnn.layer import HeteroSageLayer, RelationMaxPool

A, P = "audiobook", "podcast"
EDGES = {
    # a0-a1 and a0-a2, both directions
    (A, "aa", A): [[0, 1, 0, 2], [1, 0, 2, 0]],
    (A, "ap", P): [[0, 1, 2], [0, 0, 1]],
    (P, "pa", A): [[0, 0, 1], [0, 1, 2]],
    (P, "pp", P): [[], []],  # a relation with no edges: aggregates to 0
}


def _graph() -> tuple[
    dict[str, torch.Tensor], dict[tuple[str, str, str], torch.Tensor]
]:
    x = {
        A: torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        P: torch.tensor([[2.0, -1.0], [-1.0, 1.0]]),
    }
    edges = {
        et: torch.tensor(e, dtype=torch.long).reshape(2, -1) for et, e in EDGES.items()
    }
    return x, edges


def _layer() -> HeteroSageLayer:
    return HeteroSageLayer([A, P], list(EDGES), in_dim=2, out_dim=2)


def _set(
    lin: torch.nn.Linear, w: list[list[float]], b: list[float] | None = None
) -> None:
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w))
        if b is not None:
            lin.bias.copy_(torch.tensor(b))


def test_layer_matches_hand_computation() -> None:
    layer = _layer()
    _set(layer.rel["aa"].lin, [[1, 0], [0, 1]], [0, 0])
    _set(layer.rel["pa"].lin, [[1, 1], [0, 1]], [0, -0.5])
    _set(layer.rel["ap"].lin, [[1, -1], [0, 0]], [0, 0])
    _set(layer.rel["pp"].lin, [[5, 5], [5, 5]], [9, 9])  # no edges: must not matter
    _set(layer.self_lin[A], [[0.5, 0], [0, 0.5]])
    _set(layer.self_lin[P], [[1, 0], [0, 1]])
    out = layer(*_graph())
    # a0: W_c x = [.5, 0]; aa: max(relu([0,1]), relu([1,1])) = [1, 1];
    #     pa: p0 -> relu([2-1, -1-.5]) = [1, 0]            => relu([2.5, 1])
    # a1: [0, .5] + aa(a0) [1, 0] + pa(p0) [1, 0]          => [2, .5]
    # a2: [.5, .5] + aa(a0) [1, 0] + pa(p1) relu([0, .5])  => [1.5, 1]
    # p0: [2, -1] + ap max(relu([1,0]), relu([-1,0])) = [1, 0] => relu([3, -1]) = [3, 0]
    # p1: [-1, 1] + ap(a2) relu([0, 0])                    => relu([-1, 1]) = [0, 1]
    expected_a = [[2.5, 1.0], [2.0, 0.5], [1.5, 1.0]]
    expected_p = [[3.0, 0.0], [0.0, 1.0]]
    assert out[A].tolist() == pytest.approx(np.array(expected_a))
    assert out[P].tolist() == pytest.approx(np.array(expected_p))


def _numpy_layer(layer: HeteroSageLayer, x: dict, edges: dict) -> dict[str, np.ndarray]:
    """The paper's formula with explicit loops over nodes and neighbours."""
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    out = {}
    for nt, xs in x.items():
        w_c = layer.self_lin[nt].weight.detach().numpy()
        rows = []
        for c in range(len(xs)):
            total = w_c @ xs[c].numpy()
            for (src, rel, dst), index in edges.items():
                if dst != nt:
                    continue
                lin = layer.rel[rel].lin
                w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
                nbrs = index[0][index[1] == c].tolist()
                msgs = [relu(w @ x[src][j].numpy() + b) for j in nbrs]
                total = total + (np.max(msgs, axis=0) if msgs else 0.0)
            rows.append(relu(total))
        out[nt] = np.stack(rows)
    return out


def test_layer_matches_numpy_reference_random_weights() -> None:
    torch.manual_seed(3)
    layer = _layer()
    x, edges = _graph()
    got = layer(x, edges)
    want = _numpy_layer(layer, x, edges)
    for nt in (A, P):
        np.testing.assert_allclose(
            got[nt].detach().numpy(), want[nt], rtol=1e-5, atol=1e-6
        )


def test_self_term_is_added_once() -> None:
    """Zero relation weights: output is relu(W_c x), whatever the number of relations."""
    layer = _layer()
    for rel in layer.rel.values():
        _set(rel.lin, [[0, 0], [0, 0]], [0, 0])
    _set(layer.self_lin[A], [[1, 0], [0, 1]])
    _set(layer.self_lin[P], [[1, 0], [0, 1]])
    x, edges = _graph()
    out = layer(x, edges)
    assert torch.equal(out[A], x[A])  # a0 has 2 relations incoming, not 2x
    assert torch.equal(out[P], torch.relu(x[P]))


def test_no_neighbours_aggregate_to_zero_and_chunking_is_exact() -> None:
    torch.manual_seed(0)
    pool = RelationMaxPool(4, 3)
    x = torch.randn(6, 4)
    index = torch.tensor([[0, 1, 2, 3, 4, 5, 0], [0, 0, 1, 1, 1, 2, 2]])
    full = pool(x, index, num_dst=4)
    assert torch.equal(full[3], torch.zeros(3))  # node 3 has no neighbours
    assert torch.equal(pool(x, index, num_dst=4, edge_chunk=2), full)


def test_training_path_equals_a_dense_max_with_the_same_gradients() -> None:
    """max_of_winners (autograd on) vs a per-target torch.max loop: values and grads."""
    torch.manual_seed(1)
    pool = RelationMaxPool(4, 3)
    x = torch.randn(7, 4)
    index = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 0, 2], [0, 0, 1, 1, 1, 2, 2, 4, 4]])
    weights = torch.randn(5, 3)

    out = pool(x, index, num_dst=5)  # parameters require grad: the training path
    (out * weights).sum().backward()
    grads = [p.grad.clone() for p in pool.parameters()]
    pool.zero_grad()

    msg = torch.relu(pool.lin(x))
    ref = torch.stack(
        [
            msg[index[0][index[1] == t]].max(0).values
            if (index[1] == t).any()
            else msg.new_zeros(3)
            for t in range(5)
        ]
    )
    (ref * weights).sum().backward()
    assert torch.equal(out, ref)
    assert torch.equal(out[3], torch.zeros(3))  # no neighbours
    with torch.no_grad():
        assert torch.equal(pool(x, index, num_dst=5), out)  # inference path agrees
    for got, want in zip(grads, pool.parameters(), strict=True):
        assert torch.allclose(got, want.grad, atol=1e-6)
