"""In-batch softmax loss: inverse-frequency example weights (the paper) or logQ correction.

The paper's loss is E_{n in batch}[o_u·o_n − o_u·o_a] with in-batch negatives, each
example weighted by the inverse frequency of its item. We keep its in-batch form but use
the softmax cross-entropy log Σ_j exp(s_j / T) − s_a / T (s = u·a, unit vectors). Its
first-order expansion in 1/T is log B + (mean_j s_j − s_a) / T: the paper's expectation
(over the batch, positive included) is the high-temperature limit of this loss, which
at T = 0.05 weighs the hardest negatives most instead of all of them equally.

Two ways to treat popularity (TwoTowerConfig.loss_weighting):
- inverse_frequency (default, the paper): example i's loss is multiplied by
  w_i ∝ 1 / count(item_i) ** power over the training labels, normalised so the weights
  average 1 over the training examples (data.inverse_frequency_weights); the batch loss
  is mean_i(w_i · CE_i), so an epoch's sum is the weighted objective. With power 1
  every item carries the same total weight whatever its popularity: popular items are
  not over-used as positives (they still appear as in-batch negatives at their label
  frequency), and an item seen once weighs N / K (N labels, K items with labels: the
  mean labels per item). Power 0.5 is a milder form with a smaller spread.
- logq: examples unweighted, logits[i, j] −= log q_j (q_j the item's share of the
  labels), which removes the in-batch sampling bias against popular items (Yi et al.,
  2019) rather than down-weighting them.
"""

from __future__ import annotations

import tensorflow as tf

MASKED = -1e9


def in_batch_softmax_loss(
    users: tf.Tensor,
    items: tf.Tensor,
    item_ids: tf.Tensor,
    temperature: float,
    log_q: tf.Tensor | None = None,
    weights: tf.Tensor | None = None,
    extra: tf.Tensor | None = None,
    extra_ids: tf.Tensor | None = None,
    extra_log_q: tf.Tensor | None = None,
) -> tf.Tensor:
    """Weighted mean softmax cross-entropy of each user's own item among the batch's.

    logits[i, j] = u_i·a_j / T (− log q_j when log_q is given); a column j ≠ i holding
    the same item as row i's label is masked (an accidental hit is not a negative).
    weights (per example, averaging 1 over the training set) multiply each row's loss.
    """
    logits = tf.matmul(users, items, transpose_b=True) / temperature
    if log_q is not None:
        logits = logits - log_q[tf.newaxis, :]
    same = tf.equal(item_ids[:, tf.newaxis], item_ids[tf.newaxis, :])
    eye = tf.eye(tf.shape(item_ids)[0], dtype=tf.bool)
    logits = tf.where(tf.logical_and(same, tf.logical_not(eye)), MASKED, logits)
    if extra is not None and extra_ids is not None:
        more = tf.matmul(users, extra, transpose_b=True) / temperature
        if extra_log_q is not None:
            more = more - extra_log_q[tf.newaxis, :]
        hit = tf.equal(item_ids[:, tf.newaxis], extra_ids[tf.newaxis, :])
        logits = tf.concat([logits, tf.where(hit, MASKED, more)], axis=1)
    labels = tf.range(tf.shape(item_ids)[0])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if weights is not None:
        loss = loss * tf.cast(weights, loss.dtype)
    return tf.reduce_mean(loss)


def in_batch_linear_loss(
    users: tf.Tensor,
    items: tf.Tensor,
    item_ids: tf.Tensor,
    log_q: tf.Tensor | None = None,
) -> tf.Tensor:
    """The paper's E_n[u·a_n − u·a]: negatives weighted by 1/q_n when log_q is given."""
    s = tf.matmul(users, items, transpose_b=True)
    same = tf.equal(item_ids[:, tf.newaxis], item_ids[tf.newaxis, :])
    w = (
        tf.ones_like(s)
        if log_q is None
        else tf.exp(-log_q)[tf.newaxis, :] * tf.ones_like(s)
    )
    w = tf.where(same, 0.0, w)
    neg = tf.reduce_sum(w * s, axis=1) / tf.maximum(tf.reduce_sum(w, axis=1), 1e-12)
    return tf.reduce_mean(neg - tf.linalg.diag_part(s))
