"""The two-tower loss on a 3-example batch computed by hand, and its two weightings."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.data import example_weights
from trainers.two_tower.loss import in_batch_softmax_loss
from trainers.two_tower.train import loss_weighting

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


def test_example_weights_by_hand() -> None:
    w = example_weights(np.array([0, 0, 1]), 3)
    # 1/count = [1/2, 1/2, 1], mean 2/3 -> [3/4, 3/4, 3/2]; item 2 has no labels
    np.testing.assert_allclose(w, [0.75, 0.75, 1.5])
    mild = example_weights(np.array([0, 0, 0, 0, 1]), 2, power=0.5)
    np.testing.assert_allclose(mild, np.array([0.5, 0.5, 0.5, 0.5, 1.0]) / 0.6)


def test_weights_average_one_and_equalise_items() -> None:
    rng = np.random.default_rng(0)
    labels = rng.zipf(1.5, 5000) % 200
    w = example_weights(labels, 200)
    assert w.mean() == pytest.approx(1.0, rel=1e-5)
    per_item = np.bincount(labels, weights=w, minlength=200)
    seen = per_item[np.bincount(labels, minlength=200) > 0]
    np.testing.assert_allclose(seen, seen[0], rtol=1e-4)  # every item weighs the same


def test_example_weighted_loss_by_hand() -> None:
    w = example_weights(np.array([0, 0, 1]), 2)
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


def test_inverse_frequency_weights_the_negatives() -> None:
    # Weighting each in-batch item's term of the normaliser by 1 / q_j, with the
    # positive's own term unweighted in the numerator, is the offset loss minus the
    # constant log q_own per row: same gradient.
    q = tf.constant([2 / 3, 2 / 3, 1 / 3])  # per column of the batch (items 0, 0, 1)
    users = tf.Variable(USERS)

    def explicit() -> tf.Tensor:
        s = tf.matmul(users, ITEMS, transpose_b=True)
        same = tf.equal(IDS[:, None], IDS[None, :]) & ~tf.eye(3, dtype=tf.bool)
        terms = tf.where(same, 0.0, tf.exp(s) / q[None, :])
        return tf.reduce_mean(
            tf.math.log(tf.reduce_sum(terms, 1)) - tf.linalg.diag_part(s)
        )

    with tf.GradientTape(persistent=True) as tape:
        ours = in_batch_softmax_loss(users, ITEMS, IDS, 1.0, log_q=tf.math.log(q))
        theirs = explicit()
    const = float(tf.reduce_mean(tf.math.log(q)))
    assert float(ours) == pytest.approx(float(theirs) + const, rel=1e-5)
    np.testing.assert_allclose(
        tape.gradient(ours, users), tape.gradient(theirs, users), rtol=1e-5, atol=1e-6
    )


def test_loss_weighting_modes() -> None:
    log_q = np.log(np.array([0.5, 0.25, 0.25], np.float32))
    data = SimpleNamespace(
        log_q=log_q, example_weights=np.array([0.8, 1.2], np.float32)
    )
    offsets, weights = loss_weighting(data, TwoTowerConfig())  # type: ignore[arg-type]
    np.testing.assert_allclose(offsets, log_q)
    assert weights is None
    half = TwoTowerConfig(inverse_frequency_power=0.5)
    np.testing.assert_allclose(loss_weighting(data, half)[0], 0.5 * log_q)  # type: ignore[arg-type]
    off, w = loss_weighting(data, TwoTowerConfig(loss_weighting="example_weights"))  # type: ignore[arg-type]
    assert off is None
    np.testing.assert_allclose(w, [0.8, 1.2])


def test_config_default_and_old_logq_names() -> None:
    assert TwoTowerConfig().loss_weighting == "inverse_frequency"
    raw = TwoTowerConfig().to_json()
    raw.pop("loss_weighting")
    for old in ({"logq": True}, {"loss_weighting": "logq"}):
        assert TwoTowerConfig.from_json(raw | old).loss_weighting == "inverse_frequency"
    with pytest.raises(ValueError):
        TwoTowerConfig.from_json(raw | {"logq": False})
    with pytest.raises(ValueError):
        TwoTowerConfig(loss_weighting="none")  # type: ignore[arg-type]
