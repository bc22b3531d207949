"""Freshness: follow posted to the API → visible in its recommendations, p50/p99.

    .venv/bin/python -m bench.online_freshness --trials 200 --store sqlite

Real Kafka (fresh topics), a real stream worker, the real store and one API process; a
background client keeps requesting recommendations meanwhile. Each trial posts a follow for
a new user through POST /v1/events and polls GET /recommendations every 10 ms until
features_as_of equals the follow's timestamp.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from bench.online_common import build_world, write_json
from colisten.settings import kafka_bootstrap
from infra.topics import TopicSpec, delete_topics, ensure_topics
from tests.online.server import api_env, start_api
from tests.stream_processors.harness import WorkerRig


def main() -> None:
    """Run the trials and print p50/p99."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--store", default="sqlite", choices=["redis", "sqlite"])
    ap.add_argument("--background-rps", type=float, default=50.0)
    ap.add_argument("--out", type=Path, default=Path("bench/online_freshness.json"))
    args = ap.parse_args()
    bootstrap = kafka_bootstrap()
    created: list[str] = []

    def make_topic(prefix: str = "t", partitions: int = 4) -> str:
        name = f"bench.{prefix}.{uuid.uuid4().hex[:10]}"
        ensure_topics([TopicSpec(name, partitions, {})], bootstrap)
        created.append(name)
        return name

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world = build_world(root, 2000, 5000, 1000, args.store)
        rig = WorkerRig.create(make_topic, world.store_cfg, root, partitions=2)
        env = api_env(world.models_dir, world.store_cfg, world.catalogue, bootstrap,
                      rig.interactions, feature_timeout_ms="50")  # fmt: skip
        rig.start()
        api, base = start_api(env, root / "api.log")
        stop = threading.Event()

        def background() -> None:
            with httpx.Client(timeout=5) as c:
                i = 0
                while not stop.is_set():
                    c.get(
                        f"{base}/v1/users/{world.users[i % len(world.users)]}/recommendations"
                    )
                    i += 1
                    time.sleep(1.0 / args.background_rps)

        bg = threading.Thread(target=background, daemon=True)
        bg.start()
        times: list[float] = []
        timeouts = 0
        try:
            with httpx.Client(timeout=5) as c:
                for trial in range(args.trials + 1):  # trial 0 warms the worker up
                    user = f"fresh-{trial}-{uuid.uuid4().hex[:6]}"
                    ts = int(time.time() * 1000)
                    event = {"event_id": str(uuid.uuid4()), "user_id": user,
                             "item_id": "a000042", "item_type": "audiobook",
                             "event_type": "follow", "ts": ts}  # fmt: skip
                    start = time.monotonic()
                    assert c.post(f"{base}/v1/events", json=event).status_code == 202
                    limit = 120 if trial == 0 else 10
                    url = f"{base}/v1/users/{user}/recommendations"
                    while time.monotonic() - start < limit:
                        if c.get(url).json()["features_as_of"] == ts:
                            if trial:
                                times.append(time.monotonic() - start)
                            break
                        time.sleep(0.01)
                    else:
                        timeouts += 1
        finally:
            stop.set()
            api.stop()
            rig.stop_all()
            delete_topics(created, bootstrap)
    ms = np.array(times) * 1000
    result = {
        "trials": len(times), "timeouts": timeouts, "store": args.store,
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
    }  # fmt: skip
    print(result)
    write_json(args.out, result)


if __name__ == "__main__":
    main()
