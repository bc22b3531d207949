"""Batch twin of the stream worker: the same pure folds over a world's log, no Kafka.

Replays events with ts < cutoff in (ts, event_id) order through stage 1 (routed by
``partition_of(user_id, n)``, offsets counted per partition as Kafka would) and stage 2
(co-listens routed by pair, streams by item), stamping rows with ``next_stamp`` and
sweeping expiries as per-partition watermarks move, exactly as ``stream_processors.app``
does. Every row version goes offline (parquet parts, deduplicated by (key, stamp) like
the sink); the final row per key goes online. ``user_profile`` rows come from
users.parquet, stamped at the world's start.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm import tqdm

from colisten import names
from colisten.world import format as fmt
from stream_processors import pair_state as ps
from stream_processors import user_state as us
from stream_processors.clock import PartitionClock, partition_of
from trainers.materialize.profile import profile_rows

_EPOCH = datetime(1970, 1, 1)

if TYPE_CHECKING:
    from feature_repo.config import FeatureStoreConfig

UWS, URI, EDGES, POP = (
    "user_weak_signals",
    "user_recent_items",
    "colisten_edges",
    "item_popularity",
)
KEYS = {
    UWS: names.USER_ID,
    URI: names.USER_ID,
    EDGES: names.PAIR_ID,
    POP: names.ITEM_ID,
}


@dataclass(frozen=True, slots=True)
class Event:
    """The fields of an interaction event the folds read (duck-types InteractionEvent)."""

    event_id: str
    user_id: str
    item_id: str
    item_type: str
    event_type: str
    ts: int


@dataclass
class RowBuffer:
    """Staged rows: latest per key (online) and every (key, stamp) version (offline)."""

    online: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    offline: dict[str, dict[tuple[str, int], dict[str, Any]]] = field(
        default_factory=dict
    )
    versions: int = 0

    def stage(self, view: str, key: str, values: dict[str, Any], stamp_us: int) -> None:
        """Queue one row version of a key, as FeatureSink.stage does."""
        row = {KEYS[view]: key, **values, "_stamp": stamp_us}
        self.online.setdefault(view, {})[key] = row
        off = self.offline.setdefault(view, {})
        if (key, stamp_us) not in off:
            self.versions += 1
        off[(key, stamp_us)] = row


@dataclass
class BackfillStats:
    """What a backfill wrote and how long it took."""

    events: int = 0
    rows_offline: dict[str, int] = field(default_factory=dict)
    rows_online: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Twin:
    """Stage 1 and stage 2 of the worker, in process, with the same stamps and sweeps."""

    def __init__(
        self, partitions: int = 4, window_ms: int = us.WINDOW_MS, cap: int = 50
    ):
        self.n, self.window, self.cap = partitions, window_ms, cap
        self.users: dict[str, us.UserState] = {}
        self.pairs: dict[str, ps.PairState] = {}
        self.items: dict[str, ps.ItemPopularity] = {}
        self.item_users: dict[str, ps.ItemUser] = {}
        self.items_in: dict[int, set[str]] = {}
        self.clock1, self.clock2 = PartitionClock(), PartitionClock()
        self.offsets = [0] * partitions
        self.buf = RowBuffer()

    # -- writes (app.save_*) ---------------------------------------------------------
    def save_user(self, user_id: str, st: us.UserState, at_ms: int) -> None:
        """Stamp and stage a user's two rows; the worker's table JSON drops stamp_us."""
        st.stamp_us = us.next_stamp(0, at_ms)  # UserState.to_json has no stamp
        self.buf.stage(UWS, user_id, us.weak_signal_row(st), st.stamp_us)
        self.buf.stage(URI, user_id, us.recent_items_row(st, self.cap), st.stamp_us)
        if (oldest := st.oldest_ms()) is not None:
            self.clock1.schedule(
                partition_of(user_id, self.n), user_id, oldest + self.window
            )

    def save_pair(self, pair_id: str, st: ps.PairState, at_ms: int) -> None:
        """Stamp and stage an edge row; schedule its next expiry."""
        st.stamp_us = us.next_stamp(st.stamp_us, at_ms)
        self.buf.stage(EDGES, pair_id, ps.edge_row(st), st.stamp_us)
        if (oldest := st.oldest_ms()) is not None:
            self.clock2.schedule(
                partition_of(pair_id, self.n), pair_id, oldest + self.window
            )

    def save_item(self, item_id: str, pop: ps.ItemPopularity, now_ms: int) -> None:
        """Stamp and stage an item_popularity row as of the watermark."""
        pop.stamp_us = us.next_stamp(pop.stamp_us, now_ms)
        self.buf.stage(POP, item_id, ps.popularity_row(pop, now_ms), pop.stamp_us)

    # -- stage 1 -----------------------------------------------------------------------
    def stage1(self, ev: Event) -> None:
        """One interaction: fold, write, emit to stage 2, advance the clock, sweep."""
        part = partition_of(ev.user_id, self.n)
        offset = self.offsets[part]
        self.offsets[part] += 1
        st = self.users.setdefault(ev.user_id, us.UserState())
        changed, colistens = us.fold(
            st, ev, offset=offset, partition=part, window_ms=self.window, cap=self.cap
        )  # type: ignore[arg-type]
        if changed:
            self.save_user(ev.user_id, st, st.last_event_ms)
            for c in colistens:
                self.colisten(c.src_item, c.dst_item, c.relation, c.user_id, c.ts)
            if ev.event_type == names.STREAM:
                self.stream(ev)
        if self.clock1.advance(part, ev.ts):
            now = self.clock1.now(part)
            for user_id in self.clock1.due(part):
                ust = self.users[user_id]
                if us.expire(ust, now, self.window):
                    self.save_user(user_id, ust, now)
                elif (oldest := ust.oldest_ms()) is not None:
                    self.clock1.schedule(part, user_id, oldest + self.window)

    # -- stage 2 -----------------------------------------------------------------------
    def _tick(self, part: int, ts: int) -> tuple[int, bool, int]:
        before = self.clock2.now(part)
        moved = self.clock2.advance(part, ts)
        return before, moved, self.clock2.now(part)

    def colisten(self, src: str, dst: str, rel: str, user: str, ts: int) -> None:
        """A co-listen record on colisten.pairs (keyed by pair)."""
        key = f"{src}|{dst}"
        part = partition_of(key, self.n)
        before, moved, now = self._tick(part, ts)
        st = self.pairs.setdefault(key, ps.PairState())
        if ps.fold_colisten(st, src, dst, rel, user, ts, now, self.window):
            self.save_pair(key, st, max(ts, now))
        self._after(part, moved, before, now)

    def stream(self, ev: Event) -> None:
        """A stream record on colisten.pairs (keyed by item)."""
        part = partition_of(ev.item_id, self.n)
        before, moved, now = self._tick(part, ev.ts)
        iu_key = f"{ev.item_id}|{ev.user_id}"
        pop = self.items.setdefault(ev.item_id, ps.ItemPopularity())
        old = self.item_users.get(iu_key, ps.ItemUser())
        iu = ps.ItemUser(old.last_day, list(old.ids))  # kept only when changed
        if ps.fold_stream(pop, iu, ev.item_type, ev.event_id, ev.ts, now):
            self.item_users[iu_key] = iu
            self.items_in.setdefault(part, set()).add(ev.item_id)
            self.save_item(ev.item_id, pop, now)
        self._after(part, moved, before, now)

    def _after(self, part: int, moved: bool, before: int, now: int) -> None:
        if not moved:
            return
        for pair_id in self.clock2.due(part):
            st = self.pairs[pair_id]
            if ps.expire_pair(st, now, self.window):
                self.save_pair(pair_id, st, now)
            elif (oldest := st.oldest_ms()) is not None:
                self.clock2.schedule(part, pair_id, oldest + self.window)
        if now // us.DAY_MS != before // us.DAY_MS:
            for item_id in sorted(self.items_in.get(part, ())):
                pop = self.items[item_id]
                was = ps.popularity_row(pop, before)
                ps.expire_popularity(pop, now)
                if ps.popularity_row(pop, now) != was:
                    self.save_item(item_id, pop, now)


def iter_events(events: pd.DataFrame) -> Iterator[Event]:
    """Events as light records, in the frame's order."""
    cols = [names.EVENT_ID, names.USER_ID, names.ITEM_ID, names.ITEM_TYPE]
    cols += [names.EVENT_TYPE, names.TS]
    for row in zip(*(events[c].to_numpy() for c in cols), strict=True):
        yield Event(
            str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), int(row[5])
        )


