"""HGNN training speed, old trainer vs new, side by side in one process (issue 15).

    python -m bench.hgnn_speed steps --world DIR [--batches 20] [--threads 2]
    python -m bench.hgnn_speed curve --world DIR [--minutes 20] [--slice 60] --plot F
    python -m bench.hgnn_speed epochs --world DIR [--batches 60]

Variants (VARIANTS): `old` is the issue-5 trainer (PyG LinkNeighborLoader, batching
"pyg"); `blocks` the vectorised sampler and block forward at the same batch shape;
`shared` the same plus shared negatives (cfg.shared_negatives); `shared1024` four
times the positives per batch. The machine's cores are shared, so every mode
alternates the variants (one batch, or one time slice, each in turn) and reports
medians and ratios against `old` from the same run.

- steps: seconds per training batch (sampling + forward + backward + Adam) of each
  variant, batches of the three relations in turn; positive edges per second.
- curve: each variant trains real epochs (balanced draws, early stopping off) in
  alternating slices of --slice seconds until each has had --minutes of training;
  after each slice its validation loss and AUC per relation are measured on a fixed
  subset of the held-out edges (--val-edges per relation, the same draws for every
  variant, off the clock). Writes JSON and, with --plot, validation AUC and loss
  against training wall time.
- epochs: the balanced sampler's epoch time against the unbalanced one, derived from
  each relation's median seconds per batch (--batches per relation, alternated) and
  the batches of each relation in each sampler's epoch.

The graph is built from the world's events with the stream processors' reference fold
(slow on `large`: minutes, ~5 GB); --cache DIR keeps its edges and hashed-text content
as parquet so later runs load them in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from bench.hgnn_bench import hashed_content, peak_rss_mb
from trainers.graph import EdgeType, build_hetero_data
from trainers.hgnn.batches import BlockBatches, Triplets
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.train import TrainingRun, evaluate, mean_val_loss, start_training

PAPER_BATCH = {"batch_size": 256, "shared_negatives": 0}
VARIANTS: dict[str, dict[str, Any]] = {
    "old": PAPER_BATCH | {"batching": "pyg"},
    "blocks": PAPER_BATCH,
    "shared": {"batch_size": 256, "shared_negatives": 256},
    "shared1024": {"batch_size": 1024, "shared_negatives": 1024},  # the default
}


def cached_graph(world: Path, cache: Path | None) -> HeteroData:
    """The world's item graph as of its split (edges and hashed text; cached as parquet)."""
    if cache is not None and (cache / "edges.parquet").exists():
        edges = pd.read_parquet(cache / "edges.parquet")
        content = pd.read_parquet(cache / "content.parquet")
        return build_hetero_data(edges, content)[0]
    from colisten.world import format as fmt
    from stream_processors.reference import (
        colisten_edges_reference,
        colisten_records_reference,
    )

    manifest = fmt.WorldManifest.read(world)
    events = fmt.read_events(world, until_ms=manifest.split_ms + 1)
    records = colisten_records_reference(events[events["ts"] < manifest.split_ms])
    del events
    edges = colisten_edges_reference(records, manifest.split_ms).reset_index()
    del records
    content = hashed_content(fmt.read_catalogue(world))
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        edges.to_parquet(cache / "edges.parquet")
        content.to_parquet(cache / "content.parquet")
    return build_hetero_data(edges, content)[0]


def config(name: str, **extra: Any) -> HGNNConfig:
    """The HGNNConfig of a variant (seed 0, early stopping off)."""
    return HGNNConfig(seed=0, **(VARIANTS[name] | extra))


def steps(data: HeteroData, names: list[str], batches: int) -> dict[str, Any]:
    """Median seconds per training batch of each variant, alternated batch by batch.

    A batch's time runs from asking for it (its sampling) to the end of its Adam step.
    """
    runs = {n: start_training(data, config(n)) for n in names}
    streams = {n: _relation_batches(run) for n, run in runs.items()}
    secs: dict[str, list[float]] = {n: [] for n in names}
    pos: dict[str, list[int]] = {n: [] for n in names}
    for i in range(batches + 3):  # three warm-up batches
        for n in names:
            t0 = time.perf_counter()
            _, got = runs[n].step(next(streams[n]))
            if i >= 3:
                secs[n].append(time.perf_counter() - t0)
                pos[n].append(got)
    out: dict[str, Any] = {}
    for n in names:
        med = statistics.median(secs[n])
        out[n] = {
            "s_per_batch_median": med,
            "positives_per_batch": statistics.median(pos[n]),
            "pos_edges_per_s": statistics.median(pos[n]) / med,
        }
    if "old" in out:
        for n in names:
            out[n]["speedup_vs_old"] = (
                out[n]["pos_edges_per_s"] / out["old"]["pos_edges_per_s"]
            )
    return out


def _relation_batches(run: TrainingRun) -> Iterator[Triplets]:
    """Endless shuffled training batches (sampled lazily), the relations in turn."""
    its: dict[EdgeType, Iterator[tuple[EdgeType, Triplets]]] = {}
    while True:
        for et in run.types:
            nxt = next(its[et], None) if et in its else None
            if nxt is None:
                edges = {et: run.train_data[et].edge_label_index}
                (its[et], _) = run.batches.epoch(edges, run.generator)
                nxt = next(its[et])
            yield nxt[1]


