"""ChangelogBatch: a batch's records go out as one record batch per partition, then offsets."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from stream_processors.changelog_batch import ChangelogBatch, RecordTooLarge


class FakeTopic:
    """A changelog topic that serialises as a Faust table with json keys and values."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name

    def prepare_key(self, key: Any, serializer: Any) -> tuple[bytes, None]:
        return json.dumps(key).encode(), None

    def prepare_value(self, value: Any, serializer: Any) -> tuple[bytes, None]:
        return json.dumps(value).encode(), None


@dataclass
class FakeStore:
    """Remembers the persisted offsets the batch reports."""

    persisted: dict[tuple[str, int], int] = field(default_factory=dict)

    def set_persisted_offset(self, tp: Any, offset: int) -> None:
        self.persisted[(tp.topic, tp.partition)] = offset


class FakeTable:
    """The slice of a Faust table ChangelogBatch reads."""

    key_serializer = value_serializer = "json"

    def __init__(self, name: str) -> None:
        self.changelog_topic = FakeTopic(f"{name}-changelog")
        self.data = FakeStore()


class FakeBuilder:
    """An aiokafka BatchBuilder holding at most `room` records."""

    def __init__(self, room: int) -> None:
        self.room, self.records = room, []  # type: ignore[var-annotated]

    def append(self, *, key: bytes, value: bytes, timestamp: Any) -> object | None:
        if len(self.records) >= self.room or len(value) > 100:
            return None
        self.records.append((key, value))
        return object()


class FakeProducer:
    """Assigns offsets per partition as a broker would; logs every batch sent."""

    def __init__(self, room: int = 1000) -> None:
        self.room = room
        self.sent: list[tuple[str, int, list[tuple[bytes, bytes]]]] = []
        self.log_end: dict[tuple[str, int], int] = {}

    def create_batch(self) -> FakeBuilder:
        return FakeBuilder(self.room)

    async def send_batch(
        self, batch: FakeBuilder, topic: str, *, partition: int
    ) -> Any:
        base = self.log_end.get((topic, partition), 0)
        self.log_end[(topic, partition)] = base + len(batch.records)
        self.sent.append((topic, partition, batch.records))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.set_result(type("Meta", (), {"offset": base})())
        return fut


def test_one_record_batch_per_table_and_partition_then_offsets() -> None:
    users, items = FakeTable("users"), FakeTable("items")
    producer = FakeProducer()
    batch = ChangelogBatch(lambda: producer)
    batch.add(users, 2, "u1", {"n": 1})
    batch.add(items, 0, "a1", {"p": 3})
    batch.add(users, 2, "u2", {"n": 2})
    batch.add(users, 1, "u3", {"n": 5})
    assert batch.pending() == 4 and not producer.sent  # nothing leaves before send()
    asyncio.run(batch.send())
    assert [(t, p, len(r)) for t, p, r in producer.sent] == [
        ("users-changelog", 2, 2),
        ("items-changelog", 0, 1),
        ("users-changelog", 1, 1),
    ]
    assert producer.sent[0][2] == [(b'"u1"', b'{"n": 1}'), (b'"u2"', b'{"n": 2}')]
    # the newest offset each store now holds: base + records - 1
    assert users.data.persisted == {
        ("users-changelog", 2): 1,
        ("users-changelog", 1): 0,
    }
    assert items.data.persisted == {("items-changelog", 0): 0}
    assert batch.pending() == 0 and batch.sent_records == 4 and batch.sent_batches == 3
    asyncio.run(batch.send())  # an empty send sends nothing
    assert len(producer.sent) == 3


def test_a_full_builder_is_sent_and_the_rest_goes_in_a_new_one() -> None:
    users, producer = FakeTable("users"), FakeProducer(room=2)
    batch = ChangelogBatch(lambda: producer)
    for i in range(5):
        batch.add(users, 0, f"u{i}", i)
    asyncio.run(batch.send())
    assert [len(r) for _, _, r in producer.sent] == [2, 2, 1]
    keys = [k for _, _, recs in producer.sent for k, _ in recs]
    assert keys == [f'"u{i}"'.encode() for i in range(5)]  # order kept
    assert users.data.persisted == {("users-changelog", 0): 4}


def test_a_record_larger_than_a_batch_is_a_clear_error() -> None:
    users, producer = FakeTable("users"), FakeProducer()
    batch = ChangelogBatch(lambda: producer)
    batch.add(users, 0, "u1", "x" * 200)
    with pytest.raises(RecordTooLarge, match="users-changelog/0"):
        asyncio.run(batch.send())
