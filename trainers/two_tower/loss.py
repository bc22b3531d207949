"""In-batch softmax loss with the paper's inverse-frequency weighting of the negatives.

The paper's loss is E_{n in batch}[o_u·o_n − o_u·o_a] with in-batch negatives, "each
example weighted by the inverse frequency of its item (so popular items are not over-used
as negatives)". We keep its in-batch form but use the softmax cross-entropy
log Σ_j exp(s_j / T) − s_a / T (s = u·a, unit vectors). Its first-order expansion in 1/T
is log B + (mean_j s_j − s_a) / T: the paper's expectation (over the batch, positive
included) is the high-temperature limit of this loss, which at a small T weighs the
hardest negatives most instead of all of them equally.

The weighting's stated purpose fixes where the weight goes. An item j enters a batch
with probability ∝ q_j (its share of the labels), so popular items are over-used as
negatives. Weighting each in-batch item's term of the normaliser by 1 / q_j,
Σ_j exp(s_j / T) / q_j, makes every item count as a negative in proportion to its
softmax weight alone: that is exactly logits_j − log q_j, the logQ correction of the
sampled softmax (Yi et al., 2019); the positive's own 1 / q_a changes the loss by a
constant only. TwoTowerConfig.loss_weighting:
- inverse_frequency (default): log_q = power · log q of each column's item.
- example_weights (the reading used before): each example's loss times
  w_i ∝ 1 / count(item_i) ** power (data.example_weights). Every item then carries the
  same total weight as a positive, while as a negative it still appears at its label
  frequency: popular items are pushed away more than they are pulled, and the towers
  drift to the tail (bench/RESULTS.md: warm HR@10 .075 vs .133 on medium v2).
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
) -> tf.Tensor:
    """Mean softmax cross-entropy of each user's own item among the batch's items.

    logits[i, j] = u_i·a_j / T − log_q[j] (log_q: per column, the log of the inverse-
    frequency weight's reciprocal, e.g. power · log q_j; None: no weighting); a column
    j ≠ i holding the same item as row i's label is masked (an accidental hit is not a
    negative). weights (per example, averaging 1 over the training set): the
    example_weights reading, multiplying each row's loss.
    """
    logits = tf.matmul(users, items, transpose_b=True) / temperature
    if log_q is not None:
        logits = logits - log_q[tf.newaxis, :]
    same = tf.equal(item_ids[:, tf.newaxis], item_ids[tf.newaxis, :])
    eye = tf.eye(tf.shape(item_ids)[0], dtype=tf.bool)
    logits = tf.where(tf.logical_and(same, tf.logical_not(eye)), MASKED, logits)
    labels = tf.range(tf.shape(item_ids)[0])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if weights is not None:
        loss = loss * tf.cast(weights, loss.dtype)
    return tf.reduce_mean(loss)