def val_subset(
    run: TrainingRun, per_relation: int, seed: int = 0
) -> dict[EdgeType, Tensor]:
    """A fixed random subset of each relation's held-out edges."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for et, e in run.val_edges.items():
        keep = torch.randperm(e.size(1), generator=gen)[:per_relation].sort().values
        out[et] = e[:, keep]
    return out


def curve(
    data: HeteroData,
    names: list[str],
    minutes: float,
    slice_s: float,
    val_edges: int,
) -> dict[str, Any]:
    """Validation loss/AUC against training wall time, variants trained in turns."""
    runs = {n: start_training(data, config(n)) for n in names}
    ref = runs[names[0]]
    subset = val_subset(ref, val_edges)
    judge = BlockBatches(ref.train_data, config("blocks"), ref.device)
    judge_cfg = config("blocks")

    def measure(run: TrainingRun) -> dict[str, Any]:
        by_rel = evaluate(run.model, judge, subset, judge_cfg)
        run.model.train()
        aucs = [m["auc"] for m in by_rel.values()]
        return {
            "val_loss": mean_val_loss(by_rel),
            "val_auc": float(np.mean(aucs)),
            "by_relation": by_rel,
        }

    state: dict[str, dict[str, Any]] = {
        n: {"clock": 0.0, "positives": 0, "epoch": 0, "batches": None} for n in names
    }
    points: dict[str, list[dict[str, Any]]] = {
        n: [{"t": 0.0, "positives": 0, "epoch": 0} | measure(runs[n])] for n in names
    }
    while any(state[n]["clock"] < minutes * 60 for n in names):
        for n in names:
            st, run = state[n], runs[n]
            if st["clock"] >= minutes * 60:
                continue
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < slice_s:
                if st["batches"] is None:
                    (st["batches"], _), _ = run.epoch_batches()
                    st["epoch"] += 1
                nxt = next(st["batches"], None)
                if nxt is None:
                    st["batches"] = None
                    continue
                st["positives"] += run.step(nxt[1])[1]
            st["clock"] += time.perf_counter() - t0
            point = {"t": st["clock"], "positives": st["positives"]}
            points[n].append(point | {"epoch": st["epoch"]} | measure(run))
            print(n, json.dumps(points[n][-1]), file=sys.stderr, flush=True)
    return {"val_edges_per_relation": val_edges, "points": points}


def epochs(data: HeteroData, names: list[str], batches: int) -> dict[str, Any]:
    """Balanced vs unbalanced epoch time of each variant, derived per relation.

    A batch costs what its relation's batches cost whichever sampler drew it, so each
    relation's median seconds per batch (relations and variants alternated, as in
    steps) times the batches of that relation in each sampler's epoch gives the epoch.
    """
    runs = {n: start_training(data, config(n)) for n in names}
    streams = {n: _relation_batches(run) for n, run in runs.items()}
    secs: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    for i in range(len(runs[names[0]].types) * (batches + 1)):
        for n in names:
            batch = next(streams[n])
            t0 = time.perf_counter()
            runs[n].step(batch)
            if i >= len(runs[n].types):  # one warm-up batch per relation
                secs[n].setdefault(batch.et[1], []).append(time.perf_counter() - t0)
    out: dict[str, Any] = {}
    for n in names:
        run = runs[n]
        per_batch = {rel: statistics.median(v) for rel, v in secs[n].items()}
        counts = {
            et[1]: int(run.train_data[et].edge_label_index.size(1)) for et in run.types
        }
        size = run.cfg.batch_size
        row: dict[str, Any] = {"s_per_batch_median": per_batch}
        for label, balanced in (("balanced", True), ("unbalanced", False)):
            used = {
                r: min(counts.values()) if balanced else c for r, c in counts.items()
            }
            nb = {r: -(-c // size) for r, c in used.items()}
            row[label] = {
                "positives_per_epoch": sum(used.values()),
                "batches_per_epoch": sum(nb.values()),
                "epoch_s_derived": sum(nb[r] * per_batch[r] for r in nb),
            }
        row["epoch_time_ratio"] = (
            row["balanced"]["epoch_s_derived"] / row["unbalanced"]["epoch_s_derived"]
        )
        out[n] = row
    return out


def plot(result: dict[str, Any], path: Path, title: str) -> None:
    """Validation AUC and loss against training wall time, one line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for n, pts in result["points"].items():
        t = [p["t"] / 60 for p in pts]
        axes[0].plot(t, [p["val_auc"] for p in pts], marker=".", label=n)
        axes[1].plot(t, [p["val_loss"] for p in pts], marker=".", label=n)
    axes[0].set_ylabel("validation AUC (mean over relations)")
    axes[1].set_ylabel("validation margin loss (mean over relations)")
    for ax in axes:
        ax.set_xlabel("training wall time (min)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    """Parse arguments, run one mode, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["steps", "curve", "epochs"])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--variants", default=None, help="comma-separated VARIANTS")
    ap.add_argument("--threads", type=int, default=None, help="default: torch's")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--slice", type=float, default=60.0)
    ap.add_argument("--val-edges", type=int, default=3000)
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = cached_graph(args.world, args.cache)
    report: dict[str, Any] = {
        "world": str(args.world),
        "threads": torch.get_num_threads(),
        "graph_s": time.perf_counter() - t0,
        "nodes": {nt: int(data[nt].num_nodes) for nt in data.node_types},
    }
    default = {
        "steps": "old,blocks,shared,shared1024",
        "curve": "old,shared,shared1024",
        "epochs": "old,shared",
    }
    names = (args.variants or default.get(args.mode, "shared")).split(",")
    if args.mode == "steps":
        report["steps"] = steps(data, names, args.batches)
    elif args.mode == "epochs":
        report["epochs"] = epochs(data, names, args.batches)
    else:
        report["curve"] = curve(data, names, args.minutes, args.slice, args.val_edges)
        if args.plot:
            plot(report["curve"], args.plot, f"HGNN on {args.world.name}")
    report["peak_rss_mb"] = peak_rss_mb()
    text = json.dumps(report, indent=2, default=float)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
