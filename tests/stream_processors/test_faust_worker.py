"""A real Faust worker: Kafka → table → Feast; a restart resumes from committed offsets."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from infra.processes import ManagedProcess, wait_for
from tests.kafka_topics import consume_all

pytestmark = pytest.mark.integration
T0 = 1_767_600_000_000


def _events(n: int, start: int) -> list[dict[str, object]]:
    return [
        {
            "event_id": str(uuid.uuid4()),
            "user_id": f"u{i % 7}",
            "item_id": "a1",
            "item_type": "audiobook",
            "event_type": "follow",
            "ts": T0 + start + i,
        }
        for i in range(n)
    ]


def _produce(
    bootstrap: str, topic: str, events: list[dict[str, object]], bad: int = 0
) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for e in events:
        producer.send(
            topic, key=str(e["user_id"]).encode(), value=json.dumps(e).encode()
        )
    for i in range(bad):
        producer.send(topic, key=b"u0", value=b"{broken json " + str(i).encode())
    producer.flush()
    producer.close()


def _follows(store_cfg: FeatureStoreConfig) -> int:
    store = open_store(store_cfg)
    got = store.get_online_features(
        features=["user_weak_signals:follow_audiobook_90d"],
        entity_rows=[{"user_id": f"u{i}"} for i in range(7)],
    ).to_dict()
    return sum(v or 0 for v in got["follow_audiobook_90d"])


def _dlq_count(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tp = TopicPartition(topic, 0)
    end = consumer.end_offsets([tp])[tp]
    consumer.close()
    return int(end)


def test_worker_writes_table_to_feast_and_resumes(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic, dlq, pairs = (
        make_topic("in", 4),
        make_topic("dlq", 1),
        make_topic("pairs", 4),
    )
    app_id = f"colisten-test-{uuid.uuid4().hex[:8]}"
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    env = {
        "COLISTEN_FEAST_DIR": str(store_cfg.data_dir),
        "COLISTEN_ONLINE_STORE": "sqlite",
        "COLISTEN_STREAM_APP_ID": app_id,
        "COLISTEN_STREAM_INTERACTIONS_TOPIC": topic,
        "COLISTEN_STREAM_DLQ_TOPIC": dlq,
        "COLISTEN_STREAM_PAIRS_TOPIC": pairs,
        "COLISTEN_STREAM_DATA_DIR": str(tmp_path / "stream"),
        "COLISTEN_STREAM_LOGLEVEL": "info",
    }

    apply_definitions(open_store(store_cfg), store_cfg)
    _produce(kafka_bootstrap, topic, _events(300, 0), bad=5)
    worker = ManagedProcess.python_module(
        "stream_processors", tmp_path / "w1.log", env=env
    )
    try:
        wait_for(
            lambda: _follows(store_cfg) == 300,
            240,
            0.5,
            "first 300 follows",
            context=lambda: f"follows={_follows(store_cfg)}\n{worker.tail(60)}",
        )
        wait_for(
            lambda: _dlq_count(kafka_bootstrap, dlq) == 5, 30, 0.5, "5 dead letters"
        )
    finally:
        assert worker.stop() is not None

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    committed = admin.list_group_offsets(app_id)[app_id]
    admin.close()
    assert sum(o.offset for tp, o in committed.items() if tp.topic == topic) == 305
    # the users' states went out as record batches (changelog_batch.py) in Faust's
    # format: every user has a JSON state; the restart below restores from them
    changelog = consume_all(kafka_bootstrap, f"{app_id}-users-changelog")
    # a key lives in one partition, read in order: the last record is its state
    states = {r.key.decode().strip('"'): json.loads(r.value) for r in changelog}
    assert set(states) == {f"u{i}" for i in range(7)}
    assert all(isinstance(v, dict) and v for v in states.values())

    _produce(kafka_bootstrap, topic, _events(200, 10_000))
    worker = ManagedProcess.python_module(
        "stream_processors", tmp_path / "w2.log", env=env
    )
    try:
        wait_for(
            lambda: _follows(store_cfg) == 500,
            240,
            0.5,
            "all 500 follows",
            context=lambda: f"follows={_follows(store_cfg)}\n{worker.tail(60)}",
        )
        time.sleep(3)  # anything re-read from the start would show up by now
        assert _follows(store_cfg) == 500
        assert _dlq_count(kafka_bootstrap, dlq) == 5, "restart re-read old offsets"
    finally:
        worker.stop()
