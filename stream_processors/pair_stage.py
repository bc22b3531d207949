"""Stage 2 as a unit: edges and popularity, their clock, sweeps, new days and restores.

`PairStage` owns the working sets of the `pairs` and `items` tables (an item's
popularity under its id, its item-user entries under "item|user", so both share a
changelog partition), the per-partition clock of `colisten.pairs`, the items each
partition holds (for the new-day expiry) and the rows it stages for `colisten_edges` and
`item_popularity`. The Faust agent feeds it messages and commits; tests drive it with
plain records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from colisten.timeunits import DAY_MS
from feature_repo import colisten_edges, item_popularity
from stream_processors import pair_state as ps
from stream_processors import stage2_records
from stream_processors import user_state as us
from stream_processors.clock import PartitionClock, partition_of
from stream_processors.stage2_records import Stage2Record
from stream_processors.user_stage import RowStager
from stream_processors.working_set import PartitionedTable, WorkingSet


class PairStage:
    """Stage 2: distinct-user edge counts per pair and popularity per item."""

    def __init__(
        self,
        pairs: PartitionedTable,
        items: PartitionedTable,
        sink: RowStager,
        clock: PartitionClock,
        partitions: int,
        window_ms: int = us.WINDOW_MS,
        keep: int = 0,
        keep_bytes: int = 0,
    ) -> None:
        self.sink, self.clock, self.partitions = sink, clock, partitions
        self.window_ms = window_ms
        self.pairs = WorkingSet(pairs, ps.PairState.from_json, keep, keep_bytes)
        """Edges' states; each working set keeps up to `keep` decoded ones (and
        `keep_bytes`, if > 0) between batches."""
        self.items = WorkingSet(items, ps.ItemPopularity.from_json, keep, keep_bytes)
        self.item_users = WorkingSet(items, ps.ItemUser.from_json, keep, keep_bytes)
        self.items_in: dict[int, set[str]] = {}
        """Per partition, the items whose popularity it holds (checked each new day)."""

    def apply_message(self, raw: bytes | None, partition: int, offset: int) -> bool:
        """Apply every record of one `colisten.pairs` message; False if it is malformed."""
        records = stage2_records.decode(raw)
        if records is None:
            return False
        for index, rec in enumerate(records):
            self.apply(rec, partition, ps.record_position(offset, index))
        return True

    def apply(self, rec: Stage2Record, partition: int, position: int) -> None:
        """Apply one record at its position in the partition; idempotent on replay."""
        before = self.clock.now(partition)
        moved = self.clock.advance(partition, rec.ts)
        now = self.clock.now(partition)
        if isinstance(rec, stage2_records.StreamRecord):
            self._apply_stream(rec, partition, position, now)
        else:
            self._apply_colisten(rec, partition, now)
        if moved:
            self.sweep(partition)
            if now // DAY_MS != before // DAY_MS:
                self.new_day(partition, before)

    def _apply_colisten(self, rec: us.CoListen, partition: int, now: int) -> None:
        key, ts = rec.pair_id, rec.ts
        st = self.pairs.get(key, partition)
        replay = ps.holds_colisten(st, rec.user_id, ts)
        if ps.fold_colisten(
            st,
            rec.src_item,
            rec.dst_item,
            rec.relation,
            rec.user_id,
            ts,
            now,
            self.window_ms,
        ):
            self._save_pair(key, st, max(ts, now), partition)
        elif replay:  # after a crash: re-send, it may be on local disk only
            self.pairs.put(key, st, partition)

    def _apply_stream(
        self,
        rec: stage2_records.StreamRecord,
        partition: int,
        position: int,
        now: int,
    ) -> None:
        item_id, iu_key = rec.item_id, f"{rec.item_id}|{rec.user_id}"
        pop = self.items.get(item_id, partition)
        iu = self.item_users.get(iu_key, partition)
        replayed = pop.holds(position)
        if ps.fold_stream(pop, iu, rec.item_type, rec.event_id, rec.ts, now, position):
            self.item_users.put(iu_key, iu, partition)
            if not replayed:
                self.items_in.setdefault(partition, set()).add(item_id)
                self._save_item(item_id, pop, now, partition)
        if replayed:  # after a crash: re-send both, they may be on local disk only
            self.items.put(item_id, pop, partition)
            self.item_users.put(iu_key, iu, partition)

    def sweep(self, partition: int) -> None:
        """Expire the co-listens the partition's watermark has passed."""
        now = self.clock.now(partition)
        for pair_id in self.clock.due(partition):
            st = self.pairs.get(pair_id, partition)
            if ps.expire_pair(st, now, self.window_ms):
                self._save_pair(pair_id, st, now, partition)
            elif (oldest := st.oldest_ms()) is not None:
                self.clock.schedule(partition, pair_id, oldest + self.window_ms)

    def new_day(self, partition: int, before_ms: int) -> None:
        """The watermark entered a new UTC day: re-stage every item whose row changed."""
        now = self.clock.now(partition)
        gone: list[str] = []
        for item_id in self.items_in.get(partition, ()):
            pop = self.items.get(item_id, partition)
            before = ps.popularity_row(pop, before_ms)
            expired = ps.expire_popularity(pop, now)
            if ps.popularity_row(pop, now) != before:
                self._save_item(item_id, pop, now, partition)
            elif expired:
                self.items.put(item_id, pop, partition)
            if not pop.streams and not pop.users:  # all zero from now on: staged
                gone.append(item_id)
        self.items_in.get(partition, set()).difference_update(gone)

    def commit(self) -> int:
        """Write the batch's changes: pairs, then popularity before item-user entries.

        Popularity and item-user entries share a changelog partition, written in that
        order: see pair_state.fold_stream for how a crash between them is repaired.
        """
        written = sum(ws.commit() for ws in (self.pairs, self.items, self.item_users))
        for ws in (self.pairs, self.items, self.item_users):
            ws.reset()
        return written

    def restore_pairs(
        self,
        states: Iterable[tuple[str, Any]],
        partitions: set[int],
        restaged: Callable[[int], None] | None = None,
    ) -> None:
        """Rebuild the clocks and re-stage the edges of the restored pairs of `partitions`."""
        self.pairs.forget()
        for p in partitions:
            self.clock.reset(p)
        for count, (pair_id, raw_state) in enumerate(states, 1):
            p = partition_of(pair_id, self.partitions)
            if p in partitions and raw_state:
                st = ps.PairState.from_json(raw_state)
                self.clock.advance(p, st.last_ms)
                self._save_pair(pair_id, st, st.last_ms, p, restamp=False)
            if restaged is not None:
                restaged(count)

    def restore_items(
        self, states: Iterable[tuple[str, Any]], partitions: set[int]
    ) -> None:
        """Re-stage the popularity of the restored items of `partitions`.

        The rows are staged as of each partition's clock once every item is read, so
        every item of a partition is evaluated at the same watermark.
        """
        restored: list[tuple[int, str, ps.ItemPopularity]] = []
        self.items.forget()
        self.item_users.forget()
        for p in partitions:
            self.items_in[p] = set()
        for item_id, raw_state in states:
            if "|" in item_id:  # an item-user entry, not a popularity
                continue
            p = partition_of(item_id, self.partitions)
            if p in partitions and raw_state:
                pop = ps.ItemPopularity.from_json(raw_state)
                self.clock.advance(p, pop.last_ms)
                self.items_in[p].add(item_id)
                restored.append((p, item_id, pop))
        for p, item_id, pop in restored:
            self._save_item(item_id, pop, self.clock.now(p), p, restamp=False)

    def _save_pair(
        self,
        pair_id: str,
        st: ps.PairState,
        at_ms: int,
        part: int,
        restamp: bool = True,
    ) -> None:
        """Stamp and keep the pair's state, stage its edge, schedule its next expiry."""
        if restamp:
            st.stamp_us = us.next_stamp(st.stamp_us, at_ms)
            self.pairs.put(pair_id, st, part)
        self.sink.stage(colisten_edges.VIEW, pair_id, ps.edge_row(st), st.stamp_us)
        oldest = st.oldest_ms()
        if oldest is not None:
            self.clock.schedule(part, pair_id, oldest + self.window_ms)

    def _save_item(
        self,
        item_id: str,
        pop: ps.ItemPopularity,
        now_ms: int,
        part: int,
        restamp: bool = True,
    ) -> None:
        """Stamp and keep the item's popularity, stage its row as of now_ms."""
        if restamp:
            pop.stamp_us = us.next_stamp(pop.stamp_us, now_ms)
            self.items.put(item_id, pop, part)
        self.sink.stage(
            item_popularity.VIEW,
            item_id,
            ps.popularity_row(pop, now_ms),
            pop.stamp_us,
        )
