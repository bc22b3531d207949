"""train_hgnn: sampled mini-batch training, margin loss, early stopping per relation."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from tqdm.auto import tqdm

from trainers.graph import EdgeType, label_edge_types, split_hetero_by_time
from trainers.hgnn.batches import (
    BlockBatches,
    Epoch,
    PygBatches,
    Triplets,
    make_batches,
)
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.loss import margin_loss, negative_scores
from trainers.hgnn.model import HGNN, HGNNArch
from trainers.hgnn.sampler import BalancedLinkSampler
from trainers.hgnn.validate import (
    InferenceChoice,
    auc_counts,
    choose_inference,
    mean_over_relations,
    sampled_validation,
)


@dataclass
class TrainResult:
    """The best model (weights loaded), its architecture, and what happened.

    best_val_loss is the unweighted mean over relations of the validation margin loss;
    each history row has val_by_relation: per relation, that loss and its AUC.
    """

    model: HGNN
    arch: HGNNArch
    history: list[dict[str, Any]]
    best_epoch: int
    best_val_loss: float
    stats: dict[str, Any] = field(default_factory=dict)
    inference: InferenceChoice | None = None
    """How items are embedded after training (full / sampled) and the AUCs behind it."""


def graph_stats(data: HeteroData) -> dict[str, Any]:
    """Node and supervised-edge counts (JSON-compatible)."""
    return {
        "nodes": {nt: int(data[nt].num_nodes) for nt in data.node_types},
        "edges": {
            et[1]: int(data[et].edge_label_index.size(1))
            for et in label_edge_types(data)
        },
    }


def build_model(data: HeteroData, cfg: HGNNConfig) -> HGNN:
    """A fresh HGNN for data's metadata (seeded by the caller)."""
    in_dim = int(next(iter(data.x_dict.values())).size(1))
    arch = HGNNArch(
        node_types=tuple(data.node_types),
        edge_types=tuple(data.edge_types),
        in_dim=in_dim,
        hidden_dim=cfg.hidden_dim,
        out_dim=cfg.out_dim,
        num_layers=cfg.num_layers,
        shared_self=cfg.homogeneous,
        final_relu=cfg.final_relu,
    )
    return HGNN(arch)


def batch_loss(model: HGNN, batch: Triplets, cfg: HGNNConfig) -> tuple[Tensor, int]:
    """Margin loss of one triplet batch, and its number of positives."""
    anchor, pos, neg = batch.embeddings(model)
    return margin_loss(anchor, pos, neg, cfg.margin), batch.size


@torch.no_grad()
def evaluate(
    model: HGNN,
    batches: BlockBatches | PygBatches,
    edges: dict[EdgeType, Tensor],
    cfg: HGNNConfig,
) -> dict[str, dict[str, float]]:
    """Per relation: mean margin loss and AUC, batch by batch as training sees edges.

    Embeddings here are one sampled draw per batch (as in training) against
    cfg.num_negatives negatives per edge, draws fixed by seed. Early stopping uses
    validate.sampled_validation (one draw for the whole graph, the same quantity, 5-10x
    cheaper); this is the batch-wise reference (bench/hgnn_speed's judge), and
    validate.choose_inference scores the shipped embeddings.
    """
    model.eval()
    out = {}
    with torch.random.fork_rng(devices=[]):  # the pyg path draws from the global RNG
        torch.manual_seed(cfg.seed + 2)
        for et, index in edges.items():
            if index.size(1) == 0:
                continue
            loss_sum, count, wins, pairs = 0.0, 0, 0.0, 0
            for batch in batches.fixed(et, index, cfg.seed + 2):
                anchor, pos, neg = batch.embeddings(model)
                loss = margin_loss(anchor, pos, neg, cfg.margin)
                w, p = auc_counts((anchor * pos).sum(-1), negative_scores(anchor, neg))
                n = int(anchor.size(0))
                loss_sum, count = loss_sum + float(loss) * n, count + n
                wins, pairs = wins + w, pairs + p
            out[et[1]] = {"loss": loss_sum / count, "auc": wins / pairs}
    return out


def mean_val_loss(metrics: dict[str, dict[str, float]]) -> float:
    """Early-stopping criterion: validation loss averaged over relations, unweighted."""
    return mean_over_relations({rel: m["loss"] for rel, m in metrics.items()})


