"""Shared setup of the online benchmarks: a synthetic serving world and an API process."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colisten import names
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from tests.online.conftest import write_catalogue
from tests.online.tower import random_items, write_version

DIM = 128


@dataclass(frozen=True)
class BenchWorld:
    """Where the synthetic model, catalogue and store of a benchmark live."""

    models_dir: Path
    catalogue: Path
    store_cfg: FeatureStoreConfig
    users: list[str]
    n_audiobooks: int
    n_podcasts: int


def store_config(kind: str, root: Path, redis_port: int = 6379) -> FeatureStoreConfig:
    """SQLite under root, or Redis db 5 (flushed) on the local Redis."""
    if kind == "redis":
        import redis

        redis.Redis(host="127.0.0.1", port=redis_port, db=5).flushdb()
        return FeatureStoreConfig(
            online="redis",
            data_dir=root / "feast",
            redis_connection=f"127.0.0.1:{redis_port},db=5",
        )
    return FeatureStoreConfig(online="sqlite", data_dir=root / "feast")


def build_world(
    root: Path, n_audiobooks: int, n_podcasts: int, n_users: int, store: str
) -> BenchWorld:
    """Model v1 (numpy tower, dim 128), catalogue, and n_users users' features in the store."""
    t0 = time.perf_counter()
    items = random_items(n_audiobooks, n_podcasts, DIM, seed=7)
    models = root / "models"
    write_version(models, "v1", items, seed=7)
    write_catalogue(root / "catalogue.parquet", items)
    cfg = store_config(store, root)
    fs = open_store(cfg)
    apply_definitions(fs, cfg)
    now = int(time.time() * 1000)
    ts = pd.Timestamp(now, unit="ms", tz="UTC")
    rng = np.random.default_rng(0)
    ab, pod = items[names.AUDIOBOOK][0], items[names.PODCAST][0]
    users = [f"u{i:07d}" for i in range(n_users)]
    recent, weak = [], []
    for u in users:
        a = [ab[j] for j in rng.choice(len(ab), 20, replace=False)]
        p = [pod[j] for j in rng.choice(len(pod), 20, replace=False)]
        recent.append(
            {
                names.USER_ID: u, "recent_audiobooks": a,
                "recent_audiobook_signals": ["stream", "follow", "preview", "stream"] * 5,
                "recent_audiobook_ms": [now - i for i in range(20)], "recent_podcasts": p,
                "recent_podcast_signals": ["stream"] * 20,
                "recent_podcast_ms": [now - i for i in range(20)],
                "last_event_ms": now, names.EVENT_TIMESTAMP: ts,
            }
        )  # fmt: skip
        weak.append(
            {
                names.USER_ID: u, "follow_audiobook_90d": 3, "preview_audiobook_90d": 2,
                "intent_to_pay_audiobook_90d": 0, "stream_audiobook_90d": 10,
                "stream_podcast_90d": 40, "last_event_ms": now, names.EVENT_TIMESTAMP: ts,
            }
        )  # fmt: skip
    fs.write_to_online_store("user_recent_items", pd.DataFrame(recent))
    fs.write_to_online_store("user_weak_signals", pd.DataFrame(weak))
    pop = [
        {
            names.ITEM_ID: i, names.ITEM_TYPE: t, "users_90d": int(rng.integers(0, 1000)),
            "streams_90d": 1, "users_14d": 1, "streams_14d": 1, names.EVENT_TIMESTAMP: ts,
        }
        for t, (ids, _) in items.items()
        for i in ids
    ]  # fmt: skip
    fs.write_to_online_store("item_popularity", pd.DataFrame(pop))
    print(f"world built in {time.perf_counter() - t0:.1f}s ({store} store)", flush=True)
    return BenchWorld(
        models, root / "catalogue.parquet", cfg, users, n_audiobooks, n_podcasts
    )


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident set) of a process, MiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


def stage_sums(metrics_text: str) -> dict[str, tuple[float, float]]:
    """(sum seconds, count) per recommendation stage from /metrics text."""
    out: dict[str, list[float]] = {}
    for line in metrics_text.splitlines():
        m = re.match(
            r'colisten_recommend_stage_seconds_(sum|count)\{stage="(\w+)"\} (\S+)', line
        )
        if m:
            entry = out.setdefault(m.group(2), [0.0, 0.0])
            entry[0 if m.group(1) == "sum" else 1] = float(m.group(3))
    return {k: (v[0], v[1]) for k, v in out.items()}


def write_json(path: Path, obj: object) -> None:
    """Write results next to the benchmark."""
    path.write_text(json.dumps(obj, indent=2))
