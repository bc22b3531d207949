"""Through Feast: online rows, point-in-time reads and the trainers' loaders on tiny."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from colisten import names
from colisten.timeunits import DAY_MS as DAY
from feature_repo.config import FeatureStoreConfig
from feature_repo.sources import offline_path
from feature_repo.store import open_store
from stream_processors.clock import partition_of
from stream_processors.reference import (
    colisten_edges_reference,
    colisten_records_reference,
    expected_views,
    item_popularity_reference,
    user_recent_items_reference,
    user_weak_signals_reference,
)
from stream_processors.verify import diff_view
from tests.trainers.conftest import TinyWorld
from tests.trainers.materialize.frames import VIEWS, plain
from trainers.materialize.plan import VIEW_COLUMNS
from trainers.materialize.run import MaterializeStats, materialize
from trainers.two_tower.data import historical_user_rows, labels_from_events

PARTS = 4
READS = 200


@dataclass
class Store:
    """A store materialized from the tiny world."""

    cfg: FeatureStoreConfig
    stats: MaterializeStats
    cutoff_ms: int


def _store(tiny: TinyWorld, root: Path, cutoff_ms: int, recent_items: str) -> Store:
    cfg = FeatureStoreConfig(online="sqlite", data_dir=root / "feast")
    stats = materialize(
        tiny.path, cfg, cutoff_ms, recent_items=recent_items, progress=False
    )
    return Store(cfg, stats, cutoff_ms)


@pytest.fixture(scope="module")
def at_split(tiny: TinyWorld, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Materialized up to the split, offline recent items at label reads."""
    return _store(
        tiny, tmp_path_factory.mktemp("m-split"), tiny.manifest.split_ms, "labels"
    )


