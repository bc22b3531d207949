"""Building the co-listening HeteroData and the time split, on hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_repo import batch_views, colisten_edges
from trainers import store_loader as graph
from trainers.graph import (
    build_hetero_data,
    count_stratum,
    split_edges_by_time,
    split_hetero_by_time,
    time_holdout_mask,
)

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


def test_time_holdout_mask_takes_the_newest_of_each_stratum() -> None:
    times = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6, 0])
    assert time_holdout_mask(times, 0.2).tolist() == [
        False, False, True, False, False, False, True, False, False, False,
    ]  # fmt: skip
    strata = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    mask = time_holdout_mask(times, 0.2, strata)
    assert np.flatnonzero(mask).tolist() == [2, 6]  # 9 (newest of 0), 8 (newest of 1)
    assert count_stratum(np.array([1, 2, 3, 4, 7, 8])).tolist() == [0, 1, 1, 2, 2, 3]


def _edges(counts: dict[str, int]) -> pd.DataFrame:
    """counts[rel] edges of each relation; half seen by 1 user, half by 8 (busier:
    earlier first and later last co-listens); first co-listen grows with the index."""
    rows = []
    for rel, n in counts.items():
        for i in range(n):
            busy = i % 2 == 1
            src = f"a{i}" if rel in ("aa", "ap") else f"p{i}"
            dst = f"a{i + 500}" if rel == "aa" else f"p{i + 500}"
            rows.append(
                {
                    "pair_id": f"{src}|{dst}",
                    "src_item": src,
                    "dst_item": dst,
                    "relation": rel,
                    "n_users": 8 if busy else 1,
                    "first_colisten_ms": 10 * i - (5 if busy else 0),
                    "last_colisten_ms": 10 * i + (1000 if busy else 0),
                }
            )
    return pd.DataFrame(rows)


def test_validation_is_per_relation_and_keeps_the_count_mix() -> None:
    edges = _edges({"aa": 20, "ap": 40, "pp": 100})
    train, val = split_edges_by_time(edges, val_frac=0.1)
    assert val["relation"].value_counts().to_dict() == {"pp": 10, "ap": 4, "aa": 2}
    assert not set(train["pair_id"]) & set(val["pair_id"])
    assert sorted(train["pair_id"].tolist() + val["pair_id"].tolist()) == sorted(
        edges["pair_id"]
    )
    for _, part in val.groupby("relation"):  # busy and quiet edges alike
        assert (part["n_users"] == 8).sum() == (part["n_users"] == 1).sum()
    aa = val[val["relation"] == "aa"]  # the newest-formed of each stratum
    assert sorted(aa["pair_id"]) == ["a18|a518", "a19|a519"]


def test_split_hetero_by_time_is_per_relation_and_disjoint() -> None:
    edges = _edges({"aa": 20, "ap": 40, "pp": 100})
    names_ = pd.concat([edges["src_item"], edges["dst_item"]]).unique()
    content = pd.DataFrame(
        {
            "item_id": names_,
            "item_type": ["audiobook" if n[0] == "a" else "podcast" for n in names_],
            "text_embedding": [np.zeros(2, np.float32)] * len(names_),
        }
    )
    data, _ = build_hetero_data(edges, content)
    train, val = split_hetero_by_time(data, val_frac=0.1)
    assert {et[1]: v.size(1) for et, v in val.items()} == {"aa": 2, "ap": 4, "pp": 10}
    for et, held in val.items():
        kept = train[et].edge_label_index
        pairs = {tuple(p) for p in kept.t().tolist()}
        assert not pairs & {tuple(p) for p in held.t().tolist()}
        assert len(pairs) + held.size(1) == data[et].edge_label_index.size(1)
        busy = (data[et].edge_label_count == 8).sum()
        busy_held = busy - (train[et].edge_label_count == 8).sum()
        assert busy_held == held.size(1) // 2  # busy and quiet edges alike


def test_split_hetero_by_time_removes_held_out_edges_from_message_passing() -> None:
    data, _ = build_hetero_data(EDGES, CONTENT)
    train, val = split_hetero_by_time(data, val_frac=0.5)
    # ap: a0|p0 (3 users, first 2), a1|p2 (1 user, first 3): one stratum each, both
    # mid-rank 1/2, so the newer-formed a1|p2 is held out
    assert val[AP].tolist() == [[1], [2]]
    assert train[AP].edge_label_index.tolist() == [[0], [0]]
    assert train[PA].edge_index.tolist() == [[0], [0]]
    assert val[AA].size(1) == 0 and val[PP].size(1) == 0  # round(0.5 * 1) = 0
    assert train[AP].edge_label_first_time.tolist() == [2]
    assert train[AP].edge_label_count.tolist() == [3]
