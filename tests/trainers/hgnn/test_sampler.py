"""The balanced multi-link sampler."""

from __future__ import annotations

import torch

from trainers.hgnn.sampler import BalancedLinkSampler

COUNTS = {"aa": 40, "ap": 300, "pp": 120}


def test_balanced_counts_equal_the_minority() -> None:
    draw = BalancedLinkSampler(COUNTS, seed=1).draw()
    assert {rel: len(idx) for rel, idx in draw.items()} == {
        "aa": 40,
        "ap": 40,
        "pp": 40,
    }
    assert torch.equal(draw["aa"], torch.arange(40))  # the minority is kept whole
    for rel, idx in draw.items():
        assert len(set(idx.tolist())) == len(idx)  # without replacement
        assert int(idx.max()) < COUNTS[rel]


def test_fresh_draw_each_epoch_and_reproducible() -> None:
    sampler = BalancedLinkSampler(COUNTS, seed=1)
    first, second = sampler.draw(), sampler.draw()
    assert not torch.equal(first["ap"], second["ap"])
    assert not torch.equal(first["pp"], second["pp"])
    again = BalancedLinkSampler(COUNTS, seed=1)
    assert all(torch.equal(first[r], v) for r, v in again.draw().items())


def test_switched_off_uses_every_edge() -> None:
    draw = BalancedLinkSampler(COUNTS, seed=1, balanced=False).draw()
    assert {rel: len(idx) for rel, idx in draw.items()} == COUNTS