@pytest.fixture(scope="module")
def at_end(tiny: TinyWorld, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Materialized from the whole log (sweeps in the last 14 days), every version."""
    return _store(
        tiny, tmp_path_factory.mktemp("m-end"), tiny.manifest.end_ms + 1, "all"
    )


class Watermarks:
    """Each partition's watermark at any time: the newest event time applied there."""

    def __init__(self, keys: pd.Series, times: pd.Series) -> None:
        parts = keys.map({k: partition_of(str(k), PARTS) for k in set(keys)})
        self.times = {
            int(p): np.sort(times[parts == p].to_numpy()) for p in range(PARTS)
        }

    def at(self, key: str, t: int) -> int:
        """The watermark of key's partition once every event <= t was applied."""
        times = self.times[partition_of(key, PARTS)]
        pos = np.searchsorted(times, t, side="right")
        return int(times[pos - 1]) if pos else -1


@dataclass
class Log:
    """The tiny log before a cut-off, its co-listen records and both stages' clocks."""

    events: pd.DataFrame
    records: pd.DataFrame
    stage1: Watermarks
    stage2: Watermarks

    @classmethod
    def of(cls, tiny: TinyWorld, cutoff_ms: int) -> Log:
        ev = tiny.events[tiny.events[names.TS] < cutoff_ms]
        rec = colisten_records_reference(ev)
        rec = rec.assign(**{names.PAIR_ID: rec["src_item"] + "|" + rec["dst_item"]})
        streams = ev[ev[names.EVENT_TYPE] == names.STREAM]
        keys = pd.concat(
            [rec[names.PAIR_ID], streams[names.ITEM_ID]], ignore_index=True
        )
        times = pd.concat([rec[names.TS], streams[names.TS]], ignore_index=True)
        return cls(
            ev,
            rec,
            Watermarks(ev[names.USER_ID], ev[names.TS]),
            Watermarks(keys, times),
        )

    def user(self, user: str, t: int) -> dict[str, Any]:
        """user_weak_signals and user_recent_items as the stream served them at t."""
        mine = self.events[
            (self.events[names.USER_ID] == user) & (self.events[names.TS] <= t)
        ]
        now = {user: self.stage1.at(user, t)}
        weak = user_weak_signals_reference(mine, now).loc[user]
        recent = user_recent_items_reference(mine, now)[user]
        row = {f"user_weak_signals__{c}": plain(weak[c]) for c in weak.index}
        row |= {f"user_recent_items__{c}": v for c, v in recent.items()}
        return row

    def edge(self, pair: str, t: int) -> dict[str, Any] | None:
        """colisten_edges at t (None: no co-listen in the window)."""
        rec = self.records[
            (self.records[names.PAIR_ID] == pair) & (self.records[names.TS] <= t)
        ]
        got = colisten_edges_reference(rec, {pair: self.stage2.at(pair, t)})
        return {c: plain(v) for c, v in got.iloc[0].items()} if len(got) else None

    def item(self, item: str, t: int) -> dict[str, Any]:
        """item_popularity at t."""
        ev = self.events[
            (self.events[names.ITEM_ID] == item) & (self.events[names.TS] <= t)
        ]
        got = item_popularity_reference(ev, {item: self.stage2.at(item, t)})
        return {c: plain(v) for c, v in got.loc[item].items()}


def _historical(
    store: Store, view: str, key: str, keys: list[str], times: list[int]
) -> list[dict[str, Any]]:
    entity = pd.DataFrame(
        {
            key: keys,
            names.EVENT_TIMESTAMP: pd.to_datetime(
                np.asarray(times), unit="ms", utc=True
            ),
            "_row": np.arange(len(keys)),
        }
    )
    frame = (
        open_store(store.cfg)
        .get_historical_features(
            entity_df=entity, features=[f"{view}:{c}" for c in VIEW_COLUMNS[view]]
        )
        .to_df()
        .sort_values("_row")
    )
    frame = frame.astype(object).where(frame.notna(), None)
    return [
        {c: plain(r[c]) for c in VIEW_COLUMNS[view]} for r in frame.to_dict("records")
    ]


def _samples(
    keys_before: Callable[[int], np.ndarray], start: int, end: int, seed: int
) -> list[tuple[str, int]]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < READS:
        t = int(rng.integers(start, end))
        keys = keys_before(t)
        if len(keys):
            out.append((str(rng.choice(keys)), t))
    return out


def _empty_user(row: dict[str, Any]) -> bool:
    return row.get("user_weak_signals__last_event_ms") is None


def _user_matches(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if _empty_user(got):  # older than the view's TTL: the state is empty
        return all(
            v in (0, []) for k, v in want.items() if not k.endswith("last_event_ms")
        )
    return all(plain(got[k]) == v for k, v in want.items())


def test_online_rows_equal_the_reference(tiny: TinyWorld, at_split: Store) -> None:
    expected = expected_views(
        tiny.events[tiny.events["ts"] < at_split.cutoff_ms], PARTS
    )
    store = open_store(at_split.cfg)
    pairs = sorted(
        set(
            pd.read_parquet(offline_path("colisten_edges", at_split.cfg.data_dir))[
                "pair_id"
            ]
        )
    )
    for view, want in expected.items():
        extra = pairs if view == "colisten_edges" else None
        assert diff_view(store, view, want, extra_keys=extra, limit=5) == [], view
    assert at_split.stats.rows_online["user_weak_signals"] == len(
        expected["user_weak_signals"]
    )


def test_point_in_time_reads_equal_the_stream(tiny: TinyWorld, at_end: Store) -> None:
    """200 random (key, time) reads per view equal the reference as the stream served it."""
    log = Log.of(tiny, at_end.cutoff_ms)
    start = tiny.manifest.start_ms
    ev, rec = log.events, log.records

    def users_before(t: int) -> np.ndarray:
        return ev.loc[ev[names.TS] <= t, names.USER_ID].unique()

    picks = _samples(users_before, start, at_end.cutoff_ms, 1)
    rows = historical_user_rows(
        open_store(at_end.cfg), [u for u, _ in picks], [t for _, t in picks]
    )
    bad = [
        (u, t)
        for (u, t), got in zip(picks, rows, strict=True)
        if not _user_matches(got, log.user(u, t))
    ]
    assert bad == [], bad[:3]

    def pairs_before(t: int) -> np.ndarray:
        return rec.loc[rec[names.TS] <= t, names.PAIR_ID].unique()

    picks = _samples(pairs_before, start, at_end.cutoff_ms, 2)
    got = _historical(
        at_end,
        "colisten_edges",
        names.PAIR_ID,
        [p for p, _ in picks],
        [t for _, t in picks],
    )
    for (pair, t), row in zip(picks, got, strict=True):
        want = log.edge(pair, t)
        if want is None:  # every co-listen expired: a row with n_users 0, or none
            assert row["n_users"] in (0, None), (pair, t, row)
        else:
            assert row == want, (pair, t, row, want)

    streams = ev[ev[names.EVENT_TYPE] == names.STREAM]

    def items_before(t: int) -> np.ndarray:
        return streams.loc[streams[names.TS] <= t, names.ITEM_ID].unique()

    picks = _samples(items_before, start, at_end.cutoff_ms, 3)
    got = _historical(
        at_end,
        "item_popularity",
        names.ITEM_ID,
        [i for i, _ in picks],
        [t for _, t in picks],
    )
    for (item, t), row in zip(picks, got, strict=True):
        want = log.item(item, t)
        if row["item_type"] is None:  # older than the TTL: nothing in the windows
            assert all(v == 0 for k, v in want.items() if k != "item_type"), (item, t)
        else:
            assert row == want, (item, t, row, want)


def test_label_reads_are_exact(tiny: TinyWorld, at_split: Store) -> None:
    """With label-read versions, every two-tower read (and the cut-off) is exact."""
    log = Log.of(tiny, at_split.cutoff_ms)
    labels = pd.concat(
        [
            labels_from_events(tiny.events, at_split.cutoff_ms, t)
            for t in names.ITEM_TYPES
        ]
    ).sample(READS, random_state=4)
    users = labels[names.USER_ID].tolist()
    times = (labels[names.TS] - 1).tolist()
    users += sorted(log.events[names.USER_ID].unique())[:50]
    times += [at_split.cutoff_ms] * 50
    rows = historical_user_rows(open_store(at_split.cfg), users, times)
    has_rows = log.events.groupby(names.USER_ID)[names.TS].min()
    bad = []
    for u, t, got in zip(users, times, rows, strict=True):
        if has_rows[u] > t:  # no event before: no row
            assert _empty_user(got)
        elif not _user_matches(got, log.user(u, t)):
            bad.append((u, t))
    assert bad == [], bad[:3]
    assert (
        at_split.stats.rows_offline["user_recent_items"]
        < at_split.stats.rows_offline["user_weak_signals"]
    )


def test_trainer_loaders_read_the_materialized_store(
    tiny: TinyWorld, at_split: Store
) -> None:
    from trainers.content import write_item_content
    from trainers.store_loader import load_graph_inputs

    write_item_content(tiny.content, at_split.cfg)
    graph = load_graph_inputs(open_store(at_split.cfg), at_split.cutoff_ms)
    want = expected_views(tiny.events[tiny.events["ts"] < at_split.cutoff_ms], PARTS)[
        "colisten_edges"
    ]
    got = graph.edges.set_index(names.PAIR_ID).sort_index()
    got = got[got["n_users"] > 0]
    assert list(got.index) == sorted(want.index)
    assert (got["n_users"].to_numpy() == want.sort_index()["n_users"].to_numpy()).all()
    for view in VIEWS:
        table = ds.dataset(offline_path(view, at_split.cfg.data_dir)).to_table()
        stamps = table[names.EVENT_TIMESTAMP].to_pandas()
        assert table.num_rows and stamps.max() < pd.Timestamp(
            at_split.cutoff_ms, unit="ms", tz="UTC"
        )


def test_rerun_replaces_its_rows(tiny: TinyWorld, at_split: Store) -> None:
    again = materialize(tiny.path, at_split.cfg, at_split.cutoff_ms, progress=False)
    assert again.rows_offline == at_split.stats.rows_offline
    for view in VIEWS:
        rows = ds.dataset(offline_path(view, at_split.cfg.data_dir)).count_rows()
        assert rows == at_split.stats.rows_offline[view], view
    assert again.events == at_split.stats.events and DAY
