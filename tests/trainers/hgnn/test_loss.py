"""The margin loss by hand."""

from __future__ import annotations

import pytest
import torch

from trainers.hgnn.loss import margin_loss


def test_margin_loss_by_hand() -> None:
    anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    pos = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # scores 1 and 0
    neg = torch.tensor([[[0.0, 1.0], [0.6, 0.8]], [[0.0, 1.0], [0.0, -1.0]]])
    # anchor 0: neg scores 0, .6 -> max(0, 0-1+.5)=0, max(0, .6-1+.5)=.1
    # anchor 1: neg scores 1, -1 -> max(0, 1-0+.5)=1.5, max(0, -1-0+.5)=0
    loss = margin_loss(anchor, pos, neg, margin=0.5)
    assert float(loss) == pytest.approx((0 + 0.1 + 1.5 + 0) / 4)
