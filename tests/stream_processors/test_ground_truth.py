"""Replay the tiny world through a real worker: every online feature equals pandas, exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from colisten.world.format import WorldManifest, read_events
from colisten.world.generator import generate_world
from colisten.world.replay import replay
from feature_repo.config import FeatureStoreConfig
from feature_repo.sources import offline_path
from infra.processes import wait_for
from stream_processors.clock import partition_of
from stream_processors.reference import (
    expected_views,
    partition_watermarks,
    user_weak_signals_reference,
)
from stream_processors.verify import diff_view, diff_views
from tests.stream_processors.harness import WorkerRig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "tiny"
    generate_world("tiny", 11, out, progress=False)
    return out


def _offline_keys(store_cfg: FeatureStoreConfig, view: str, key: str) -> list[str]:
    frame = pd.read_parquet(offline_path(view, store_cfg.data_dir), columns=[key])
    return sorted(set(frame[key]))


def _converged(
    rig: WorkerRig, expected: dict[str, object], last: list[str]
) -> Callable[[], bool]:
    def check() -> bool:
        rig.assert_alive()
        store = rig.store()
        last[:] = diff_views(store, expected)
        return not last

    return check


@pytest.mark.parametrize(
    ("online", "table_store"),
    [("sqlite", "memory://"), ("redis", "memory://"), ("sqlite", "rocksdb://")],
)
def test_replayed_world_matches_pandas(
    online: str,
    table_store: str,
    tiny_world: Path,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    if online == "redis":
        cfg = FeatureStoreConfig(
            online="redis",
            data_dir=tmp_path / "feast",
            redis_connection=request.getfixturevalue("redis_url"),
        )
    else:
        cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    rig = WorkerRig.create(make_topic, cfg, tmp_path, table_store=table_store)
    manifest = WorldManifest.read(tiny_world)
    replay(tiny_world, kafka_bootstrap, topic=rig.interactions, progress=False)
    expected = expected_views(read_events(tiny_world), rig.partitions)
    rig.start()
    try:
        last: list[str] = []
        try:
            wait_for(
                _converged(rig, expected, last),
                timeout_s=240,
                interval_s=2,
                what="online store equal to the pandas reference",
                context=rig.tails,
            )
        except TimeoutError as exc:
            raise AssertionError("\n".join([str(exc), *last])) from exc
        rig.workers[0].stop()  # final offline flush, then check every key ever written
        store = rig.store()
        pairs = _offline_keys(cfg, "colisten_edges", "pair_id")
        for view, want in expected.items():
            extra = pairs if view == "colisten_edges" else None
            assert diff_view(store, view, want, extra_keys=extra, limit=10) == []
        assert manifest.counts["events"] == len(read_events(tiny_world))
        if online == "sqlite":
            _check_point_in_time(
                store, read_events(tiny_world), manifest, rig.partitions
            )
    finally:
        rig.stop_all()


def _check_point_in_time(
    store,
    events: pd.DataFrame,
    manifest: WorldManifest,  # noqa: ANN001
    partitions: int,
) -> None:
    """get_historical_features as of T equals pandas as of each partition's clock at T."""
    span = manifest.end_ms - manifest.start_ms
    for frac in (0.3, 0.6, 0.95):
        t_ms = manifest.start_ms + int(span * frac)
        before = events[events["ts"] <= t_ms]
        wm = partition_watermarks(before["user_id"], before["ts"], partitions)
        users = sorted(before["user_id"].unique())
        as_of = {u: wm[partition_of(u, partitions)] for u in users}
        want = user_weak_signals_reference(before, as_of)
        # 999 µs past the millisecond: rows of a key stamped within T's millisecond count
        at = pd.Timestamp(t_ms * 1000 + 999, unit="us", tz="UTC")
        entity = pd.DataFrame({"user_id": users, "event_timestamp": at})
        cols = [c for c in want.columns]
        got = (
            store.get_historical_features(
                entity_df=entity, features=[f"user_weak_signals:{c}" for c in cols]
            )
            .to_df()
            .set_index("user_id")[cols]
        )
        assert got.notna().all().all(), f"missing rows at {frac}"
        assert got.astype("int64").sort_index().equals(want.sort_index()), f"at {frac}"
