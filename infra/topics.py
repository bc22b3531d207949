"""Kafka topic administration with kafka-python's admin client: topics are created by code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from colisten import names
from colisten.settings import kafka_bootstrap, settings


@dataclass(frozen=True)
class TopicSpec:
    """A topic colisten owns: name, partitions and config."""

    name: str
    partitions: int
    config: dict[str, str]


def colisten_topics(partitions: int | None = None) -> list[TopicSpec]:
    """Every topic the pipeline needs (the stream worker's own changelogs excepted)."""
    n = partitions or settings().partitions
    keep = {"retention.ms": "-1", "retention.bytes": "-1"}
    return [
        TopicSpec(names.INTERACTIONS_TOPIC, n, keep),
        TopicSpec(names.INTERACTIONS_DLQ_TOPIC, 1, keep),
        TopicSpec(names.COLISTEN_PAIRS_TOPIC, n, keep),
    ]


def ensure_topics(
    specs: list[TopicSpec] | None = None, bootstrap: str | None = None
) -> dict[str, int]:
    """Create missing topics; return {topic: partitions} as the broker reports them."""
    specs = specs if specs is not None else colisten_topics()
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap or kafka_bootstrap(), client_id="colisten-admin"
    )
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(s.name, s.partitions, 1, topic_configs=s.config)
            for s in specs
            if s.name not in existing
        ]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
        described = admin.describe_topics([s.name for s in specs])
        return {d["name"]: len(d["partitions"]) for d in described}
    finally:
        admin.close()


def reset_topics(
    specs: list[TopicSpec] | None = None,
    bootstrap: str | None = None,
    timeout_s: float = 60.0,
) -> dict[str, int]:
    """Delete and recreate topics (empty), waiting for the deletion to complete."""
    import time

    specs = specs if specs is not None else colisten_topics()
    wanted = {s.name for s in specs}
    delete_topics(sorted(wanted), bootstrap)
    deadline = time.monotonic() + timeout_s
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap or kafka_bootstrap(), client_id="colisten-admin"
    )
    try:
        while wanted & set(admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics {sorted(wanted)} still listed after delete")
            time.sleep(0.2)
    finally:
        admin.close()
    while True:
        try:
            return ensure_topics(specs, bootstrap)
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def delete_topics(topics: list[str], bootstrap: str | None = None) -> None:
    """Delete topics that exist (used by tests and `colisten topics reset`)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap or kafka_bootstrap(), client_id="colisten-admin"
    )
    try:
        present = [t for t in topics if t in set(admin.list_topics())]
        if present:
            admin.delete_topics(present)
    finally:
        admin.close()


def committed_offsets(admin: KafkaAdminClient, group: str) -> dict[Any, Any]:
    """The group's committed offsets; none while its coordinator is not ready yet.

    A fresh broker creates `__consumer_offsets` on the first coordinator lookup, and
    answers that lookup (and a few more) with a retriable error until the topic is up:
    until then nothing the group committed can be read, so nothing is reported.
    """
    try:
        return admin.list_group_offsets(group).get(group, {})  # type: ignore[no-any-return]
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return {}


def group_progress(
    group: str, topics: list[str], bootstrap: str | None = None
) -> dict[str, tuple[int, int]]:
    """Per topic, (committed, end) offsets summed over partitions, for a consumer group."""
    from kafka import KafkaConsumer, TopicPartition

    bootstrap = bootstrap or kafka_bootstrap()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = committed_offsets(admin, group)
        out: dict[str, tuple[int, int]] = {}
        for topic in topics:
            parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            ends = consumer.end_offsets(tps) if tps else {}
            done = sum(
                max(0, got.offset)
                for tp in tps
                if (got := committed.get(tp)) is not None
            )
            out[topic] = (done, int(sum(ends.values())))
        return out
    finally:
        consumer.close()
        admin.close()
