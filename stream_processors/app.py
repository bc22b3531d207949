"""The Faust app: stage 1 (keyed by user) validates events, folds user state, feeds the sink."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import faust

from colisten import names
from colisten.events import validate_event
from feature_repo import user_weak_signals
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from stream_processors import user_signals
from stream_processors.config import StreamConfig
from stream_processors.sink import FeatureSink

log = logging.getLogger(__name__)


def dlq_record(raw: bytes | None, reasons: list[dict[str, Any]], source: str) -> bytes:
    """The dead-letter record: every reason, the source position and the raw payload."""
    payload = (raw or b"").decode("utf-8", errors="replace")
    return json.dumps(
        {"reasons": reasons, "source": source, "payload": payload}
    ).encode()


def create_app(
    cfg: StreamConfig | None = None, store_cfg: FeatureStoreConfig | None = None
) -> faust.App:
    """Build the stream worker's Faust app (topics, table, agent, flush timer)."""
    cfg = cfg or StreamConfig.from_env()
    store_cfg = store_cfg or FeatureStoreConfig.from_env()
    app = faust.App(
        cfg.app_id,
        broker=f"kafka://{cfg.bootstrap}",
        store=cfg.store,
        datadir=str(cfg.data_dir),
        topic_partitions=cfg.partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        table_cleanup_interval=3600.0,
    )
    interactions = app.topic(
        cfg.interactions_topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=cfg.partitions,
    )
    dlq = app.topic(
        cfg.dlq_topic, key_serializer="raw", value_serializer="raw", partitions=1
    )
    user_state = app.Table("user_signals", default=dict, partitions=cfg.partitions)

    feature_store = open_store(store_cfg)
    apply_definitions(feature_store, store_cfg)
    sink = FeatureSink(
        feature_store,
        store_cfg.data_dir,
        schemas={user_weak_signals.VIEW: user_weak_signals.ARROW_SCHEMA},
        join_keys={user_weak_signals.VIEW: names.USER_ID},
    )
    app.colisten_sink = sink  # type: ignore[attr-defined]

    @app.agent(interactions)
    async def stage1_users(stream: faust.StreamT) -> None:
        async for event in stream.events():
            raw: bytes = event.value
            checked = validate_event(raw)
            if not checked.ok or checked.event is None:
                source = f"{event.message.topic}/{event.message.partition}/{event.message.offset}"
                await dlq.send(
                    key=event.key,
                    value=dlq_record(
                        raw, [r.as_dict() for r in checked.reasons], source
                    ),
                )
                continue
            ev = checked.event
            state = user_signals.UserSignalsState.from_json(user_state[ev.user_id])
            if user_signals.fold(state, ev, cfg.window_ms):
                user_state[ev.user_id] = state.to_json()
                sink.stage(
                    user_weak_signals.VIEW,
                    ev.user_id,
                    user_signals.counts(state),
                    state.last_event_ms,
                )
            if sink.pending_online() >= cfg.flush_max_rows:
                await asyncio.get_running_loop().run_in_executor(
                    None, sink.flush_online
                )

    @app.timer(cfg.flush_interval_s)
    async def flush_online() -> None:
        await asyncio.get_running_loop().run_in_executor(None, sink.flush_online)

    @app.timer(cfg.offline_flush_interval_s)
    async def flush_offline() -> None:
        await asyncio.get_running_loop().run_in_executor(None, sink.flush_offline)

    @app.on_before_shutdown.connect  # type: ignore[misc]
    async def final_flush(app_: faust.App, **_: Any) -> None:
        """On a clean stop the consumer is already stopped: write whatever is pending."""
        del app_
        sink.flush()

    return app


def run_worker(cfg: StreamConfig | None = None, loglevel: str = "warn") -> None:
    """Run the worker in this process until SIGTERM/SIGINT; flushes the sink on the way out."""
    import sys

    app = create_app(cfg)
    sys.argv = ["colisten-stream", "worker", "--loglevel", loglevel, "--without-web"]
    app.main()
