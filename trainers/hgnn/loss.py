"""Max-margin loss over (anchor, positive, random negatives) on unit-norm embeddings."""

from __future__ import annotations

import torch
from torch import Tensor


def negative_scores(z_anchor: Tensor, z_neg: Tensor) -> Tensor:
    """[B, K] dot products of each anchor with its negatives.

    z_neg [B, K, d]: K negatives per anchor; or [K, d]: K negatives shared by every
    anchor of the batch (each anchor is scored against all of them).
    """
    if z_neg.dim() == 2:
        return z_anchor @ z_neg.t()
    return torch.einsum("bd,bkd->bk", z_anchor, z_neg)


def margin_loss(
    z_anchor: Tensor, z_pos: Tensor, z_neg: Tensor, margin: float
) -> Tensor:
    """mean over anchors and negatives of max(0, z_a.z_n - z_a.z_p + margin).

    Shapes: z_anchor [B, d], z_pos [B, d], z_neg [B, K, d] or shared [K, d]
    (negative_scores).
    """
    pos = (z_anchor * z_pos).sum(-1, keepdim=True)  # [B, 1]
    return torch.relu(negative_scores(z_anchor, z_neg) - pos + margin).mean()
