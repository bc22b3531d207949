"""The Faust app: stage 1 keyed by user, stage 2 keyed by pair/item, both feeding the sink.

Stage 1 (`interactions`, keyed by user_id) validates each event (bad ones go to the DLQ
with every reason), folds it into the user's changelogged state, writes the user's
`user_weak_signals` and `user_recent_items` rows, and emits to `colisten.pairs` a co-listen
record per new pair (keyed by pair) and a stream record per stream (keyed by item).
Stage 2 (`colisten.pairs`) keeps distinct-user edge counts and item popularity.
Windows run on per-partition event-time watermarks; keys whose contents expire are swept
as the watermark passes them. All state is in Faust tables; the fold functions are pure.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import faust
from faust.types import TP
from mode.supervisors import CrashingSupervisor

from colisten import names
from colisten.events import validate_event
from feature_repo import (
    colisten_edges,
    item_popularity,
    user_recent_items,
    user_weak_signals,
)
from feature_repo.config import FeatureStoreConfig
from feature_repo.definitions import PUSH_FED, PUSH_FED_LAYOUTS
from feature_repo.online_write import OnlineWriter
from feature_repo.store import apply_definitions, open_store
from stream_processors import pair_state as ps
from stream_processors import rocks_store
from stream_processors import user_state as us
from stream_processors.ack_gate import AckGate
from stream_processors.clock import PartitionClock, partition_of
from stream_processors.config import StreamConfig
from stream_processors.diagnostics import install_dump_on_signal
from stream_processors.disk_clock import DiskPartitionClock
from stream_processors.fetch_guard import FetchGuard
from stream_processors.flow_resume import keep_queues_on_repeated_resume
from stream_processors.producer_buffer import use_draining_buffer
from stream_processors.sink import FeatureSink
from stream_processors.working_set import WorkingSet, chunked, put_with_partition
from stream_processors.writer_process import WriterProcess

log = logging.getLogger(__name__)
DAY_MS = us.DAY_MS
RESTORE_CHUNK = 20_000
"""After a recovery, restored keys are re-pushed to the store this many at a time."""


class RestoringTable(faust.Table):  # type: ignore[misc]
    """A Table that calls `on_restored(table, partitions)` once recovery completes."""

    on_restored: Any = None

    async def on_recovery_completed(
        self, active_tps: set[TP], standby_tps: set[TP]
    ) -> None:
        """After Faust restored the changelog, let the app rebuild derived in-memory state."""
        await super().on_recovery_completed(active_tps, standby_tps)
        if self.on_restored is not None:
            self.on_restored(self, {tp.partition for tp in active_tps})

    def put(self, key: str, value: Any, partition: int) -> None:
        """Set key with its changelog record on `partition` (batches have no one event)."""
        put_with_partition(self, key, value, partition)


def dlq_record(raw: bytes | None, reasons: list[dict[str, Any]], source: str) -> bytes:
    """The dead-letter record: every reason, the source position and the raw payload."""
    payload = (raw or b"").decode("utf-8", errors="replace")
    return json.dumps(
        {"reasons": reasons, "source": source, "payload": payload}
    ).encode()


def make_sink(
    store_cfg: FeatureStoreConfig, writer_process: bool = True
) -> FeatureSink:
    """The sink for the four push-fed views, on a store with the definitions applied.

    With writer_process, online writes run in a child process (`WriterProcess`).
    """
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    writer: OnlineWriter | WriterProcess = (
        WriterProcess(store_cfg)
        if writer_process
        else OnlineWriter(store, PUSH_FED_LAYOUTS)
    )
    return FeatureSink(
        writer,
        store_cfg.data_dir,
        schemas={m.VIEW: m.ARROW_SCHEMA for m in PUSH_FED},
        join_keys={lay.view: lay.join_key for lay in PUSH_FED_LAYOUTS},
    )


BAD_INTERNAL_RECORD = {
    "code": "bad_internal_record",
    "field": None,
    "message": "not a list of stage-2 records",
}
_STAGE2_KEYS = {"c": {"s", "d", "r", "u", "ts"}, "s": {"i", "t", "u", "e", "ts"}}


def stage2_records(raw: bytes | None) -> list[dict[str, Any]] | None:
    """Decode a stage-2 message: a list of co-listen/stream records, or None if malformed."""
    try:
        records = json.loads(raw or b"")
    except ValueError:
        return None
    if not isinstance(records, list):
        return None
    for rec in records:
        if not isinstance(rec, dict) or not _STAGE2_KEYS.get(
            rec.get("k"), {"?"}
        ) <= set(rec):
            return None
    return records


def faust_settings(cfg: StreamConfig) -> dict[str, Any]:
    """The Faust App settings of the worker (bench/faust_floor.py measures with them)."""
    # per app id: an on-disk table store belongs to that app's changelog topics
    datadir = cfg.app_dir
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust makes only the last level
    if cfg.tables_on_disk:
        rocks_store.register()
    return {
        "broker": f"kafka://{cfg.bootstrap}",
        "store": rocks_store.STORE_URL if cfg.tables_on_disk else cfg.store,
        "datadir": str(datadir),
        "topic_partitions": cfg.partitions,
        "topic_replication_factor": 1,
        "consumer_auto_offset_reset": "earliest",
        "web_enabled": False,
        "table_standby_replicas": 0,
        "producer_acks": -1,
        "producer_linger": 0.005,
        "producer_max_batch_size": 1_048_576,
        "stream_buffer_maxsize": 16384,
    }


def create_app(
    cfg: StreamConfig | None = None, store_cfg: FeatureStoreConfig | None = None
) -> faust.App:
    """Build the stream worker's Faust app: topics, tables, both stages, timers."""
    cfg = cfg or StreamConfig.from_env()
    store_cfg = store_cfg or FeatureStoreConfig.from_env()
    on_disk = cfg.tables_on_disk
    app = faust.App(cfg.app_id, **faust_settings(cfg))
    # faust-streaming behaviours that would lose events at a rebalance: a commit passing
    # events whose state is in no table (ack_gate.py, producer_buffer.py), and fetched
    # records dropped unread (fetch_guard.py, flow_resume.py); closed before the start
    sources = [cfg.interactions_topic, cfg.pairs_topic]
    gate, guard = AckGate(sources), FetchGuard(sources)
    use_draining_buffer(app)
    gate.install(app.consumer)
    guard.install(app.consumer)
    keep_queues_on_repeated_resume(app)
    app.colisten_ack_gate = gate  # type: ignore[attr-defined]
    app.colisten_fetch_guard = guard  # type: ignore[attr-defined]
    n = cfg.partitions
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    interactions = app.topic(cfg.interactions_topic, partitions=n, **raw)
    dlq = app.topic(cfg.dlq_topic, partitions=1, **raw)
    pairs_topic = app.topic(cfg.pairs_topic, partitions=n, **raw)

    def table(name: str) -> RestoringTable:
        return app.tables.add(
            RestoringTable(
                app,
                name=name,
                default=dict,
                partitions=n,
                beacon=app.tables.beacon,
                options=dict(rocks_store.ROCKSDB_OPTIONS) if on_disk else None,
            )
        )

    users, pairs, items = table("users"), table("pairs"), table("items")
    # item-user entries live in `items` (keys "item|user") so that an item's popularity
    # and its item-user entries share one changelog partition, written in that order
    sink = make_sink(store_cfg, cfg.writer_process)
    app.colisten_sink = sink  # type: ignore[attr-defined]
    clock1, clock2 = (
        (
            DiskPartitionClock(cfg.app_dir / "clock-users"),
            DiskPartitionClock(cfg.app_dir / "clock-pairs"),
        )
        if on_disk
        else (PartitionClock(), PartitionClock())
    )
    items_in: dict[int, set[str]] = {}
    window, cap = cfg.window_ms, cfg.recent_items
    user_ws = WorkingSet(users, us.UserState.from_json)
    pair_ws = WorkingSet(pairs, ps.PairState.from_json)
    item_ws = WorkingSet(items, ps.ItemPopularity.from_json)
    iu_ws = WorkingSet(items, ps.ItemUser.from_json)

    # -- writes: stamp, working set, sink; schedule the next expiry ------------------
    def save_user(
        user_id: str, st: us.UserState, at_ms: int, restamp: bool = True
    ) -> None:
        part = partition_of(user_id, n)
        if restamp:
            st.stamp_us = us.next_stamp(st.stamp_us, at_ms)
            user_ws.put(user_id, st, part)
        sink.stage(user_weak_signals.VIEW, user_id, us.weak_signal_row(st), st.stamp_us)
        sink.stage(
            user_recent_items.VIEW, user_id, us.recent_items_row(st, cap), st.stamp_us
        )
        oldest = st.oldest_ms()
        if oldest is not None:
            clock1.schedule(part, user_id, oldest + window)

    def save_pair(
        pair_id: str, st: ps.PairState, at_ms: int, restamp: bool = True
    ) -> None:
        part = partition_of(pair_id, n)
        if restamp:
            st.stamp_us = us.next_stamp(st.stamp_us, at_ms)
            pair_ws.put(pair_id, st, part)
        sink.stage(colisten_edges.VIEW, pair_id, ps.edge_row(st), st.stamp_us)
        oldest = st.oldest_ms()
        if oldest is not None:
            clock2.schedule(part, pair_id, oldest + window)

    def save_item(
        item_id: str, pop: ps.ItemPopularity, now_ms: int, restamp: bool = True
    ) -> None:
        if restamp:
            pop.stamp_us = us.next_stamp(pop.stamp_us, now_ms)
            item_ws.put(item_id, pop, partition_of(item_id, n))
        sink.stage(
            item_popularity.VIEW, item_id, ps.popularity_row(pop, now_ms), pop.stamp_us
        )

    # -- sweeps as watermarks pass expiries -----------------------------------------
    def sweep_users(partition: int) -> None:
        now = clock1.now(partition)
        for user_id in clock1.due(partition):
            st = user_ws.get(user_id)
            if us.expire(st, now, window):
                save_user(user_id, st, now)
            elif (oldest := st.oldest_ms()) is not None:
                clock1.schedule(partition, user_id, oldest + window)

    def sweep_pairs(partition: int) -> None:
        now = clock2.now(partition)
        for pair_id in clock2.due(partition):
            st = pair_ws.get(pair_id)
            if ps.expire_pair(st, now, window):
                save_pair(pair_id, st, now)
            elif (oldest := st.oldest_ms()) is not None:
                clock2.schedule(partition, pair_id, oldest + window)

    def new_day_items(partition: int, before_ms: int) -> None:
        now = clock2.now(partition)
        for item_id in items_in.get(partition, ()):
            pop = item_ws.get(item_id)
            before = ps.popularity_row(pop, before_ms)
            expired = ps.expire_popularity(pop, now)
            if ps.popularity_row(pop, now) != before:
                save_item(item_id, pop, now)
            elif expired:
                item_ws.put(item_id, pop, partition)

    async def dead_letter(event: faust.EventT, reasons: list[dict[str, Any]]) -> None:
        msg = event.message
        await dlq.send(
            key=event.key,
            value=dlq_record(
                event.value, reasons, f"{msg.topic}/{msg.partition}/{msg.offset}"
            ),
        )

    async def flush_if_full() -> None:
        if sink.pending_online() >= cfg.flush_max_rows:
            await asyncio.get_running_loop().run_in_executor(None, sink.flush_online)

    # -- stage 1 --------------------------------------------------------------------
    def fold_interaction(
        event: faust.EventT, out: dict[int, list[dict[str, Any]]]
    ) -> list[dict[str, Any]] | None:
        """Fold one valid event into its user; add its stage-2 records to `out`."""
        msg = event.message
        checked = validate_event(event.value)
        if checked.event is None:
            return [r.as_dict() for r in checked.reasons]
        ev = checked.event
        part = msg.partition
        st = user_ws.get(ev.user_id)
        replay = us.is_replay(st, msg.offset)
        changed, colistens = us.fold(
            st, ev, offset=msg.offset, partition=part, window_ms=window, cap=cap
        )
        if replay:  # after a crash: re-send the state, it may be on local disk only
            user_ws.put(ev.user_id, st, part)
        if changed:
            save_user(ev.user_id, st, st.last_event_ms)
            for c in colistens:
                out.setdefault(partition_of(c.pair_id, n), []).append(
                    {
                        "k": "c",
                        "s": c.src_item,
                        "d": c.dst_item,
                        "r": c.relation,
                        "u": c.user_id,
                        "ts": c.ts,
                    }
                )
            if ev.event_type == names.STREAM:
                out.setdefault(partition_of(ev.item_id, n), []).append(
                    {
                        "k": "s",
                        "i": ev.item_id,
                        "t": ev.item_type,
                        "u": ev.user_id,
                        "e": ev.event_id,
                        "ts": ev.ts,
                    }
                )
        if clock1.advance(part, ev.ts):
            sweep_users(part)
        return None

    def owned(batch: list[faust.EventT]) -> list[faust.EventT]:
        """The batch's events whose partition this worker holds now.

        faust-streaming can hand an agent a message of a partition the last rebalance
        moved away (seen once; by reading its code, most likely fetched in the old
        generation, stamped with the new one, and let through because the partition was
        still in the consumer's buffered set). Folding it would write a stale state to a
        changelog partition another worker owns. It is dropped unacked (the gate refuses
        it) and its new owner folds it.
        """
        held = app.consumer.assignment()
        kept = [e for e in batch if e.message.tp in held]
        if len(kept) < len(batch):
            gate.foreign += len(batch) - len(kept)
            log.info(
                "dropped %d events of partitions not held (%d so far)",
                len(batch) - len(kept),
                gate.foreign,
            )
        return kept

    resumed_in: dict[TP, int] = {}

    def log_resumes(batch: list[faust.EventT]) -> None:
        """Log where each partition's reading (re)starts in a generation (diagnostics)."""
        gen = app.consumer_generation_id
        for event in batch:
            tp = event.message.tp
            if resumed_in.get(tp) != gen:
                resumed_in[tp] = gen
                log.info(
                    "reading %s/%d from offset %d in generation %d",
                    tp.topic,
                    tp.partition,
                    event.message.offset,
                    gen,
                )

    @app.agent(interactions, supervisor_strategy=CrashingSupervisor)
    async def stage1_users(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            cfg.batch_max_events, cfg.batch_within_s
        ):
            batch = owned(batch)
            log_resumes(batch)
            out: dict[int, list[dict[str, Any]]] = {}
            for event in batch:
                reasons = fold_interaction(event, out)
                if reasons is not None:
                    await dead_letter(event, reasons)
            sent = []
            for target, records in out.items():
                # every record in a message is keyed to its target partition, so
                # stage 2's tables stay co-partitioned with colisten.pairs
                for chunk in chunked(records, cfg.records_per_message):
                    sent.append(
                        await pairs_topic.send(
                            key=f"{target}".encode(),
                            partition=target,
                            value=json.dumps(chunk).encode(),
                        )
                    )
            # the users' new states become durable only once Kafka holds every record
            # they caused: a crash can repeat a record (stage 2 is idempotent), never
            # lose one
            await asyncio.gather(*sent)
            user_ws.commit()
            user_ws.reset()
            gate.allow(batch)  # durable: the commit may now pass these offsets
            await flush_if_full()

    # -- stage 2 --------------------------------------------------------------------
    @app.agent(pairs_topic, supervisor_strategy=CrashingSupervisor)
    async def stage2_pairs(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            cfg.batch_max_events, cfg.batch_within_s
        ):
            batch = owned(batch)
            log_resumes(batch)
            for event in batch:
                msg = event.message
                records = stage2_records(event.value)
                if records is None:  # not ours (e.g. an older format): dead-letter
                    await dead_letter(event, [BAD_INTERNAL_RECORD])
                    continue
                for index, rec in enumerate(records):
                    position = ps.record_position(msg.offset, index)
                    apply_stage2(msg.partition, position, rec)
            pair_ws.commit()
            # popularity before item-user entries (one changelog partition, in order):
            # see pair_state.fold_stream for how a crash between them is repaired
            item_ws.commit()
            iu_ws.commit()
            for ws in (pair_ws, item_ws, iu_ws):
                ws.reset()
            gate.allow(batch)
            await flush_if_full()

    def apply_stage2(part: int, position: int, rec: dict[str, Any]) -> None:
        ts = int(rec["ts"])
        before = clock2.now(part)
        moved = clock2.advance(part, ts)
        now = clock2.now(part)
        if rec["k"] == "c":
            key = f"{rec['s']}|{rec['d']}"
            st = pair_ws.get(key)
            replay = ps.holds_colisten(st, rec["u"], ts)
            if ps.fold_colisten(
                st, rec["s"], rec["d"], rec["r"], rec["u"], ts, now, window
            ):
                save_pair(key, st, max(ts, now))
            elif replay:  # after a crash: re-send, it may be on local disk only
                pair_ws.put(key, st, part)
        else:
            item_id, iu_key = rec["i"], f"{rec['i']}|{rec['u']}"
            pop, iu = item_ws.get(item_id), iu_ws.get(iu_key)
            replayed = pop.holds(position)
            if ps.fold_stream(pop, iu, rec["t"], rec["e"], ts, now, position):
                iu_ws.put(iu_key, iu, part)
                if not replayed:
                    items_in.setdefault(part, set()).add(item_id)
                    save_item(item_id, pop, now)
            if replayed:  # after a crash: re-send both, they may be on local disk only
                item_ws.put(item_id, pop, part)
                iu_ws.put(iu_key, iu, part)
        if moved:
            sweep_pairs(part)
            if now // DAY_MS != before // DAY_MS:
                new_day_items(part, before)

    # -- recovery: rebuild schedules, re-push restored state --------------------------
    # Restores read the table lazily and flush every RESTORE_CHUNK keys: with an on-disk
    # store the restored state can be far larger than memory.
    def restaged(count: int) -> None:
        if count % RESTORE_CHUNK:
            return
        try:
            sink.flush()
        except Exception:  # noqa: BLE001 - the rows stay pending; the timers retry
            sink.failures += 1  # and the restore goes on: every key must be scheduled
            log.exception("feature store write failed during a restore; will retry")

    def restored_users(tbl: RestoringTable, parts: set[int]) -> None:
        for p in parts:
            clock1.reset(p)
        for count, (user_id, raw_state) in enumerate(tbl.items(), 1):
            p = partition_of(user_id, n)
            if p in parts and raw_state:
                st = us.UserState.from_json(raw_state)
                clock1.advance(p, st.last_event_ms)
                save_user(user_id, st, st.last_event_ms, restamp=False)
            restaged(count)

    def restored_pairs(tbl: RestoringTable, parts: set[int]) -> None:
        for p in parts:
            clock2.reset(p)
        for count, (pair_id, raw_state) in enumerate(tbl.items(), 1):
            p = partition_of(pair_id, n)
            if p in parts and raw_state:
                st = ps.PairState.from_json(raw_state)
                clock2.advance(p, st.last_ms)
                save_pair(pair_id, st, st.last_ms, restamp=False)
            restaged(count)

    def restored_items(tbl: RestoringTable, parts: set[int]) -> None:
        restored: list[tuple[int, str, ps.ItemPopularity]] = []
        for p in parts:
            items_in[p] = set()
        for item_id, raw_state in tbl.items():
            if "|" in item_id:  # an item-user entry, not a popularity
                continue
            p = partition_of(item_id, n)
            if p in parts and raw_state:
                pop = ps.ItemPopularity.from_json(raw_state)
                clock2.advance(p, pop.last_ms)
                items_in[p].add(item_id)
                restored.append((p, item_id, pop))
        for p, item_id, pop in restored:
            save_item(item_id, pop, clock2.now(p), restamp=False)

    users.on_restored = restored_users
    pairs.on_restored = restored_pairs
    items.on_restored = restored_items

    @app.timer(cfg.flush_interval_s)
    async def flush_online() -> None:
        await flush_safely(sink.flush_online)

    @app.timer(cfg.offline_flush_interval_s)
    async def flush_offline() -> None:
        await flush_safely(sink.flush_offline)

    async def flush_safely(flush: Any) -> None:
        """Run a flush off the event loop; on failure keep the rows, log loudly, retry later.

        A timer must never die: an uncaught error would stop every later flush while the
        worker keeps consuming. The sink keeps unwritten rows for the next attempt.
        """
        try:
            await asyncio.get_running_loop().run_in_executor(None, flush)
        except Exception:  # noqa: BLE001 - any store error is retried on the next tick
            sink.failures += 1
            log.exception(
                "feature store write failed (%d so far); will retry", sink.failures
            )

    @app.task
    async def diagnostics_on_sigusr1() -> None:
        """`kill -USR1 <worker>` logs what the consumer is doing (see diagnostics.py)."""
        install_dump_on_signal(app)

    @app.on_before_shutdown.connect  # type: ignore[misc]
    async def final_flush(app_: faust.App, **_: Any) -> None:
        """On a clean stop the consumer is already stopped: write whatever is pending."""
        del app_
        sink.flush()
        if isinstance(sink.writer, WriterProcess):
            sink.writer.close()

    return app


def run_worker(cfg: StreamConfig | None = None, loglevel: str | None = None) -> None:
    """Run the worker in this process until SIGTERM/SIGINT; flushes the sink on the way out."""
    import sys

    cfg = cfg or StreamConfig.from_env()
    app = create_app(cfg)
    level = loglevel or cfg.loglevel
    sys.argv = ["colisten-stream", "worker", "--loglevel", level, "--without-web"]
    app.main()
