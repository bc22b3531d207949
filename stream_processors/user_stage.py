"""Stage 1 as a unit: users' states, their clock and sweeps, rows and stage-2 records.

`UserStage` owns what the worker's first agent used to close over: the working set of
the `users` table, the per-partition event-time clock with its expiry schedule, the rows
it stages for `user_weak_signals` and `user_recent_items`, and the restore after a
rebalance. The Faust agent only feeds it batches and ships what it returns; tests drive
it with plain events (no broker).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from colisten import names
from colisten.events import validate_event
from feature_repo import user_recent_items, user_weak_signals
from stream_processors import user_state as us
from stream_processors.clock import PartitionClock, partition_of
from stream_processors.stage2_records import Stage2Record, StreamRecord, routing_key
from stream_processors.working_set import PartitionedTable, WorkingSet


class RowStager(Protocol):
    """Where a stage puts feature rows (stream_processors.sink.FeatureSink)."""

    def stage(
        self, view: str, key: str, values: Mapping[str, Any], stamp_us: int
    ) -> None:
        """Queue the absolute values of one key, stamped stamp_us."""
        ...


Reasons = list[dict[str, Any]]
"""Why an event was rejected (validate_event's reasons, as dicts)."""
Routed = dict[int, list[Stage2Record]]
"""Stage-2 records by the `colisten.pairs` partition they must reach."""


class UserStage:
    """Stage 1: validate, fold into the user, stage rows, route stage-2 records."""

    def __init__(
        self,
        table: PartitionedTable,
        sink: RowStager,
        clock: PartitionClock,
        partitions: int,
        window_ms: int = us.WINDOW_MS,
        cap: int = 50,
        keep: int = 0,
        keep_bytes: int = 0,
    ) -> None:
        self.sink, self.clock, self.partitions = sink, clock, partitions
        self.window_ms, self.cap = window_ms, cap
        self.users = WorkingSet(table, us.UserState.from_json, keep, keep_bytes)
        """Users' states; up to `keep` decoded ones (and `keep_bytes`, if > 0) kept
        between batches."""

    def fold(
        self, raw: bytes | None, partition: int, offset: int, out: Routed
    ) -> Reasons | None:
        """Fold one message of `interactions`; its stage-2 records go to `out`.

        Returns the reasons when the event is invalid (nothing else happens), else None.
        A message at or below the user's applied offset is a replay after a crash: the
        state is re-sent (it may have reached only the local store) and counts nothing.
        """
        checked = validate_event(raw)
        if checked.event is None:
            return [r.as_dict() for r in checked.reasons]
        ev = checked.event
        st = self.users.get(ev.user_id, partition)
        replay = us.is_replay(st, offset)
        changed, colistens = us.fold(
            st,
            ev,
            offset=offset,
            partition=partition,
            window_ms=self.window_ms,
            cap=self.cap,
        )
        if replay:
            self.users.put(ev.user_id, st, partition)
        if changed:
            self._save(ev.user_id, st, st.last_event_ms, partition)
            records: list[Stage2Record] = list(colistens)
            if ev.event_type == names.STREAM:
                records.append(
                    StreamRecord(
                        ev.item_id, ev.item_type, ev.user_id, ev.event_id, ev.ts
                    )
                )
            for rec in records:
                target = partition_of(routing_key(rec), self.partitions)
                out.setdefault(target, []).append(rec)
        if self.clock.advance(partition, ev.ts):
            self.sweep(partition)
        return None

    def sweep(self, partition: int) -> None:
        """Expire what the partition's watermark has passed; stage the changed users."""
        now = self.clock.now(partition)
        for user_id in self.clock.due(partition):
            st = self.users.get(user_id, partition)
            if us.expire(st, now, self.window_ms):
                self._save(user_id, st, now, partition)
            elif (oldest := st.oldest_ms()) is not None:
                self.clock.schedule(partition, user_id, oldest + self.window_ms)

    def commit(self) -> int:
        """Write the batch's changed users to the table (after their records are sent)."""
        written = self.users.commit()
        self.users.reset()
        return written

    def restore(
        self,
        states: Iterable[tuple[str, Any]],
        partitions: set[int],
        restaged: Callable[[int], None] | None = None,
    ) -> None:
        """Rebuild the clocks and re-stage the rows of the restored users of `partitions`.

        `states` are the table's (user_id, stored state) items; `restaged(count)` is
        called after each item (the worker flushes every so many).
        """
        self.users.forget()
        for p in partitions:
            self.clock.reset(p)
        for count, (user_id, raw_state) in enumerate(states, 1):
            p = partition_of(user_id, self.partitions)
            if p in partitions and raw_state:
                st = us.UserState.from_json(raw_state)
                self.clock.advance(p, st.last_event_ms)
                self._save(user_id, st, st.last_event_ms, p, restamp=False)
            if restaged is not None:
                restaged(count)

    def _save(
        self,
        user_id: str,
        st: us.UserState,
        at_ms: int,
        part: int,
        restamp: bool = True,
    ) -> None:
        """Stamp and keep the user's state, stage its rows, schedule its next expiry.

        `part` is the user's partition: the one its events arrive on (producers key them
        by user_id, so it is `partition_of(user_id)`).
        """
        if restamp:
            st.stamp_us = us.next_stamp(st.stamp_us, at_ms)
            self.users.put(user_id, st, part)
        self.sink.stage(
            user_weak_signals.VIEW, user_id, us.weak_signal_row(st), st.stamp_us
        )
        self.sink.stage(
            user_recent_items.VIEW,
            user_id,
            us.recent_items_row(st, self.cap),
            st.stamp_us,
        )
        oldest = st.oldest_ms()
        if oldest is not None:
            self.clock.schedule(part, user_id, oldest + self.window_ms)
