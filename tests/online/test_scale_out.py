"""Scale-out: two stream workers and two API processes on one broker and one store agree."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from feature_repo.config import FeatureStoreConfig
from infra.processes import wait_for
from tests.online.conftest import (
    DIM,
    N_AUDIOBOOKS,
    N_PODCASTS,
    seed_store,
    write_catalogue,
)
from tests.online.server import api_env, start_api
from tests.online.tower import random_items, write_version
from tests.stream_processors.harness import WorkerRig

pytestmark = pytest.mark.integration


def test_two_workers_two_apis_give_every_user_the_same_answer(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    rig = WorkerRig.create(make_topic, store_cfg, tmp_path, partitions=4)
    items = random_items(N_AUDIOBOOKS, N_PODCASTS, DIM, seed=1)
    seed_store(store_cfg, items, int(time.time() * 1000))
    write_version(tmp_path / "models", "v1", items, seed=1)
    write_catalogue(tmp_path / "catalogue.parquet", items)
    env = api_env(
        tmp_path / "models",
        store_cfg,
        tmp_path / "catalogue.parquet",
        kafka_bootstrap,
        rig.interactions,
    )
    rig.start("a")
    rig.start("b")
    apis = [start_api(env, tmp_path / f"api-{i}.log") for i in range(2)]
    users = [f"u-{uuid.uuid4().hex[:6]}" for _ in range(12)]
    books = items["audiobook"][0]
    t0 = int(time.time() * 1000)
    try:
        with httpx.Client(timeout=10) as http:
            # each user's follows go through both APIs, alternating
            sent: dict[str, int] = {}
            for n, user in enumerate(users):
                for j in range(3):
                    base = apis[(n + j) % 2][1]
                    ts = t0 + 10 * n + j
                    event = {
                        "event_id": str(uuid.uuid4()),
                        "user_id": user,
                        "item_id": books[(3 * n + j) % len(books)],
                        "item_type": "audiobook",
                        "event_type": "follow",
                        "ts": ts,
                    }
                    assert http.post(f"{base}/v1/events", json=event).status_code == 202
                    sent[user] = ts

            def answers(user: str) -> list[dict[str, object]]:
                return [
                    http.get(f"{b}/v1/users/{user}/recommendations?k=10").json()
                    for _, b in apis
                ]

            def all_fresh() -> bool:
                rig.assert_alive()
                return all(
                    a["features_as_of"] == sent[u] for u in users for a in answers(u)
                )

            wait_for(all_fresh, 180, 0.5, "every follow visible through both APIs")
            for user in users:
                one, two = answers(user)
                assert one["items"] == two["items"]
                assert one["model_version"] == two["model_version"] == "v1"
            # neither worker died while the group shared the partitions
            assert all(w.alive() for w in rig.workers)
    finally:
        for api, _ in apis:
            api.stop()
        rig.stop_all()
