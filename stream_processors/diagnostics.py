"""What a running worker is doing: its consumer, its producer's deliveries, its tasks."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
from typing import Any

import faust

from stream_processors.producer_watch import producer_snapshot

log = logging.getLogger(__name__)


def _tp(tp: Any) -> str:
    return f"{tp.topic}/{tp.partition}"


def consumer_snapshot(app: faust.App) -> dict[str, Any]:
    """A JSON-friendly picture of the consumer: which partitions it fetches and why not."""
    consumer = app.consumer
    assigned = sorted(consumer.assignment(), key=_tp)
    active = consumer._active_partitions or set()
    gate = getattr(app, "colisten_ack_gate", None)
    guard = getattr(app, "colisten_fetch_guard", None)
    out: dict[str, Any] = {
        "generation": app.consumer_generation_id,
        "rebalancing": app.rebalancing,
        "in_recovery": app.in_recovery,
        "flow_active": consumer.flow_active,
        "flow_control_active": app.flow_control.is_active(),
        "producer_buffer": app.producer.buffer.size,
        "flushes_cut_short_upstream": getattr(
            app.producer.buffer, "flushes_cut_short_upstream", None
        ),
        "acks_refused": getattr(gate, "refused", None),
        "foreign_dropped": getattr(gate, "foreign", None),
        "records_handed_back": getattr(guard, "handed_back", None),
        "rewound_uncommitted": getattr(guard, "rewound", None),
        "partitions": {},
        "queues": {},
    }
    started = getattr(app.producer, "_producer", None)
    if started is not None:
        try:
            out["producer"] = producer_snapshot(started)
        except Exception as exc:  # noqa: BLE001 - a diagnostic must not fail
            out["producer"] = repr(exc)
    for tp in assigned:
        try:
            high = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - a diagnostic must not fail
            high = None
        out["partitions"][_tp(tp)] = {
            "active": tp in active,
            "paused": tp in consumer._paused_partitions,
            "buffered": tp in consumer._buffered_partitions,
            "read": consumer._read_offset.get(tp),
            "committed": consumer._committed_offset.get(tp),
            "highwater": high,
        }
    for topic in app.topics._topics:
        queue = getattr(topic, "queue", None)
        if queue is not None:
            out["queues"][",".join(getattr(topic, "topics", None) or ["?"])] = {
                "size": queue.qsize(),
                "pressure_high_size": queue.pressure_high_size,
                "pending_drop_callbacks": len(queue._pending_pressure_drop_callbacks),
            }
    return out


def task_stacks() -> str:
    """The stack of every asyncio task of the running loop (like py-spy for coroutines)."""
    buf = io.StringIO()
    for task in asyncio.all_tasks():
        buf.write(f"--- {task.get_name()} {task.get_coro()!r}\n")
        for frame in task.get_stack(limit=12):
            # not Task.print_stack: its source lookup fails on a frame whose f_lineno is
            # None (Python 3.11, a coroutine between two instructions), and a stall
            # report must not crash the worker it reports on
            code = frame.f_code
            buf.write(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}\n")
    return buf.getvalue()


def install_dump_on_signal(
    app: faust.App, sig: signal.Signals = signal.SIGUSR1
) -> None:
    """On `sig`, log the consumer snapshot and every task's stack (for stalls in the field)."""

    def dump() -> None:
        try:
            log.warning("diagnostics: %s", json.dumps(consumer_snapshot(app)))
            log.warning("diagnostics: task stacks\n%s", task_stacks())
        except Exception:  # noqa: BLE001 - never take the worker down
            log.exception("diagnostics dump failed")

    asyncio.get_running_loop().add_signal_handler(sig, dump)
    log.info("diagnostics: kill -%s %d dumps the consumer state", sig.name, os.getpid())
