"""Train the two towers with the in-batch softmax (see loss.py), Adam; seeded."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.data import TrainingData


def configure_tf(threads: int, seed: int) -> None:
    """Thread counts, seeds and op determinism (before any op runs where possible)."""
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised in this process: keep its setting
        pass
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@dataclass
class TrainResult:
    """The trained towers and the loss per epoch."""

    user_model: object
    item_model: object
    history: list[dict[str, float]] = field(default_factory=list)
    initial_loss: float = float("nan")


def apply_model(
    model: object, inputs: Mapping[str, np.ndarray], batch: int = 4096
) -> np.ndarray:
    """Run a tower on numpy inputs in chunks (model(x), no predict overhead)."""
    n = len(next(iter(inputs.values())))
    outs = []
    for start in range(0, n, batch):
        chunk = {k: v[start : start + batch] for k, v in inputs.items()}
        outs.append(np.asarray(model(chunk, training=False)))  # type: ignore[operator]
    return np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)


def _batch(inputs: Mapping[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in inputs.items()}


def loss_weighting(
    data: TrainingData, cfg: TwoTowerConfig
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(per-item logit offsets, per-label weights) of cfg.loss_weighting; one is None.

    inverse_frequency: offsets power · log q (each in-batch item's softmax term weighted
    by 1 / q ** power); example_weights: the per-label weights of data.example_weights.
    """
    if cfg.loss_weighting == "example_weights":
        return None, data.example_weights
    return (cfg.inverse_frequency_power * data.log_q).astype(np.float32), None


def train_two_tower(
    data: TrainingData, cfg: TwoTowerConfig, progress: bool = True
) -> TrainResult:
    """Fit both towers on the labels; returns models and per-epoch mean loss and time."""
    configure_tf(cfg.threads, cfg.seed)
    import keras
    import tensorflow as tf

    from trainers.two_tower.loss import in_batch_softmax_loss
    from trainers.two_tower.model import item_tower, user_tower

    users = user_tower(data.user_spec, cfg.hidden)
    items = item_tower(data.item_spec, cfg.hidden)
    item_inputs = data.items.inputs(data.item_rows, data.item_spec)
    opt = keras.optimizers.Adam(cfg.lr)
    variables = users.trainable_variables + items.trainable_variables
    offsets, weights = loss_weighting(data, cfg)
    log_q = None if offsets is None else tf.constant(offsets)
    if weights is None:
        weights = np.ones(len(data.label_rows), np.float32)

    def loss_of(
        u_in: dict, i_in: dict, ids: tf.Tensor, w: tf.Tensor, training: bool
    ) -> tf.Tensor:
        u = users(u_in, training=training)
        a = items(i_in, training=training)
        lq = None if log_q is None else tf.gather(log_q, ids)
        return in_batch_softmax_loss(u, a, ids, cfg.temperature, lq, w)

    @tf.function(reduce_retracing=True)
    def step(u_in: dict, i_in: dict, ids: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_of(u_in, i_in, ids, w, True)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    n = len(data.label_rows)
    rng = np.random.default_rng(cfg.seed)
    result = TrainResult(users, items)
    result.initial_loss = _mean_loss(
        data, weights, item_inputs, loss_of, cfg.batch_size
    )
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        losses = []
        starts = range(0, n - 1, cfg.batch_size)
        for s in tqdm(
            starts, desc=f"2T epoch {epoch + 1}", disable=not progress, leave=False
        ):
            idx = perm[s : s + cfg.batch_size]
            if len(idx) < 2:
                continue
            ids = data.label_rows[idx]
            loss = step(
                _batch(data.user_inputs, idx),
                _batch(item_inputs, ids),
                tf.constant(ids),
                tf.constant(weights[idx]),
            )
            losses.append(float(loss))
        result.history.append(
            {
                "epoch": epoch + 1,
                "loss": float(np.mean(losses)),
                "seconds": time.perf_counter() - t0,
            }
        )
    return result


def _mean_loss(
    data: TrainingData,
    weights: np.ndarray,
    item_inputs: dict,
    loss_of: object,
    batch: int,
) -> float:
    import tensorflow as tf

    losses = []
    for s in range(0, len(data.label_rows) - 1, batch):
        idx = np.arange(s, min(s + batch, len(data.label_rows)))
        if len(idx) < 2:
            continue
        ids = data.label_rows[idx]
        loss = loss_of(
            _batch(data.user_inputs, idx),
            _batch(item_inputs, ids),
            tf.constant(ids),
            tf.constant(weights[idx]),
            False,
        )  # type: ignore[operator]
        losses.append(float(loss))
    return float(np.mean(losses)) if losses else float("nan")
