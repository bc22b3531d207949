"""The materializer's rows equal a real stream worker's, version for version, on tiny.

With one partition per topic: then stage 2 receives co-listen records in the log's
event-time order, as the materializer (and the reference) fold them. With several,
the records of four stage-1 partitions interleave in each `colisten.pairs` partition in
an order that depends on timing, and a pair's sweep lands on whichever record first
moves that partition's watermark past it; only the final rows (test_ground_truth) and
the user views are then deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from colisten.timeunits import DAY_MS as DAY
from colisten.world.replay import replay
from feature_repo.config import FeatureStoreConfig
from feature_repo.sources import offline_path
from infra.processes import wait_for
from stream_processors.reference import expected_views
from stream_processors.verify import diff_views
from tests.stream_processors.harness import WorkerRig
from tests.trainers.conftest import TinyWorld
from tests.trainers.materialize.frames import VIEWS, build_world, cell
from trainers.materialize.plan import VIEW_COLUMNS, VIEW_KEYS

pytestmark = pytest.mark.integration

WINDOW_DAYS, CAP = 20, 3
"""A short window and cap, so sweeps, re-pairs and the pairing cap all happen."""


def _collapsed(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The worker's versions, one per (key, ms): its newest stamp of each millisecond."""
    us = frame["event_timestamp"].astype("int64")
    if str(frame["event_timestamp"].dtype).endswith("[ns, UTC]"):
        us = us // 1000
    frame = frame.assign(ts=us // 1000, _us=us).sort_values([key, "_us"])
    return frame.drop_duplicates([key, "ts"], keep="last").drop(columns=["_us"])


def test_every_version_equals_the_stream_workers(
    tiny: TinyWorld,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    tmp_path: Path,
) -> None:
    """Replay the whole tiny log through a worker; compare online rows and every version."""
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    rig = WorkerRig.create(make_topic, cfg, tmp_path, partitions=1)
    replay(tiny.path, kafka_bootstrap, topic=rig.interactions, progress=False)
    window_ms = WINDOW_DAYS * DAY
    expected = expected_views(tiny.events, rig.partitions, window_ms, CAP)
    rig.start(
        COLISTEN_STREAM_WINDOW_DAYS=str(WINDOW_DAYS),
        COLISTEN_STREAM_RECENT_ITEMS=str(CAP),
    )
    try:
        last: list[str] = []

        def converged() -> bool:
            rig.assert_alive()
            last[:] = diff_views(rig.store(), expected)
            return not last

        try:
            wait_for(
                converged,
                timeout_s=240,
                interval_s=2,
                what="worker equal to the reference",
                context=rig.tails,
            )
        except TimeoutError as exc:
            raise AssertionError("\n".join([str(exc), *last])) from exc
        rig.workers[0].stop()  # final offline flush
    finally:
        rig.stop_all()

    views = build_world(
        tiny.path,
        tiny.manifest.end_ms + 1,
        window_ms=window_ms,
        cap=CAP,
        recent_items="all",
        partitions=rig.partitions,
    )
    for view in VIEWS:
        key, cols = VIEW_KEYS[view], VIEW_COLUMNS[view]
        worker = _collapsed(pd.read_parquet(offline_path(view, cfg.data_dir)), key)
        mine = views.offline(view)
        both = worker.merge(
            mine, on=[key, "ts"], suffixes=("_w", ""), how="outer", indicator=True
        )
        missing = both[both["_merge"] != "both"]
        assert missing.empty, (view, missing[[key, "ts", "_merge"]].head().to_dict())
        for col in cols:
            same = both[f"{col}_w"].map(cell) == both[col].map(cell)
            assert same.all(), (view, col, both.loc[~same, [key, "ts"]].head())