def _stamped(row: dict[str, Any]) -> dict[str, Any]:
    """A buffered row with its `_stamp` (UTC µs) as the naive-UTC event timestamp."""
    out = {k: v for k, v in row.items() if k != "_stamp"}
    out[names.EVENT_TIMESTAMP] = _EPOCH + timedelta(microseconds=int(row["_stamp"]))
    return out


def _frame(view: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame[names.EVENT_TIMESTAMP] = pd.to_datetime(
        frame.pop("_stamp"), unit="us", utc=True
    )
    return frame


def _flush_offline(
    twin: Twin, data_dir: Path, part_no: int, stats: BackfillStats
) -> None:
    from feature_repo.definitions import OFFLINE_SCHEMAS
    from feature_repo.offline import write_offline_part

    for view, rows in twin.buf.offline.items():
        if rows:
            frame = _frame(view, list(rows.values()))
            write_offline_part(
                view, frame, OFFLINE_SCHEMAS[view], f"backfill-{part_no:05d}", data_dir
            )
            stats.rows_offline[view] = stats.rows_offline.get(view, 0) + len(rows)
    twin.buf.offline, twin.buf.versions = {}, 0


def backfill(
    world_dir: Path,
    store_cfg: FeatureStoreConfig,
    cutoff_ms: int,
    partitions: int = 4,
    cap: int = 50,
    window_ms: int = us.WINDOW_MS,
    flush_versions: int = 400_000,
    progress: bool = True,
) -> BackfillStats:
    """Fill the four stream views and user_profile from events with ts < cutoff_ms."""
    from feature_repo.batch_views import ARROW_SCHEMAS, USER_PROFILE
    from feature_repo.definitions import PUSH_FED_LAYOUTS
    from feature_repo.offline import write_offline_part
    from feature_repo.online_write import OnlineWriter
    from feature_repo.store import apply_definitions, open_store

    t0 = time.perf_counter()
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    manifest = fmt.WorldManifest.read(world_dir)
    profiles = profile_rows(fmt.read_users(world_dir), manifest.start_ms)
    write_offline_part(
        USER_PROFILE, profiles, ARROW_SCHEMAS[USER_PROFILE], "users", store_cfg.data_dir
    )
    store.write_to_online_store(USER_PROFILE, profiles)

    events = fmt.read_events(world_dir, until_ms=cutoff_ms)
    assert events.empty or int(events[names.TS].max()) < cutoff_ms
    twin, stats = Twin(partitions, window_ms, cap), BackfillStats(events=len(events))
    part_no, last_ts = 0, None
    for ev in tqdm(
        iter_events(events), total=len(events), desc="backfill", disable=not progress
    ):
        # flush only between milliseconds: every (key, stamp) lands in exactly one part
        if twin.buf.versions >= flush_versions and ev.ts != last_ts:
            _flush_offline(twin, store_cfg.data_dir, part_no, stats)
            part_no += 1
        twin.stage1(ev)
        last_ts = ev.ts
    _flush_offline(twin, store_cfg.data_dir, part_no, stats)
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    for view, rows in twin.buf.online.items():
        latest = list(rows.values())
        for start in tqdm(
            range(0, len(latest), 50_000),
            desc=f"online {view}",
            unit="50k rows",
            disable=not progress,
        ):
            writer.write({view: [_stamped(r) for r in latest[start : start + 50_000]]})
        stats.rows_online[view] = len(latest)
    stats.seconds = time.perf_counter() - t0
    return stats
