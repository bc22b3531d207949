"""The vectorised neighbour sampler: uniform without replacement, PyG's hop structure."""

from __future__ import annotations

import torch

from trainers.hgnn.neighbors import InNeighbors, sample_block, sample_in_neighbours

A, P = "audiobook", "podcast"
EDGE_TYPES = ((A, "aa", A), (A, "ap", P), (P, "pa", A), (P, "pp", P))
SIZES = {A: 40, P: 60}


def _graph(seed: int = 0) -> dict[tuple[str, str, str], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    edges = {}
    for s, r, d in EDGE_TYPES:
        pairs = torch.stack(
            [
                torch.randint(0, SIZES[s], (400,), generator=g),
                torch.randint(0, SIZES[d], (400,), generator=g),
            ]
        )
        edges[(s, r, d)] = torch.unique(pairs, dim=1)  # no repeated edges
    return edges


def test_floyd_picks_distinct_neighbours_uniformly() -> None:
    # node 0 has 20 in-neighbours (10..29), node 1 has 3, node 2 none
    ptr = torch.tensor([0, 20, 23, 23])
    src = torch.cat([torch.arange(10, 30), torch.tensor([5, 6, 7])])
    gen = torch.Generator().manual_seed(0)
    targets = torch.tensor([0] * 4000 + [1, 2])
    nbr, take = sample_in_neighbours(ptr, src, targets, 5, gen)
    assert take.tolist()[-2:] == [3, 0]
    assert nbr[-2].tolist() == [5, 6, 7, 5, 5]  # all three, the first repeated
    assert nbr[-1].tolist() == [-1] * 5  # none
    big = nbr[:4000]
    assert all(len(set(row)) == 5 for row in big.tolist())  # without replacement
    assert int(big.min()) >= 10 and int(big.max()) <= 29
    freq = torch.bincount(big.view(-1) - 10, minlength=20).float() / 4000
    # each neighbour is in a draw with probability 5/20; sd of the estimate ~0.007
    assert torch.allclose(freq, torch.full((20,), 0.25), atol=0.03), freq
    every, take = sample_in_neighbours(ptr, src, torch.tensor([0, 1]), -1, gen)
    assert take.tolist() == [20, 3] and sorted(every[0].tolist()) == list(range(10, 30))


def test_block_expands_each_node_once_with_its_fanout() -> None:
    edges = _graph()
    nbrs = InNeighbors.from_edges(edges, SIZES)
    seeds = {A: torch.tensor([3, 3, 7]), P: torch.tensor([0, 11])}
    block, local = sample_block(nbrs, seeds, (4, 2), torch.Generator().manual_seed(1))
    for nt, ids in block.nodes.items():
        assert len(set(ids.tolist())) == len(ids)  # each node once
        assert torch.equal(ids[local[nt]], seeds[nt])  # seeds map back
    assert block.rows[1] == {A: 2, P: 2}  # the last layer computes the seeds
    real = {et: set(map(tuple, e.t().tolist())) for et, e in edges.items()}
    for et in EDGE_TYPES:
        s, _, d = et
        ei = block.edge_index(0, et)
        glob = torch.stack([block.nodes[s][ei[0]], block.nodes[d][ei[1]]])
        assert set(map(tuple, glob.t().tolist())) <= real[et]  # only real edges
        indeg = torch.bincount(ei[1], minlength=block.rows[0][d])
        for row in range(block.rows[0][d]):  # every expanded node, once, fan-out
            k = 4 if row < block.rows[1][d] else 2
            deg = int((edges[et][1] == block.nodes[d][row]).sum())
            assert int(indeg[row]) == min(deg, k)
        assert len(indeg) == block.rows[0][d]  # hop-2 nodes are only inputs
        last = block.edge_index(1, et)  # the last layer: the seeds' hop-1 edges
        assert bool((last[1] < block.rows[1][d]).all())
        first_hop = ei[:, ei[1] < block.rows[1][d]]
        assert torch.equal(torch.unique(last, dim=1), torch.unique(first_hop, dim=1))


def test_same_generator_state_same_block() -> None:
    nbrs = InNeighbors.from_edges(_graph(), SIZES)
    seeds = {A: torch.arange(5), P: torch.arange(8)}
    one, _ = sample_block(nbrs, seeds, (3, 3), torch.Generator().manual_seed(2))
    two, _ = sample_block(nbrs, seeds, (3, 3), torch.Generator().manual_seed(2))
    for nt in one.nodes:
        assert torch.equal(one.nodes[nt], two.nodes[nt])
    for et in EDGE_TYPES:
        assert torch.equal(one.edge_index(0, et), two.edge_index(0, et))
