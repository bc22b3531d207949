"""A batch's table writes sent as one Kafka record batch per changelog partition.

A Faust table write (`table[key] = value`) sends its changelog record on its own: a
`FutureMessage`, a hop through the producer buffer's queue, an aiokafka `send` with its
own future, and a callback. Profiles put that path at a third of the worker's time, and
the cost is per record, not per byte (bench/RESULTS.md, sessions 12 and 13). The stages
already decide when a batch's states become durable, so they do not need a record at a
time: `ChangelogBatch` keeps the batch's records, serialised exactly as Faust serialises
them (the table's changelog topic's `prepare_key`/`prepare_value`), and `send()` hands
aiokafka one `BatchBuilder` per (changelog topic, partition) and waits for the broker's
acknowledgements. Faust's restore reads these records as it reads its own: same topic,
partition, key and value bytes. After the send, an on-disk store is told the offsets it
now holds (`set_persisted_offset`, what Faust's own send callback does), so a restart
reads only the changelog past them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faust.types import TP


def faust_aiokafka_producer(app: Any) -> Callable[[], Any]:
    """A getter of the Faust app's started aiokafka producer (it exists once the app runs)."""

    def producer() -> Any:
        started = getattr(app.producer, "_producer", None)
        if started is None:
            raise RuntimeError(
                "the Faust producer has not started: nothing can be sent"
            )
        return started

    return producer


class RecordTooLarge(ValueError):
    """One changelog record does not fit an empty producer batch."""


class ChangelogBatch:
    """The changelog records of one batch of table writes, sent together by `send()`."""

    def __init__(self, producer: Callable[[], Any]) -> None:
        self._producer = producer
        """Returns the started aiokafka producer (Faust's `app.producer._producer`)."""
        self._records: dict[tuple[Any, int], list[tuple[bytes, bytes]]] = {}
        self.sent_records = 0
        self.sent_batches = 0

    def add(
        self, table: Any, partition: int, key: Any, value: Any
    ) -> tuple[bytes, bytes]:
        """Queue `table`'s changelog record for key on `partition` (value as stored);
        return its key and value bytes (what an on-disk store holds for them too)."""
        topic = table.changelog_topic
        key_bytes, _ = topic.prepare_key(key, table.key_serializer)
        value_bytes, _ = topic.prepare_value(value, table.value_serializer)
        self._records.setdefault((table, partition), []).append(
            (key_bytes, value_bytes)
        )
        return key_bytes, value_bytes

    def pending(self) -> int:
        """Records queued and not yet sent."""
        return sum(len(r) for r in self._records.values())

    async def send(self) -> None:
        """Send every queued record and wait until the broker holds them all."""
        if not self._records:
            return
        records, self._records = self._records, {}
        producer = self._producer()
        waits: list[tuple[Any, TP, int, Awaitable[Any]]] = []
        for (table, partition), pairs in records.items():
            tp = TP(table.changelog_topic.get_topic_name(), partition)
            for builder, count in _filled_builders(producer, tp, pairs):
                sent = await producer.send_batch(builder, tp.topic, partition=partition)
                waits.append((table, tp, count, sent))
        results = await asyncio.gather(*(w[3] for w in waits))
        for (table, tp, count, _), meta in zip(waits, results, strict=True):
            self.sent_records += count
            self.sent_batches += 1
            table.data.set_persisted_offset(tp, meta.offset + count - 1)


def _filled_builders(
    producer: Any, tp: TP, pairs: list[tuple[bytes, bytes]]
) -> list[tuple[Any, int]]:
    """The records in order as full aiokafka BatchBuilders, each with its record count."""
    built: list[tuple[Any, int]] = []
    builder, count = producer.create_batch(), 0
    for key_bytes, value_bytes in pairs:
        if builder.append(key=key_bytes, value=value_bytes, timestamp=None) is None:
            if not count:  # not even an empty batch takes it
                raise _too_large(tp, value_bytes)
            built.append((builder, count))
            builder, count = producer.create_batch(), 0
            if builder.append(key=key_bytes, value=value_bytes, timestamp=None) is None:
                raise _too_large(tp, value_bytes)
        count += 1
    if count:
        built.append((builder, count))
    return built


def _too_large(tp: TP, value: bytes) -> RecordTooLarge:
    return RecordTooLarge(
        f"{tp.topic}/{tp.partition}: a {len(value)}-byte record does not fit one "
        "producer batch (raise producer_max_batch_size)"
    )
