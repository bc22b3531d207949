"""In-batch softmax loss with logQ correction and removal of accidental in-batch hits."""

from __future__ import annotations

import tensorflow as tf

MASKED = -1e9


def in_batch_softmax_loss(
    users: tf.Tensor,
    items: tf.Tensor,
    item_ids: tf.Tensor,
    log_q: tf.Tensor | None,
    temperature: float,
) -> tf.Tensor:
    """Mean softmax cross-entropy of each user's own item against the batch's items.

    logits[i, j] = u_i·a_j / T − log q_j (q_j: the training frequency of item j, so
    popular items are not over-penalised as negatives); a column j ≠ i holding the same
    item as row i's label is masked (an accidental hit is not a negative).
    """
    logits = tf.matmul(users, items, transpose_b=True) / temperature
    if log_q is not None:
        logits = logits - log_q[tf.newaxis, :]
    same = tf.equal(item_ids[:, tf.newaxis], item_ids[tf.newaxis, :])
    eye = tf.eye(tf.shape(item_ids)[0], dtype=tf.bool)
    logits = tf.where(tf.logical_and(same, tf.logical_not(eye)), MASKED, logits)
    labels = tf.range(tf.shape(item_ids)[0])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_mean(loss)
