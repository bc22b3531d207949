"""Scale-out: two stream workers and two API processes on one broker and one store agree."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from infra.processes import wait_for
from tests.online.conftest import (
    serving_rig,
)
from tests.online.server import start_api

pytestmark = pytest.mark.integration


def test_two_workers_two_apis_give_every_user_the_same_answer(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    rig, env, items = serving_rig(make_topic, tmp_path, kafka_bootstrap, partitions=4)
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
