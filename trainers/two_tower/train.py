"""Train the two towers with in-batch softmax (weighted or logQ), Adam; seeded."""

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


def train_two_tower(
    data: TrainingData, cfg: TwoTowerConfig, progress: bool = True
) -> TrainResult:
    """Fit both towers on the labels; returns models and per-epoch mean loss and time."""
    configure_tf(cfg.threads, cfg.seed)
    import keras
    import tensorflow as tf

    from trainers.two_tower.loss import in_batch_softmax_loss
    from trainers.two_tower.model import item_tower, user_tower

    users = user_tower(data.user_spec, cfg.hidden, cfg.dropout, cfg.unit_norm)
    items = item_tower(data.item_spec, cfg.hidden, cfg.dropout, cfg.unit_norm)
    item_inputs = data.items.inputs(data.item_rows, data.item_spec)
    opt = (
        keras.optimizers.AdamW(cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.weight_decay
        else keras.optimizers.Adam(cfg.lr)
    )
    variables = users.trainable_variables + items.trainable_variables
    n_items = len(data.item_rows)
    k_extra = cfg.uniform_negatives
    q = np.exp(data.log_q.astype(np.float64))
    if k_extra:
        b = cfg.batch_size
        q = (b * q + k_extra / n_items) / (b + k_extra)
    log_q = tf.constant(np.log(q).astype(np.float32))
    weighted = cfg.loss_weighting == "inverse_frequency"

    def loss_of(
        u_in: dict,
        i_in: dict,
        ids: tf.Tensor,
        w: tf.Tensor,
        training: bool,
        x_in: dict | None = None,
        x_ids: tf.Tensor | None = None,
    ) -> tf.Tensor:
        u = users(u_in, training=training)
        a = items(i_in, training=training)
        lq = None if weighted else tf.gather(log_q, ids)
        extra = None if x_in is None else items(x_in, training=training)
        xlq = None if weighted or x_ids is None else tf.gather(log_q, x_ids)
        if cfg.linear_loss:
            from trainers.two_tower.loss import in_batch_linear_loss

            return in_batch_linear_loss(u, a, ids, lq)
        return in_batch_softmax_loss(
            u, a, ids, cfg.temperature, lq, w if weighted else None, extra, x_ids, xlq
        )

    @tf.function(reduce_retracing=True)
    def step(
        u_in: dict,
        i_in: dict,
        ids: tf.Tensor,
        w: tf.Tensor,
        x_in: dict | None = None,
        x_ids: tf.Tensor | None = None,
    ) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_of(u_in, i_in, ids, w, True, x_in, x_ids)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    n_all = len(data.label_rows)
    n = n_all - int(round(cfg.validation_share * n_all))
    val_idx = np.arange(n, n_all)
    rng = np.random.default_rng(cfg.seed)
    result = TrainResult(users, items)
    result.initial_loss = _mean_loss(
        data, item_inputs, loss_of, cfg.batch_size, np.arange(n)
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
            extra = {}
            if k_extra:
                x_ids = rng.integers(0, n_items, k_extra)
                extra = {
                    "x_in": _batch(item_inputs, x_ids),
                    "x_ids": tf.constant(x_ids),
                }
            loss = step(
                _batch(data.user_inputs, idx),
                _batch(item_inputs, ids),
                tf.constant(ids),
                tf.constant(data.example_weights[idx]),
                **extra,
            )
            losses.append(float(loss))
        result.history.append(
            {
                "epoch": epoch + 1,
                "loss": float(np.mean(losses)),
                "seconds": time.perf_counter() - t0,
            }
        )
        if len(val_idx) > 1:
            vrng = np.random.default_rng(12345)
            result.history[-1]["val_loss"] = _mean_loss(
                data, item_inputs, loss_of, cfg.batch_size, vrng.permutation(val_idx)
            )
    return result


def _mean_loss(
    data: TrainingData,
    item_inputs: dict,
    loss_of: object,
    batch: int,
    order: np.ndarray,
) -> float:
    import tensorflow as tf

    losses = []
    for s in range(0, len(order) - 1, batch):
        idx = order[s : s + batch]
        if len(idx) < 2:
            continue
        ids = data.label_rows[idx]
        loss = loss_of(
            _batch(data.user_inputs, idx),
            _batch(item_inputs, ids),
            tf.constant(ids),
            tf.constant(data.example_weights[idx]),
            False,
        )  # type: ignore[operator]
        losses.append(float(loss))
    return float(np.mean(losses)) if losses else float("nan")
