"""The HGNN-w-users baseline on the tiny world."""

from __future__ import annotations

import numpy as np

from tests.trainers.conftest import TinyWorld
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.with_users import USER, build_user_graph, train_with_users


def test_user_graph_uses_only_events_before_the_cutoff(tiny: TinyWorld) -> None:
    cutoff = tiny.manifest.split_ms
    data, ids = build_user_graph(tiny.events, tiny.content, cutoff)
    assert set(data.node_types) == {USER, "audiobook", "podcast"}
    assert {et[1] for et in data.edge_types} == {"ua", "au", "up", "pu"}
    for et in data.edge_types:
        if "edge_label_time" in data[et]:
            assert int(data[et].edge_label_time.max()) < cutoff
    before = tiny.events[tiny.events["ts"] < cutoff]
    assert set(ids[USER]) <= set(before["user_id"])
    norms = data[USER].x.norm(dim=1)
    assert np.allclose(norms.numpy(), 1.0, atol=1e-5)  # mean text embedding, normalised


def test_with_users_trains_and_embeds(tiny: TinyWorld) -> None:
    cfg = HGNNConfig(max_epochs=2, hidden_dim=16, out_dim=16, num_negatives=2)
    out = train_with_users(
        tiny.events, tiny.content, tiny.manifest.split_ms, cfg, False
    )
    assert len(out.items) == len(tiny.content)
    assert len(out.users) > 0
    for frame in (out.users, out.items):
        norms = np.linalg.norm(np.stack(frame["embedding"].to_numpy()), axis=1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert out.train.stats["edges"].keys() == {"ua", "up"}
