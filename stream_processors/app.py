"""The Faust app: topics, tables and timers around the two stages, both feeding the sink.

Stage 1 (`user_stage.UserStage`, on `interactions` keyed by user_id) validates each event
(bad ones go to the DLQ with every reason), folds it into the user's changelogged state,
stages the user's `user_weak_signals` and `user_recent_items` rows, and routes to
`colisten.pairs` a co-listen record per new pair (keyed by pair) and a stream record per
stream (keyed by item), encoded by `stage2_records`. Stage 2 (`pair_stage.PairStage`)
keeps distinct-user edge counts and item popularity. Windows run on per-partition
event-time watermarks; keys whose contents expire are swept as the watermark passes them.
This module holds only the Faust wiring: batching, the DLQ, sends, durability order,
rebalance guards, restores and flush timers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from typing import Any

import faust
from faust.types import TP
from mode.supervisors import CrashingSupervisor

from feature_repo.config import FeatureStoreConfig
from feature_repo.definitions import PUSH_FED, PUSH_FED_LAYOUTS
from feature_repo.online_write import OnlineWriter
from feature_repo.store import apply_definitions, open_store
from stream_processors import malloc_tuning, rocks_store, stage2_records
from stream_processors.ack_gate import AckGate
from stream_processors.batching import safe_highwater, take_batches
from stream_processors.changelog_batch import ChangelogBatch, faust_aiokafka_producer
from stream_processors.clock import PartitionClock
from stream_processors.config import StreamConfig, apply_gc_threshold
from stream_processors.diagnostics import install_dump_on_signal, task_stacks
from stream_processors.disk_clock import DiskPartitionClock
from stream_processors.fetch_guard import FetchGuard
from stream_processors.flow_resume import keep_queues_on_repeated_resume
from stream_processors.pair_stage import PairStage
from stream_processors.producer_buffer import use_draining_buffer
from stream_processors.producer_watch import ProducerStallWatch
from stream_processors.sink import FeatureSink
from stream_processors.stage2_records import Stage2Record
from stream_processors.user_stage import UserStage
from stream_processors.working_set import (
    chunked,
    put_with_partition,
    set_in_store,
)
from stream_processors.writer_process import WriterLimits, WriterProcess

log = logging.getLogger(__name__)
RESTORE_CHUNK = 20_000
"""After a recovery, restored keys are re-pushed to the store this many at a time."""


class RestoringTable(faust.Table):  # type: ignore[misc]
    """A Table that calls `on_restored(table, partitions)` once recovery completes, and
    whose `put` queues its changelog record in its stage's `ChangelogBatch`."""

    on_restored: Any = None
    changelog: ChangelogBatch | None = None
    """Where `put` queues changelog records; None: Faust's own send per write."""

    async def on_recovery_completed(
        self, active_tps: set[TP], standby_tps: set[TP]
    ) -> None:
        """After Faust restored the changelog, let the app rebuild derived in-memory state."""
        await super().on_recovery_completed(active_tps, standby_tps)
        if self.on_restored is not None:
            self.on_restored(self, {tp.partition for tp in active_tps})

    def put(self, key: str, value: Any, partition: int) -> None:
        """Set key with its changelog record on `partition` (batches have no one event).

        With a `changelog` batch the record waits there until the stage sends the batch;
        an on-disk store then takes the record's bytes (the value is encoded once, and
        the store holds what a restore from the changelog would write).
        """
        if self.changelog is None:
            put_with_partition(self, key, value, partition)
            return
        key_bytes, value_bytes = self.changelog.add(self, partition, key, value)
        if isinstance(self.data, rocks_store.PartitionedRocksStore):
            self._sensor_on_set(self, key, value)
            self.data.put_encoded(partition, key_bytes, value_bytes)
        else:
            set_in_store(self, key, value, partition)


def dlq_record(raw: bytes | None, reasons: list[dict[str, Any]], source: str) -> bytes:
    """The dead-letter record: every reason, the source position and the raw payload."""
    payload = (raw or b"").decode("utf-8", errors="replace")
    return json.dumps(
        {"reasons": reasons, "source": source, "payload": payload}
    ).encode()


def make_sink(
    store_cfg: FeatureStoreConfig,
    writer_process: bool = True,
    limits: WriterLimits | None = None,
) -> FeatureSink:
    """The sink for the four push-fed views, on a store with the definitions applied.

    With writer_process, online writes run in a child process (`WriterProcess`) that
    keeps within `limits`.
    """
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    writer: OnlineWriter | WriterProcess = (
        WriterProcess(store_cfg, limits)
        if writer_process
        else OnlineWriter(store, PUSH_FED_LAYOUTS)
    )
    return FeatureSink(
        writer,
        store_cfg.data_dir,
        schemas={m.VIEW: m.ARROW_SCHEMA for m in PUSH_FED},
        join_keys={lay.view: lay.join_key for lay in PUSH_FED_LAYOUTS},
    )


