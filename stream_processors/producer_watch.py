"""Whether the worker's Kafka producer still delivers, and what it holds when it does not.

Faust's commit waits in `producer.flush()` until every record batch aiokafka holds is
acknowledged, and the stages wait for their own changelog batches the same way
(changelog_batch.py). With Faust's default `producer_request_timeout` (1,200 s) a batch
that is never acknowledged holds the worker for twenty minutes without a line in the
log. `ProducerStallWatch` notices a batch older than `stall_after_s` and reports when
the stall begins, then once per further interval while it lasts, what aiokafka's own
objects say: the batches per partition and their ages, which broker connections have
requests in flight, whether the sender task still runs, whether a metadata update is
pending. Read-only: it touches nothing it reads. It reads aiokafka's private attributes
(0.14), so the worker's timer logs and swallows any error it raises instead of letting a
diagnostic stop the worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def _tp(tp: Any) -> str:
    return f"{tp.topic}/{tp.partition}"


def _task_state(task: Any) -> str:
    if task is None:
        return "none"
    if not task.done():
        return "running"
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return f"failed: {exc!r}" if exc is not None else "finished"


def _future_state(fut: Any) -> str:
    if fut is None:
        return "none"
    return "done" if fut.done() else "pending"


def _batch(batch: Any, now: float) -> dict[str, Any]:
    return {
        "tp": _tp(batch.tp),
        "age_s": round(now - batch._ctime, 3),
        "records": batch.record_count,
        "sends": batch.retry_count,
        "drained": batch._drain_waiter.done(),
        "done": batch.future.done(),
    }


def _held_batches(producer: Any) -> tuple[list[Any], list[Any]]:
    """The record batches the aiokafka producer holds: (queued, sent and unanswered)."""
    acc = producer._message_accumulator
    queued = [b for batches in acc._batches.values() for b in batches]
    return queued, list(acc._pending_batches)


def unacknowledged_batches(producer: Any) -> list[Any]:
    """Every record batch the aiokafka producer holds: queued, or sent and unanswered."""
    queued, sent = _held_batches(producer)
    return queued + sent


def producer_snapshot(
    producer: Any, now: Callable[[], float] = time.monotonic
) -> dict[str, Any]:
    """A JSON-friendly picture of an aiokafka producer's delivery state (read-only)."""
    t = now()
    acc, sender, client = (
        producer._message_accumulator,
        producer._sender,
        producer.client,
    )
    queued, in_flight = _held_batches(producer)
    conns = {}
    for (node_id, group), conn in list(client._conns.items()):
        requests = list(getattr(conn, "_requests", ()))
        conns[f"{node_id}/{getattr(group, 'name', group)}"] = {
            "connected": conn.connected(),
            "requests_waiting": len(requests),
            "correlation_ids": [r[0] for r in requests[:10]],
        }
    return {
        "sender_task": _task_state(sender.sender_task),
        "nodes_in_flight": sorted(str(n) for n in sender._in_flight),
        "muted_partitions": sorted(_tp(tp) for tp in sender._muted_partitions),
        "queued_batches": [_batch(b, t) for b in queued[:20]],
        "queued_total": len(queued),
        "sent_unanswered_batches": [_batch(b, t) for b in in_flight[:20]],
        "sent_unanswered_total": len(in_flight),
        "accumulator_error": repr(acc._exception) if acc._exception else None,
        "sender_wakeup": _future_state(acc._waiter_future),
        "metadata_update": _future_state(client._md_update_fut),
        "metadata_task": _task_state(client._sync_task),
        "connections": conns,
        "request_timeout_s": producer._request_timeout_ms / 1000,
    }


class ProducerStallWatch:
    """Reports a producer batch left unacknowledged past `stall_after_s`: when the stall
    begins, then once per further `stall_after_s` while it lasts."""

    def __init__(
        self,
        producer: Callable[[], Any | None],
        stall_after_s: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._producer = producer
        """Returns the started aiokafka producer, or None before it starts."""
        self.stall_after_s = stall_after_s
        self._now = now
        self._last_report: float | None = None
        """When the current stall was last reported (None: no stall)."""
        self.stalls = 0

    def check(self) -> dict[str, Any] | None:
        """The producer's snapshot when a stall begins or is due a reminder, else None."""
        producer = self._producer()
        batches = [] if producer is None else unacknowledged_batches(producer)
        t = self._now()
        age = t - min(b._ctime for b in batches) if batches else None
        if age is None or age <= self.stall_after_s:
            self._last_report = None  # delivered: any stall is over
            return None
        if self._last_report is not None and t - self._last_report < self.stall_after_s:
            return None
        if self._last_report is None:
            self.stalls += 1
        self._last_report = t
        snap = producer_snapshot(producer, self._now)
        return {"stalls": self.stalls, "oldest_age_s": round(age, 3), **snap}
