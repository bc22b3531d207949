"""consume_all: every record of a real Kafka topic, read from the beginning to its end."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition


def consume_all(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list:
    """Every record of `topic`, read from the beginning of each partition to its end."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
    )
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        records: list = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in parts):
            assert time.monotonic() < deadline, "timed out consuming the topic"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()
