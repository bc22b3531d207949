"""ProducerStallWatch: a batch unacknowledged too long is reported, then reminded; task stacks."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition

from stream_processors.diagnostics import task_stacks
from stream_processors.producer_watch import (
    ProducerStallWatch,
    producer_snapshot,
    unacknowledged_batches,
)

TP0 = TopicPartition("colisten.pairs", 0)


class Clock:
    """time.monotonic() moved forward by hand (batch ages are measured against it)."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skew


async def _queue_batch(producer: AIOKafkaProducer, tp: TopicPartition) -> Any:
    """One record batch queued in the (never started) producer, as send_batch queues it."""
    builder = producer.create_batch()
    builder.append(key=b"k", value=b"v", timestamp=None)
    await producer._message_accumulator.add_batch(builder, tp, 1.0)
    return producer._message_accumulator._batches[tp][-1]


def _deliver(producer: AIOKafkaProducer, tp: TopicPartition) -> None:
    """What the sender does with an acknowledged batch: drain it, then resolve it."""
    batch = producer._message_accumulator._pop_batch(tp)
    batch.done(base_offset=0)


def test_a_stall_is_reported_when_it_begins_then_once_per_interval() -> None:
    async def run() -> list[Any]:
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")
        clock = Clock()
        watch = ProducerStallWatch(lambda: producer, 60.0, now=clock)
        seen: list[Any] = [watch.check()]  # nothing held
        await _queue_batch(producer, TP0)
        seen.append(watch.check())  # young
        clock.skew = 61
        seen.append(watch.check())  # the stall begins
        clock.skew = 90
        seen.append(watch.check())  # same stall, reminder not due
        clock.skew = 122
        seen.append(watch.check())  # reminder
        _deliver(producer, TP0)
        await asyncio.sleep(0)  # the batch's done-callbacks run
        seen.append(watch.check())  # delivered: the stall is over
        await _queue_batch(producer, TP0)
        clock.skew = 122 + 61
        seen.append(watch.check())  # a second stall
        return seen

    empty, young, begins, quiet, reminder, over, second = asyncio.run(run())
    assert empty is None and young is None and quiet is None and over is None
    assert begins["stalls"] == 1 and begins["oldest_age_s"] > 60
    assert begins["queued_total"] == 1 and begins["sent_unanswered_total"] == 0
    assert begins["queued_batches"][0]["tp"] == "colisten.pairs/0"
    assert begins["queued_batches"][0]["records"] == 1
    assert begins["sender_task"] == "none"  # never started
    assert reminder["stalls"] == 1 and reminder["oldest_age_s"] > 120
    assert second["stalls"] == 2
    json.dumps(begins)  # what the worker logs is JSON


def test_snapshot_tells_queued_from_sent_and_unanswered() -> None:
    async def run() -> tuple[dict[str, Any], int]:
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", linger_ms=0)
        await _queue_batch(producer, TP0)
        await _queue_batch(producer, TopicPartition("colisten.pairs", 1))
        sent = producer._message_accumulator._pop_batch(TP0)  # drained, no answer yet
        producer._sender._in_flight.add(0)
        producer._sender._muted_partitions.add(TP0)
        assert not sent.future.done()
        return producer_snapshot(producer), len(unacknowledged_batches(producer))

    snap, held = asyncio.run(run())
    assert held == 2
    assert snap["queued_total"] == 1
    assert snap["queued_batches"][0]["tp"] == "colisten.pairs/1"
    assert snap["sent_unanswered_total"] == 1
    unanswered = snap["sent_unanswered_batches"][0]
    assert unanswered["tp"] == "colisten.pairs/0" and unanswered["drained"]
    assert unanswered["sends"] == 1 and not unanswered["done"]
    assert snap["nodes_in_flight"] == ["0"]
    assert snap["muted_partitions"] == ["colisten.pairs/0"]
    assert snap["metadata_update"] == "none" and snap["accumulator_error"] is None
    assert snap["request_timeout_s"] == 40.0  # aiokafka's default


def test_task_stacks_names_each_task_and_where_it_waits() -> None:
    async def parked(event: asyncio.Event) -> None:
        await event.wait()

    async def run() -> str:
        event = asyncio.Event()
        task = asyncio.create_task(parked(event), name="parked-task")
        await asyncio.sleep(0)  # it starts and waits
        text = task_stacks()
        event.set()
        await task
        return text

    text = asyncio.run(run())
    assert "--- parked-task" in text
    assert "in parked" in text and "test_producer_watch.py:" in text
