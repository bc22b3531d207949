"""Kafka round trip with kafka-python: keys and per-partition order survive."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

pytestmark = pytest.mark.integration


def test_produce_and_consume_1000_events(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic("roundtrip", partitions=4)
    producer = KafkaProducer(
        bootstrap_servers=kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )
    sent: dict[str, list[int]] = defaultdict(list)
    for seq in range(1000):
        user = f"user-{seq % 37}"
        producer.send(topic, key=user.encode(), value=f"{user}:{seq}".encode())
        sent[user].append(seq)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
    )
    parts = [TopicPartition(topic, p) for p in range(4)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    got: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    offsets: dict[int, list[int]] = defaultdict(list)
    count = 0
    for record in consumer:
        user = record.key.decode()
        value_user, seq = record.value.decode().split(":")
        assert value_user == user
        got[user].append(int(seq))
        partition_of[user].add(record.partition)
        offsets[record.partition].append(record.offset)
        count += 1
        if count == 1000:
            break
    consumer.close()

    assert count == 1000
    assert got == sent, "per-key order (hence per-partition order) must be preserved"
    assert all(len(p) == 1 for p in partition_of.values()), (
        "a key must stay on one partition"
    )
    assert len({next(iter(p)) for p in partition_of.values()}) == 4, (
        "keys spread over partitions"
    )
    for offs in offsets.values():
        assert offs == sorted(offs)
