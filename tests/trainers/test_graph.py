"""Building the co-listening HeteroData and the time split, on hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from feature_repo import batch_views, colisten_edges
from trainers import store_loader as graph
from trainers.graph import build_hetero_data, split_edges_by_time, split_hetero_by_time

CONTENT = pd.DataFrame(
    {
        "item_id": ["a1", "a0", "p0", "p1", "p2"],
        "item_type": ["audiobook", "audiobook", "podcast", "podcast", "podcast"],
        "text_embedding": [np.full(3, i, np.float32) for i in range(5)],
    }
)
EDGES = pd.DataFrame(
    {
        "pair_id": ["a0|a1", "a0|p0", "a1|p2", "p0|p1", "a9|p0"],
        "src_item": ["a0", "a0", "a1", "p0", "a9"],
        "dst_item": ["a1", "p0", "p2", "p1", "p0"],
        "relation": ["aa", "ap", "ap", "pp", "ap"],
        "n_users": [1, 3, 1, 2, 5],
        "first_colisten_ms": [1, 2, 3, 4, 5],
        "last_colisten_ms": [10, 40, 30, 20, 50],
    }
)
AA = ("audiobook", "aa", "audiobook")
AP = ("audiobook", "ap", "podcast")
PA = ("podcast", "pa", "audiobook")
PP = ("podcast", "pp", "podcast")


def test_columns_match_the_feature_views() -> None:
    assert graph.EDGE_COLUMNS == [c.name for c in colisten_edges.COLUMNS]
    assert graph.CONTENT_COLUMNS == [c.name for c in batch_views.ITEM_CONTENT_COLUMNS]
    assert graph.EDGES_VIEW == colisten_edges.VIEW
    assert graph.CONTENT_VIEW == batch_views.ITEM_CONTENT


def test_build_hetero_data() -> None:
    data, maps = build_hetero_data(EDGES, CONTENT)
    assert maps.ids == {"audiobook": ["a0", "a1"], "podcast": ["p0", "p1", "p2"]}
    assert data["audiobook"].x[:, 0].tolist() == [1.0, 0.0]  # sorted by id
    assert data[AA].edge_index.tolist() == [[0, 1], [1, 0]]  # both directions
    assert data[AA].edge_label_index.tolist() == [[0], [1]]
    assert data[AP].edge_index.tolist() == [
        [0, 1],
        [0, 2],
    ]  # a9 has no content: dropped
    assert data[PA].edge_index.tolist() == [[0, 2], [0, 1]]
    assert data[PP].edge_index.tolist() == [[0, 1], [1, 0]]
    assert data[AP].edge_label_time.tolist() == [40, 30]


def test_min_count_and_relations() -> None:
    data, _ = build_hetero_data(EDGES, CONTENT, min_count=2, relations=("ap", "pp"))
    assert set(data.edge_types) == {AP, PA, PP}
    assert data[AP].edge_label_index.tolist() == [[0], [0]]
    assert data[PP].edge_label_index.size(1) == 1


def test_split_edges_by_time_holds_out_the_most_recent() -> None:
    edges = EDGES.iloc[:4]
    train, val = split_edges_by_time(edges, val_frac=0.25)
    assert val["pair_id"].tolist() == ["a0|p0"]  # newest last_colisten_ms (40)
    assert sorted(train["pair_id"]) == ["a0|a1", "a1|p2", "p0|p1"]


def test_split_hetero_by_time_removes_held_out_edges_from_message_passing() -> None:
    data, _ = build_hetero_data(EDGES, CONTENT)
    train, val = split_hetero_by_time(data, val_frac=0.25)
    assert val[AP].tolist() == [[0], [0]]  # a0|p0, the newest of four
    assert train[AP].edge_label_index.tolist() == [[1], [2]]
    assert train[PA].edge_index.tolist() == [[2], [1]]
    assert (
        int(torch.cat([train[et].edge_label_time for et in (AA, AP, PP)]).max()) == 30
    )