def faust_settings(cfg: StreamConfig) -> dict[str, Any]:
    """The Faust App settings of the worker (bench/faust_floor.py measures with them)."""
    # per app id: an on-disk table store belongs to that app's changelog topics
    datadir = cfg.app_dir
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust makes only the last level
    if cfg.tables_on_disk:
        rocks_store.register()
        rocks_store.share_memory(
            cfg.rocksdb_block_cache_mb * 2**20, cfg.rocksdb_write_buffers_mb * 2**20
        )
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
    # each stage sends its own tables' changelog records once per batch, as record
    # batches (changelog_batch.py); one batch per stage, so neither agent can send, and
    # take as durable, records the other has not finished
    changelog1, changelog2 = (
        ChangelogBatch(faust_aiokafka_producer(app)) for _ in range(2)
    )
    users.changelog = changelog1
    pairs.changelog = items.changelog = changelog2
    sink = make_sink(store_cfg, cfg.writer_process, cfg.writer_limits)
    app.colisten_sink = sink  # type: ignore[attr-defined]
    clock1, clock2 = (
        (
            DiskPartitionClock(cfg.app_dir / "clock-users"),
            DiskPartitionClock(cfg.app_dir / "clock-pairs"),
        )
        if on_disk
        else (PartitionClock(), PartitionClock())
    )
    keep_bytes = cfg.state_cache_mb * 2**20  # per working set
    stage1 = UserStage(
        users,
        sink,
        clock1,
        n,
        cfg.window_ms,
        cfg.recent_items,
        cfg.state_cache,
        keep_bytes,
    )
    stage2 = PairStage(
        pairs, items, sink, clock2, n, cfg.window_ms, cfg.state_cache, keep_bytes
    )
    app.colisten_stages = (stage1, stage2)  # type: ignore[attr-defined]

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

    highwater = safe_highwater(app.consumer)

    def batches(stream: faust.StreamT, backlog_records: int) -> Any:
        """Short batches when caught up, long ones while behind (batching.py)."""
        window = replace(cfg.batch_window, backlog_records=backlog_records)
        return take_batches(stream, window, highwater)

    @app.agent(interactions, supervisor_strategy=CrashingSupervisor)
    async def stage1_users(stream: faust.StreamT) -> None:
        async for batch in batches(stream, cfg.backlog_records):
            batch = owned(batch)
            log_resumes(batch)
            out: dict[int, list[Stage2Record]] = {}
            for event in batch:
                msg = event.message
                reasons = stage1.fold(event.value, msg.partition, msg.offset, out)
                if reasons is not None:
                    await dead_letter(event, reasons)
            # every record in a message is keyed to its target partition, so stage 2's
            # tables stay co-partitioned with colisten.pairs
            sent = [
                await pairs_topic.send(
                    key=f"{target}".encode(),
                    partition=target,
                    value=stage2_records.encode(chunk),
                )
                for target, records in out.items()
                for chunk in chunked(records, cfg.records_per_message)
            ]
            # the users' new states become durable only once Kafka holds every record
            # they caused: a crash can repeat a record (stage 2 is idempotent), never
            # lose one
            await asyncio.gather(*sent)
            stage1.commit()
            await changelog1.send()
            gate.allow(batch)  # durable: the commit may now pass these offsets
            await flush_if_full()

    @app.agent(pairs_topic, supervisor_strategy=CrashingSupervisor)
    async def stage2_pairs(stream: faust.StreamT) -> None:
        # one colisten.pairs message carries a whole stage-1 batch's records for its
        # partition: a single waiting message is a backlog
        async for batch in batches(stream, 0):
            batch = owned(batch)
            log_resumes(batch)
            for event in batch:
                msg = event.message
                if not stage2.apply_message(event.value, msg.partition, msg.offset):
                    # not ours (e.g. an older format): dead-letter
                    await dead_letter(event, [stage2_records.BAD_INTERNAL_RECORD])
            stage2.commit()
            await changelog2.send()
            gate.allow(batch)
            await flush_if_full()

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

    users.on_restored = lambda tbl, parts: stage1.restore(tbl.items(), parts, restaged)
    pairs.on_restored = lambda tbl, parts: stage2.restore_pairs(
        tbl.items(), parts, restaged
    )
    items.on_restored = lambda tbl, parts: stage2.restore_items(tbl.items(), parts)

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

    stall_watch = ProducerStallWatch(
        lambda: getattr(app.producer, "_producer", None), cfg.producer_stall_s
    )

    @app.timer(min(cfg.producer_stall_s / 4, 5.0))
    async def watch_producer() -> None:
        """Log what the producer holds when a batch waits too long for the broker."""
        try:
            snap = stall_watch.check()
            if snap is not None:
                log.warning("producer stalled: %s", json.dumps(snap))
                log.warning("producer stalled: task stacks\n%s", task_stacks())
        except Exception:  # noqa: BLE001 - a diagnostic must never stop the worker
            log.exception("producer stall watch failed")

    if cfg.malloc_trim_s:

        @app.timer(cfg.malloc_trim_s)
        async def give_back_freed_memory() -> None:
            """Return the memory batches freed to the kernel (malloc_tuning.py)."""
            await asyncio.get_running_loop().run_in_executor(None, malloc_tuning.trim)

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
    apply_gc_threshold(cfg.gc_threshold)
    malloc_tuning.limit_arenas(cfg.malloc_arenas)  # before the worker's threads start
    app = create_app(cfg)
    level = loglevel or cfg.loglevel
    sys.argv = ["colisten-stream", "worker", "--loglevel", level, "--without-web"]
    app.main()
