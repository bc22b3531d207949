"""Median time per HGNN training batch, per relation: neighbour sampling, then fwd+bwd+Adam.

    .venv/bin/python -m bench.hgnn_step --world /tmp/world_small --batches 20 --threads 1

--batching pyg times the issue-5 path (LinkNeighborLoader); for old against new in
one run, alternated, use bench/hgnn_speed.py.
The graph is `bench.hgnn_bench.world_graph`: reference edges as of the split, hashed text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch_geometric.data import HeteroData

from bench.hgnn_bench import world_graph
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.train import start_training


def step_times(
    data: HeteroData, batches: int, batching: str = "blocks"
) -> dict[str, dict[str, float]]:
    """Median ms of sampling and of one optimiser step, for each supervised relation."""
    extra = {"batch_size": 256, "shared_negatives": 0} if batching == "pyg" else {}
    cfg = HGNNConfig(seed=0, batching=batching, **extra)  # type: ignore[arg-type]
    run = start_training(data, cfg)
    out = {}
    for et in run.types:
        gen = torch.Generator().manual_seed(1)
        edges = {et: run.train_data[et].edge_label_index}
        (batches_it, _) = run.batches.epoch(edges, gen)
        sample, step = [], []
        for _ in range(batches + 2):  # the first two warm up
            t0 = time.perf_counter()
            _, batch = next(batches_it)
            t1 = time.perf_counter()
            run.step(batch)
            sample.append(t1 - t0)
            step.append(time.perf_counter() - t1)
        out[et[1]] = {
            "sample_ms": round(statistics.median(sample[2:]) * 1e3, 1),
            "step_ms": round(statistics.median(step[2:]) * 1e3, 1),
        }
    return out


def main() -> None:
    """Parse arguments, build the graph, print the medians as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batching", choices=["blocks", "pyg"], default="blocks")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    graph = world_graph(args.world)
    print(json.dumps(step_times(graph, args.batches, args.batching)))


if __name__ == "__main__":
    main()
