"""The balanced multi-link sampler: per epoch, undersample majority relations to the minority."""

from __future__ import annotations

import torch
from torch import Tensor


class BalancedLinkSampler:
    """Draws, each epoch, which training edges of each relation to use.

    With ``balanced=True`` every relation with more edges than the smallest one (a-a in the
    paper) is uniformly undersampled, without replacement, to that count; the smallest is
    kept whole. Each ``draw()`` advances one seeded generator, so epochs get fresh draws
    and a run is reproducible. With ``balanced=False`` every edge is used every epoch.
    """

    def __init__(
        self, counts: dict[str, int], seed: int, balanced: bool = True
    ) -> None:
        self.counts = {k: int(v) for k, v in counts.items()}
        self.balanced = balanced
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def target(self) -> int:
        """Edges per relation per epoch when balanced: the minority count."""
        positive = [n for n in self.counts.values() if n > 0]
        return min(positive) if positive else 0

    def draw(self) -> dict[str, Tensor]:
        """Edge positions (into each relation's training edges) for the next epoch."""
        out: dict[str, Tensor] = {}
        target = self.target
        for rel in sorted(self.counts):
            n = self.counts[rel]
            if not self.balanced or n <= target:
                out[rel] = torch.arange(n)
            else:
                perm = torch.randperm(n, generator=self.generator)[:target]
                out[rel] = perm.sort().values
        return out