def train_hgnn(data: HeteroData, cfg: HGNNConfig, progress: bool = True) -> TrainResult:
    """Train, early-stop on held-out edges per relation, keep the best; pick inference."""
    threads = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        return _train(data, cfg, progress)
    finally:
        torch.set_num_threads(threads)


@dataclass
class TrainingRun:
    """One run's state: the time-split graph, model, optimiser and seeded samplers."""

    cfg: HGNNConfig
    device: torch.device
    train_data: HeteroData
    val_edges: dict[EdgeType, Tensor]
    types: list[EdgeType]
    model: HGNN
    opt: torch.optim.Optimizer
    batches: BlockBatches | PygBatches
    balancer: BalancedLinkSampler
    generator: torch.Generator

    def epoch_batches(self) -> tuple[Epoch, int]:
        """A fresh balanced draw as shuffled batches (and their count); positive edges."""
        picks = self.balancer.draw()
        edges = {
            et: self.train_data[et].edge_label_index[:, picks[et[1]]]
            for et in self.types
        }
        positives = sum(len(picks[et[1]]) for et in self.types)
        return self.batches.epoch(edges, self.generator), positives

    def step(self, batch: Triplets) -> tuple[float, int]:
        """One optimiser step on a batch: (its loss, its positives)."""
        self.opt.zero_grad()
        loss, n = batch_loss(self.model, batch, self.cfg)
        loss.backward()
        self.opt.step()
        return float(loss.detach()), n

    def validate(self) -> dict[str, dict[str, float]]:
        """Per relation validation loss and AUC of the current model (early stopping)."""
        return sampled_validation(self.model, self.train_data, self.val_edges, self.cfg)


def start_training(data: HeteroData, cfg: HGNNConfig) -> TrainingRun:
    """Seed, split by time, and build the model, optimiser and samplers of a run."""
    torch.manual_seed(cfg.seed)
    device = cfg.torch_device()
    train_data, val_edges = split_hetero_by_time(data, cfg.val_frac)
    types = [
        et
        for et in label_edge_types(train_data)
        if train_data[et].edge_label_index.size(1) > 0
    ]
    if not types:
        raise ValueError(
            "no co-listening edges to train on (is colisten_edges filled?)"
        )
    model = build_model(train_data, cfg).to(device)
    return TrainingRun(
        cfg,
        device,
        train_data,
        val_edges,
        types,
        model,
        torch.optim.Adam(model.parameters(), lr=cfg.lr),
        make_batches(train_data, cfg, device),
        BalancedLinkSampler(
            {et[1]: int(train_data[et].edge_label_index.size(1)) for et in types},
            cfg.seed,
            cfg.use_balanced,
        ),
        torch.Generator().manual_seed(cfg.seed + 1),
    )


def _train(data: HeteroData, cfg: HGNNConfig, progress: bool) -> TrainResult:
    run = start_training(data, cfg)
    model, train_data, val_edges = run.model, run.train_data, run.val_edges
    types, validate = run.types, run.validate
    has_val = any(v.size(1) > 0 for v in val_edges.values())
    history: list[dict[str, Any]] = []
    initial = validate() if has_val else {}
    best, best_epoch, best_state, bad = float("inf"), -1, None, 0
    bar = tqdm(range(cfg.max_epochs), desc="hgnn", disable=not progress, unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        (batches, n_batches), _ = run.epoch_batches()
        total, count = 0.0, 0
        for _, batch in tqdm(
            batches,
            total=n_batches,
            desc=f"epoch {epoch}",
            unit="batch",
            leave=False,
            disable=not progress,
        ):
            loss, n = run.step(batch)
            total, count = total + loss * n, count + n
        seconds = time.perf_counter() - t0
        train_loss = total / max(count, 1)
        by_rel = validate() if has_val else {}
        val_loss = mean_val_loss(by_rel) if has_val else train_loss
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_by_relation": by_rel,
                "seconds": seconds,
                "positives": count,
            }
        )
        bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
        if val_loss < best - 1e-6:
            best, best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    stats = graph_stats(data) | {
        "train_edges": {
            et[1]: int(train_data[et].edge_label_index.size(1)) for et in types
        },
        "val_edges": {et[1]: int(v.size(1)) for et, v in val_edges.items()},
        "initial_val_loss": mean_val_loss(initial) if has_val else float("nan"),
        "initial_val_by_relation": initial,
    }
    choice = choose_inference(model, train_data, val_edges, cfg)
    return TrainResult(model, model.arch, history, best_epoch, best, stats, choice)
