"""Two-tower benchmark: epoch time, and one-row user-tower latency (numpy vs Keras).

Usage: ``python bench/two_tower_bench.py --store DIR/feast --world DIR [--epochs 1]``
where the store was filled by ``colisten evaluate`` (materialized features, content, HGNN). Reports
seconds per 2T-HGNN epoch, and for ONE feature row the median latency of the numpy
runtime, Keras ``model(x)`` and ``model.predict`` (all giving the same vector).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def _median_ms(fn: object, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hgnn-version", default=None)
    args = ap.parse_args()

    from colisten.user_encoder import UserEncoder
    from colisten.world import format as fmt
    from feature_repo.config import FeatureStoreConfig
    from trainers import registry
    from trainers.two_tower.config import TwoTowerConfig
    from trainers.two_tower.pipeline import run_two_tower

    manifest = fmt.WorldManifest.read(args.world)
    cfg = FeatureStoreConfig(online="sqlite", data_dir=args.store)
    models = args.store.parent / "models"
    version = args.hgnn_version or registry.latest_version("hgnn", models)
    events = fmt.read_events(args.world, until_ms=manifest.split_ms)
    t0 = time.perf_counter()
    run = run_two_tower(
        cfg,
        events,
        manifest.split_ms,
        TwoTowerConfig(epochs=args.epochs),
        version,
        Path("/tmp/two_tower_bench_models"),
    )
    total = time.perf_counter() - t0
    from colisten.user_encoder import user_tower_numpy
    from feature_repo.store import open_store
    from trainers.two_tower.data import historical_user_rows

    enc = UserEncoder.load(run.model_dir)
    last = run.data.labels.tail(1)
    rows = historical_user_rows(
        open_store(cfg), last["user_id"].tolist(), last["ts"] - 1
    )
    x = enc.inputs(rows)
    model = run.result.user_model
    same = np.allclose(
        enc.encode(rows), np.asarray(model(x, training=False)), atol=1e-5
    )
    out = {
        "labels": len(run.data.label_rows),
        "epoch_seconds": [round(h["seconds"], 2) for h in run.result.history],
        "train_total_seconds_incl_features": round(total, 1),
        "one_row_ms": {
            "numpy_encode_incl_inputs": _median_ms(lambda: enc.encode(rows), 300),
            "numpy_forward_only": _median_ms(
                lambda: user_tower_numpy(x, enc.weights, enc.depth), 300
            ),
            "keras_call": _median_ms(lambda: model(x, training=False), 100),
            "keras_predict": _median_ms(lambda: model.predict(x, verbose=0), 30),
        },
        "numpy_equals_keras": bool(same),
        "cold_row_finite": bool(np.isfinite(enc.encode([{"user_id": "x"}])).all()),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
