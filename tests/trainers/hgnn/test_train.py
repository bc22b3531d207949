"""Training on the tiny world: it learns, embeds everything, is deterministic, ablates."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from tests.trainers.conftest import TinyWorld
from trainers.graph import IdMaps, build_hetero_data, label_edge_types
from trainers.hgnn.config import ABLATIONS, HGNNConfig
from trainers.hgnn.infer import embed, embeddings_frame, infer_embeddings
from trainers.hgnn.pipeline import checkpoint_metadata
from trainers.hgnn.train import TrainResult, train_hgnn

SMALL = {"hidden_dim": 32, "out_dim": 32, "num_negatives": 3}
Graph = tuple[HeteroData, IdMaps]


@pytest.fixture(scope="module")
def graph(tiny: TinyWorld) -> Graph:
    """The tiny graph as of the split, every catalogue item a node."""
    return build_hetero_data(tiny.edges_as_of(tiny.manifest.split_ms), tiny.content)


@pytest.fixture(scope="module")
def trained(graph: Graph) -> TrainResult:
    """One short training run shared by the tests below."""
    data, _ = graph
    return train_hgnn(data, HGNNConfig(max_epochs=6, **SMALL), progress=False)


def test_training_lowers_validation_loss(trained: TrainResult) -> None:
    assert trained.best_val_loss < trained.stats["initial_val_loss"]
    assert trained.history[-1]["train_loss"] < trained.history[0]["train_loss"]
    assert trained.stats["val_edges"] and sum(trained.stats["val_edges"].values()) > 0


def test_validation_is_reported_per_relation(trained: TrainResult) -> None:
    assert set(trained.stats["val_edges"]) == {"aa", "ap", "pp"}
    assert all(n > 0 for n in trained.stats["val_edges"].values())  # pp too
    for row in trained.history:
        by_rel = row["val_by_relation"]
        assert set(by_rel) == {"aa", "ap", "pp"}
        mean = sum(m["loss"] for m in by_rel.values()) / 3
        assert row["val_loss"] == pytest.approx(mean)  # unweighted over relations
        assert all(0.0 <= m["auc"] <= 1.0 for m in by_rel.values())
    best = trained.history[trained.best_epoch]["val_by_relation"]
    assert sum(m["auc"] for m in best.values()) / 3 > 0.5, best  # better than random


def test_auto_inference_choice_is_recorded(trained: TrainResult) -> None:
    choice = trained.inference
    assert choice is not None and choice.requested == "auto"
    assert set(choice.val_auc) == {"full", "sampled"}
    for aucs in choice.val_auc.values():
        assert set(aucs) == {"aa", "ap", "pp", "mean"}
    means = {mode: aucs["mean"] for mode, aucs in choice.val_auc.items()}
    assert choice.mode == max(means, key=lambda m: (means[m], m == "full"))
    meta = checkpoint_metadata(trained, 123)
    assert json.loads(json.dumps(meta))["inference"] == choice.to_json()
    assert set(meta["best_val_by_relation"]) == {"aa", "ap", "pp"}


def test_sampled_inference_is_seeded_and_unit_norm(
    graph: Graph, trained: TrainResult
) -> None:
    data, _ = graph
    cfg = HGNNConfig(max_epochs=6, **SMALL)
    first, again = (embed(trained.model, data, cfg, "sampled") for _ in "ab")
    other = embed(trained.model, data, replace(cfg, seed=1), "sampled")
    for nt in first:
        assert np.array_equal(first[nt], again[nt])
        assert len(first[nt]) == data[nt].num_nodes  # isolated items too
        norms = np.linalg.norm(first[nt], axis=1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert not np.array_equal(first["audiobook"], other["audiobook"])


def test_colistened_items_end_up_closer_than_random(
    graph: Graph, trained: TrainResult
) -> None:
    data, _ = graph
    z = infer_embeddings(trained.model, data)
    rng = np.random.default_rng(0)
    for et in label_edge_types(data):
        src, _, dst = et
        ei = data[et].edge_label_index.numpy()
        co = (z[src][ei[0]] * z[dst][ei[1]]).sum(1).mean()
        a = rng.integers(0, len(z[src]), 4000)
        b = rng.integers(0, len(z[dst]), 4000)
        rand = (z[src][a] * z[dst][b]).sum(1).mean()
        assert co > rand + 0.1, (et, co, rand)


def test_every_catalogue_item_gets_a_unit_norm_embedding(
    tiny: TinyWorld,
    graph: Graph,
    trained: TrainResult,
) -> None:
    data, maps = graph
    degree = {nt: torch.zeros(data[nt].num_nodes) for nt in data.node_types}
    for et in data.edge_types:
        degree[et[2]].index_add_(
            0, data[et].edge_index[1], torch.ones(data[et].num_edges)
        )
    assert any(bool((d == 0).any()) for d in degree.values())  # isolated items exist
    emb = embeddings_frame(infer_embeddings(trained.model, data), maps)
    assert sorted(emb["item_id"]) == sorted(tiny.catalogue["item_id"])
    norms = np.linalg.norm(np.stack(emb["embedding"].to_numpy()), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_same_seed_same_embeddings(graph: Graph) -> None:
    data, _ = graph
    cfg = HGNNConfig(max_epochs=2, seed=3, **SMALL)
    runs = [
        infer_embeddings(train_hgnn(data, cfg, progress=False).model, data)
        for _ in "ab"
    ]
    for nt in runs[0]:
        assert np.array_equal(runs[0][nt], runs[1][nt])
    other = infer_embeddings(
        train_hgnn(
            data, HGNNConfig(max_epochs=2, seed=4, **SMALL), progress=False
        ).model,
        data,
    )
    assert not np.array_equal(other["audiobook"], runs[0]["audiobook"])


@pytest.mark.parametrize("ablation", sorted(set(ABLATIONS) - {"none"}))
def test_ablations_train_and_embed_everything(tiny: TinyWorld, ablation: str) -> None:
    cfg = HGNNConfig(ablation=ablation, max_epochs=1, **SMALL)  # type: ignore[arg-type]
    edges = tiny.edges_as_of(tiny.manifest.split_ms)
    data, maps = build_hetero_data(edges, tiny.content, relations=cfg.relations)
    kept = {et[1] for et in label_edge_types(data)}
    assert kept == set(cfg.relations)
    result = train_hgnn(data, cfg, progress=False)
    emb = embeddings_frame(infer_embeddings(result.model, data), maps)
    assert len(emb) == len(tiny.catalogue)
    norms = np.linalg.norm(np.stack(emb["embedding"].to_numpy()), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    if ablation == "pp_only":  # audiobooks: text through the shared self path only
        assert not any(
            nt == "audiobook" for et in data.edge_types for nt in (et[0], et[2])
        )
        assert set(result.model.layers[0].self_lin) == {"item"}


def test_balanced_epochs_use_fewer_positives(graph: Graph) -> None:
    data, _ = graph
    runs = {
        bal: train_hgnn(data, HGNNConfig(max_epochs=1, balanced=bal, **SMALL), False)
        for bal in (True, False)
    }
    train_edges = runs[True].stats["train_edges"]
    assert runs[True].history[0]["positives"] == 3 * min(train_edges.values())
    assert runs[False].history[0]["positives"] == sum(train_edges.values())
