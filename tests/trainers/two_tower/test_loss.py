"""The two-tower loss on a 3-example batch computed by hand, and the example weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.data import inverse_frequency_weights
from trainers.two_tower.loss import in_batch_softmax_loss

# Three examples: users u0..u2, labels item 0, item 0, item 1 (a = e1, b = e2).
USERS = tf.constant([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
ITEMS = tf.constant([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # each example's own item
IDS = tf.constant([0, 0, 1])
# Scores s[i, j] = u_i . a_j: [[1, 1, 0], [.6, .6, .8], [0, 0, 1]]; columns holding the
# same item as row i's label (0|1 and 1|0) are masked. Per-row cross-entropy (T = 1):
CE = [
    math.log(1 + math.exp(0 - 1)),  # row 0: {1 (own), 0}
    math.log(1 + math.exp(0.8 - 0.6)),  # row 1: {.6 (own), .8}
    math.log(2 + math.exp(1)) - 1,  # row 2: {0, 0, 1 (own)}
]


def test_inverse_frequency_weights_by_hand() -> None:
    w = inverse_frequency_weights(np.array([0, 0, 1]), 3)
    # 1/count = [1/2, 1/2, 1], mean 2/3 -> [3/4, 3/4, 3/2]; item 2 has no labels
    np.testing.assert_allclose(w, [0.75, 0.75, 1.5])
    mild = inverse_frequency_weights(np.array([0, 0, 0, 0, 1]), 2, power=0.5)
    np.testing.assert_allclose(mild, np.array([0.5, 0.5, 0.5, 0.5, 1.0]) / 0.6)


def test_weights_average_one_and_equalise_items() -> None:
    rng = np.random.default_rng(0)
    labels = rng.zipf(1.5, 5000) % 200
    w = inverse_frequency_weights(labels, 200)
    assert w.mean() == pytest.approx(1.0, rel=1e-5)
    per_item = np.bincount(labels, weights=w, minlength=200)
    seen = per_item[np.bincount(labels, minlength=200) > 0]
    np.testing.assert_allclose(seen, seen[0], rtol=1e-4)  # every item weighs the same


def test_inverse_frequency_loss_by_hand() -> None:
    w = inverse_frequency_weights(np.array([0, 0, 1]), 2)
    got = in_batch_softmax_loss(USERS, ITEMS, IDS, 1.0, weights=tf.constant(w))
    want = (0.75 * CE[0] + 0.75 * CE[1] + 1.5 * CE[2]) / 3
    assert float(got) == pytest.approx(want, rel=1e-5)
    plain = in_batch_softmax_loss(USERS, ITEMS, IDS, 1.0)
    assert float(plain) == pytest.approx(sum(CE) / 3, rel=1e-5)


def test_logq_loss_by_hand() -> None:
    # q = [2/3, 1/3]: exp(s_j) / q_j, so row i's CE = log(1 + sum_j q_own/q_j e^(s_j-s_own))
    log_q = tf.math.log(tf.constant([2 / 3, 2 / 3, 1 / 3]))  # per column of the batch
    got = in_batch_softmax_loss(USERS, ITEMS, IDS, 1.0, log_q=log_q)
    want = [
        math.log(1 + 2 * math.exp(-1)),  # row 0: own q 2/3, other column q 1/3
        math.log(1 + 2 * math.exp(0.2)),  # row 1
        math.log(1 + 2 * 0.5 * math.exp(-1)),  # row 2: own q 1/3, two columns 2/3
    ]
    assert float(got) == pytest.approx(sum(want) / 3, rel=1e-5)


def test_temperature_and_masking() -> None:
    got = in_batch_softmax_loss(USERS, ITEMS, IDS, 0.5)
    row0 = math.log(1 + math.exp((0 - 1) / 0.5))
    row1 = math.log(1 + math.exp((0.8 - 0.6) / 0.5))
    row2 = math.log(2 + math.exp(1 / 0.5)) - 1 / 0.5
    assert float(got) == pytest.approx((row0 + row1 + row2) / 3, rel=1e-5)


def test_config_default_and_old_logq_key() -> None:
    assert TwoTowerConfig().loss_weighting == "inverse_frequency"
    old = TwoTowerConfig(loss_weighting="logq").to_json()
    old.pop("loss_weighting")
    assert TwoTowerConfig.from_json(old | {"logq": True}).loss_weighting == "logq"
    with pytest.raises(ValueError):
        TwoTowerConfig(loss_weighting="none")  # type: ignore[arg-type]
