"""Max-margin loss over (anchor, positive, random negatives) on unit-norm embeddings."""

from __future__ import annotations

import torch
from torch import Tensor


def margin_loss(
    z_anchor: Tensor, z_pos: Tensor, z_neg: Tensor, margin: float
) -> Tensor:
    """mean over anchors and negatives of max(0, z_a.z_n - z_a.z_p + margin).

    Shapes: z_anchor [B, d], z_pos [B, d], z_neg [B, K, d] (K negatives per anchor).
    """
    pos = (z_anchor * z_pos).sum(-1, keepdim=True)  # [B, 1]
    neg = torch.einsum("bd,bkd->bk", z_anchor, z_neg)  # [B, K]
    return torch.relu(neg - pos + margin).mean()
