"""Median time per HGNN training batch, per relation: neighbour sampling, then fwd+bwd+Adam.

    .venv/bin/python -m bench.hgnn_step --world /tmp/world_small --batches 20 --threads 1

To compare two versions of the trainer side by side, run it alternately with PYTHONPATH
pointing at a `git worktree` of each (the graph is built the same way by both).
The graph is `bench.hgnn_bench`'s: reference edges as of the split, hashed-text features.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from bench.hgnn_bench import hashed_content
from colisten.world import format as fmt
from stream_processors.reference import (
    colisten_edges_reference,
    colisten_records_reference,
)
from trainers.graph import build_hetero_data, label_edge_types, split_hetero_by_time
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.train import _loader, batch_loss, build_model, neighbor_sampler


def world_graph(world: Path) -> object:
    """The item graph of a world as of its split, with hashed-text node features."""
    manifest = fmt.WorldManifest.read(world)
    events = fmt.read_events(world, until_ms=manifest.split_ms + 1)
    records = colisten_records_reference(events[events["ts"] < manifest.split_ms])
    edges = colisten_edges_reference(records, manifest.split_ms).reset_index()
    data, _ = build_hetero_data(edges, hashed_content(fmt.read_catalogue(world)))
    return data


def step_times(data: object, batches: int) -> dict[str, dict[str, float]]:
    """Median ms of sampling and of one optimiser step, for each supervised relation."""
    cfg = HGNNConfig(seed=0)
    torch.manual_seed(0)
    train, _ = split_hetero_by_time(data, cfg.val_frac)
    model = build_model(train, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sampler, cpu = neighbor_sampler(train, cfg), torch.device("cpu")
    out = {}
    for et in label_edge_types(train):
        gen = torch.Generator().manual_seed(1)
        batches_it = iter(
            _loader(train, sampler, et, train[et].edge_label_index, cfg, gen)
        )
        sample, step = [], []
        for _ in range(batches + 2):  # the first two warm up
            t0 = time.perf_counter()
            batch = next(batches_it)
            t1 = time.perf_counter()
            opt.zero_grad()
            loss, _ = batch_loss(model, batch, et, cfg, cpu)
            loss.backward()
            opt.step()
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
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps(step_times(world_graph(args.world), args.batches)))


if __name__ == "__main__":
    main()
