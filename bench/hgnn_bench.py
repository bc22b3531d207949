"""HGNN benchmark: epoch time with vs without the balanced sampler, throughput, peak RSS.

Usage: ``python bench/hgnn_bench.py [--scale medium|large] [--epochs 3] [--device cpu]``.

``--batches N`` times only the first N batches of one epoch of each sampler (the same
interleaved, shuffled order and training steps as ``train_hgnn``) and derives the epoch
time as seconds per batch x the epoch's batch count; used where whole epochs do not fit
the machine (``large`` on 2 cores). The report says which figures are derived.

Edges: ``colisten_edges`` as of the world's split from ``stream_processors.reference``
(about 30 s on medium on this machine, so no vectorised stand-in is needed; a naive
pandas self-join that ignores the reference's 50-item cap gave 13% extra pairs on
medium, so it was dropped). Node features: hashed title + description words projected
to 384 dimensions (the sentence model's width), so the numbers measure the HGNN, not the
text encoder.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from colisten.world import format as fmt
from colisten.world.generator import generate_world
from stream_processors.reference import (
    colisten_edges_reference,
    colisten_records_reference,
)
from trainers.graph import build_hetero_data
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.infer import infer_embeddings
from trainers.hgnn.train import build_model, start_training, train_hgnn


def hashed_content(catalogue: pd.DataFrame, dim: int = 384) -> pd.DataFrame:
    """item_content-like rows with hashed-word features (a stand-in for the text model)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    text = (catalogue["title"] + ". " + catalogue["description"]).tolist()
    counts = HashingVectorizer(n_features=2**14, stop_words="english").transform(text)
    proj = np.random.default_rng(0).standard_normal((2**14, dim)).astype(np.float32)
    emb = np.asarray(counts @ proj, dtype=np.float32)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return pd.DataFrame(
        {
            "item_id": catalogue["item_id"],
            "item_type": catalogue["item_type"],
            "text_embedding": list(emb),
        }
    )


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MiB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def partial_epoch(data: HeteroData, cfg: HGNNConfig, n_batches: int) -> dict:
    """Train the first n_batches of one epoch as train_hgnn would; time and extrapolate."""
    run = start_training(data, cfg)
    (batches, total_batches), epoch_positives = run.epoch_batches()
    positives, done = 0, 0
    t0 = time.perf_counter()
    for _, batch in batches:
        positives, done = positives + run.step(batch)[1], done + 1
        if done == n_batches:
            break
    secs = time.perf_counter() - t0
    return {
        "batches_timed": done,
        "seconds": secs,
        "s_per_batch": secs / done,
        "batches_per_epoch": total_batches,
        "positives_per_epoch": epoch_positives,
        "pos_edges_per_s": positives / secs,
        "epoch_s_derived": secs / done * total_batches,
    }


def world_graph(world: Path, out: dict | None = None) -> HeteroData:
    """The item graph of a world as of its split, with hashed-text node features.

    Timings, edge and node counts go into out when given.
    """
    out = {} if out is None else out
    t0 = time.perf_counter()
    manifest = fmt.WorldManifest.read(world)
    events = fmt.read_events(world, until_ms=manifest.split_ms + 1)
    catalogue = fmt.read_catalogue(world)
    out["world_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    records = colisten_records_reference(events[events["ts"] < manifest.split_ms])
    edges = colisten_edges_reference(records, manifest.split_ms).reset_index()
    out["edges_s"] = time.perf_counter() - t0
    out["edges"] = edges["relation"].value_counts().to_dict()
    del events, records
    data, _ = build_hetero_data(edges, hashed_content(catalogue))
    out["nodes"] = {nt: int(data[nt].num_nodes) for nt in data.node_types}
    return data


def run(
    scale: str,
    world: Path | None,
    epochs: int,
    device: str,
    threads: int,
    batches: int | None = None,
) -> dict:
    """Run the benchmark and return its numbers."""
    torch.set_num_threads(threads)
    out: dict = {"scale": scale, "device": device, "threads": threads, "epochs": epochs}
    t0 = time.perf_counter()
    if world is None:
        world = Path(tempfile.mkdtemp(prefix=f"hgnn-bench-{scale}-"))
        generate_world(scale, 7, world, progress=False)
    out["generate_s"] = time.perf_counter() - t0
    data = world_graph(world, out)
    print("graph", json.dumps(out, default=float), file=sys.stderr, flush=True)
    if batches:
        for label, balanced in (("balanced", True), ("unbalanced", False)):
            cfg = HGNNConfig(balanced=balanced, device=device, seed=0)
            out[label] = partial_epoch(data, cfg, batches)
            print(label, json.dumps(out[label]), file=sys.stderr, flush=True)
        out["epoch_time_ratio_balanced_over_unbalanced_derived"] = (
            out["balanced"]["epoch_s_derived"] / out["unbalanced"]["epoch_s_derived"]
        )
        model = build_model(data, HGNNConfig(device=device)).to(cfg.torch_device())
        return _inference(out, model, data, device)
    for label, balanced in (("balanced", True), ("unbalanced", False)):
        cfg = HGNNConfig(
            max_epochs=epochs,
            patience=epochs + 1,
            balanced=balanced,
            device=device,
            seed=0,
        )
        res = train_hgnn(data, cfg, progress=True)
        secs = [h["seconds"] for h in res.history]
        pos = [h["positives"] for h in res.history]
        out[label] = {
            "epoch_s_median": statistics.median(secs),
            "epoch_s": secs,
            "positives_per_epoch": int(statistics.median(pos)),
            "pos_edges_per_s": sum(pos) / sum(secs),
            "val_loss_last": res.history[-1]["val_loss"],
        }
        model = res.model
        print(label, json.dumps(out[label], default=float), file=sys.stderr, flush=True)
    out["epoch_time_ratio_balanced_over_unbalanced"] = (
        out["balanced"]["epoch_s_median"] / out["unbalanced"]["epoch_s_median"]
    )
    return _inference(out, model, data, device)


def _inference(out: dict, model: torch.nn.Module, data: object, device: str) -> dict:
    """Full-graph inference for every item (an untrained model costs the same)."""
    model.eval()
    t0 = time.perf_counter()
    z = infer_embeddings(model, data, device)
    secs = time.perf_counter() - t0
    n_items = sum(len(v) for v in z.values())
    out["inference"] = {
        "items": n_items,
        "seconds": secs,
        "items_per_s": n_items / secs,
    }
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    """Parse arguments, run, print a JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", default="medium", choices=["tiny", "small", "medium", "large"]
    )
    parser.add_argument(
        "--world", type=Path, default=None, help="Existing world directory."
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--batches", type=int, default=None, help="Time N batches; derive epochs."
    )
    args = parser.parse_args()
    report = run(
        args.scale, args.world, args.epochs, args.device, args.threads, args.batches
    )
    print(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
