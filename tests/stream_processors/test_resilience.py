"""The stream worker under stress: hostile input, SIGKILLs, two workers, window expiry."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from colisten.timeunits import DAY_MS as DAY
from colisten.world.format import read_events
from colisten.world.generator import generate_world
from colisten.world.replay import make_producer
from feature_repo.config import FeatureStoreConfig
from infra.processes import wait_for
from infra.service_config import ServicesConfig
from infra.services import kafka_status
from infra.topics import group_progress
from stream_processors.clock import partition_of
from stream_processors.reference import expected_views
from stream_processors.verify import diff_views, read_online
from tests.stream_processors.harness import WorkerRig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "small"
    generate_world("small", 5, out, progress=False)
    return out


@pytest.fixture
def table_store() -> str:
    """The workers' table store (tests parametrize it to run on both)."""
    return "memory://"


@pytest.fixture
def rig(
    make_topic: Callable[..., str], tmp_path: Path, table_store: str
) -> Iterator[WorkerRig]:
    """Fresh topics and a SQLite store; every worker it started is stopped afterwards."""
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    rig = WorkerRig.create(make_topic, cfg, tmp_path, table_store=table_store)
    yield rig
    rig.stop_all()


def _wait_equal(rig: WorkerRig, expected: dict[str, object], timeout_s: float) -> None:
    last: list[str] = []

    def check() -> bool:
        rig.assert_alive()
        store = rig.store()
        try:
            last[:] = diff_views(store, expected)
        except sqlite3.OperationalError as exc:  # the worker holds the write lock
            last[:] = [f"store busy: {exc}"]
        return not last

    try:
        wait_for(
            check,
            timeout_s=timeout_s,
            interval_s=2,
            what="reference equality",
            context=rig.tails,
        )
    except TimeoutError as exc:
        # offsets last: a committed offset short of the end is a stall, an equal one a loss
        raise AssertionError("\n".join([str(exc), *last, rig.progress()])) from exc


def _replay_frame(
    bootstrap: str,
    topic: str,
    events: pd.DataFrame,
    rate: float | None = None,
    hostile: list[bytes] | None = None,
) -> None:
    producer = make_producer(bootstrap)
    hostile = list(hostile or [])
    rng = random.Random(3)
    every = max(1, len(events) // max(1, len(hostile))) if hostile else 0
    start = time.perf_counter()
    for i, row in enumerate(events.to_dict("records")):
        for opt in ("duration_ms", "country", "platform"):
            if row.get(opt) is None or (
                isinstance(row[opt], float) and pd.isna(row[opt])
            ):
                row.pop(opt, None)
        if "duration_ms" in row:
            row["duration_ms"] = int(row["duration_ms"])
        producer.send(
            topic, key=row["user_id"].encode(), value=json.dumps(row).encode()
        )
        if every and i % every == 0 and hostile:
            producer.send(
                topic, key=b"u-hostile-%d" % rng.randrange(10), value=hostile.pop()
            )
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    for rest in hostile:
        producer.send(topic, key=b"u-hostile", value=rest)
    producer.flush()
    producer.close()


def _hostile(n: int) -> list[bytes]:
    """n invalid events of many kinds."""
    good = {
        "event_id": str(uuid.uuid4()),
        "user_id": "u1",
        "item_id": "a000001",
        "item_type": "audiobook",
        "event_type": "follow",
        "ts": 1_767_600_000_000,
    }
    kinds: list[Callable[[int], bytes]] = [
        lambda i: b"{not json %d" % i,
        lambda i: json.dumps({**good, "ts": "yesterday", "n": i}).encode(),
        lambda i: json.dumps(
            {k: v for k, v in good.items() if k != "user_id"}
        ).encode(),
        lambda i: json.dumps({**good, "event_type": "purchase"}).encode(),
        lambda i: json.dumps({**good, "ts": 4_102_444_800_000 + i}).encode(),
        lambda i: json.dumps({**good, "user_id": "x" * 9000}).encode(),
        lambda i: json.dumps([good]).encode(),
        lambda i: json.dumps({**good, "event_id": "not-a-uuid"}).encode(),
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def _dlq(bootstrap: str, topic: str) -> list[dict[str, object]]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    out = [json.loads(r.value) for r in consumer]
    consumer.close()
    return out


def test_hostile_events_go_to_the_dlq_and_valid_ones_all_count(
    small_world: Path, kafka_bootstrap: str, rig: WorkerRig
) -> None:
    events = read_events(small_world).head(10_000)
    rig.start()
    _replay_frame(kafka_bootstrap, rig.interactions, events, hostile=_hostile(1000))
    _wait_equal(rig, expected_views(events, rig.partitions), 300)
    dead = _dlq(kafka_bootstrap, rig.dlq)
    assert len(dead) == 1000
    assert all(d["reasons"] and d["reasons"][0]["code"] for d in dead)
    codes = {r["code"] for d in dead for r in d["reasons"]}
    assert {
        "invalid_json",
        "wrong_type",
        "missing_field",
        "unknown_event_type",
        "ts_in_future",
        "payload_too_large",
        "not_an_object",
        "invalid_uuid",
    } <= codes
    assert rig.workers[0].alive()


@pytest.mark.parametrize("table_store", ["memory://", "rocksdb://"])
def test_sigkill_five_times_during_replay_loses_and_doubles_nothing(
    small_world: Path, kafka_bootstrap: str, rig: WorkerRig
) -> None:
    events = read_events(small_world).head(50_000)
    assert len(events) == 50_000
    feeder = threading.Thread(
        target=_replay_frame, args=(kafka_bootstrap, rig.interactions, events, 1500.0)
    )
    worker = rig.start("kill")
    feeder.start()
    rng = random.Random(17)
    try:
        for _ in range(5):
            time.sleep(rng.uniform(3.0, 9.0))
            worker.kill()
            worker = rig.start("kill")
        feeder.join()
        expected = expected_views(events, rig.partitions)
        _wait_equal(rig, expected, 600)  # every view exact after five kills
    finally:
        feeder.join(timeout=1)


@pytest.mark.parametrize("table_store", ["memory://", "rocksdb://"])
def test_two_workers_share_partitions_and_agree_with_one(
    small_world: Path, kafka_bootstrap: str, rig: WorkerRig
) -> None:
    events = read_events(small_world).head(10_000)
    rig.start("a")
    rig.start("b")
    _replay_frame(kafka_bootstrap, rig.interactions, events)
    _wait_equal(rig, expected_views(events, rig.partitions), 300)
    assert all(w.alive() for w in rig.workers)


def test_a_worker_joins_then_leaves_during_a_replay_and_counts_stay_exact(
    small_world: Path, kafka_bootstrap: str, rig: WorkerRig
) -> None:
    """Two rebalances under load: b joins mid-replay, later leaves; a takes all back."""
    events = read_events(small_world).head(20_000)
    feeder = threading.Thread(
        target=_replay_frame, args=(kafka_bootstrap, rig.interactions, events, 1000.0)
    )
    rig.start("a")
    feeder.start()
    try:
        time.sleep(5.0)  # a is folding when b joins
        second = rig.start("b")
        wait_for(
            lambda: "Worker ready" in second.log_path.read_text(errors="replace"),
            120,
            0.5,
            "worker b took partitions",
            context=rig.tails,
        )
        time.sleep(3.0)  # b folds its share for a while, then leaves
        assert rig.retire(second) == 0, rig.tails()
        feeder.join()
        _wait_equal(rig, expected_views(events, rig.partitions), 300)
        assert rig.workers[0].alive()
    finally:
        feeder.join(timeout=1)


def test_sigusr1_logs_what_the_consumer_is_doing(rig: WorkerRig) -> None:
    """The stall diagnostics: assignment, flow, positions and task stacks in the log."""
    worker = rig.start()
    log_text = lambda: worker.log_path.read_text(errors="replace")  # noqa: E731
    wait_for(lambda: "Worker ready" in log_text(), 120, 0.5, "worker ready", rig.tails)
    # the handler is installed by an app task, which says so (before that, USR1 kills)
    wait_for(lambda: "dumps the consumer state" in log_text(), 60, 0.2, "handler")
    os.kill(worker.pid, signal.SIGUSR1)
    wait_for(lambda: "task stacks" in log_text(), 30, 0.2, "dump", rig.tails)
    line = next(ln for ln in log_text().splitlines() if "diagnostics: {" in ln)
    snap = json.loads(line.split("diagnostics: ", 1)[1])
    assert snap["flow_active"] and not snap["rebalancing"]
    assigned = {tp for tp in snap["partitions"] if tp.startswith(rig.interactions)}
    assert assigned == {f"{rig.interactions}/{p}" for p in range(rig.partitions)}
    assert snap["producer"]["sender_task"] == "running"
    assert worker.alive()


def test_a_paused_broker_is_logged_as_a_producer_stall_and_loses_nothing(
    small_world: Path, services: ServicesConfig, rig: WorkerRig
) -> None:
    """The broker freezes (SIGSTOP) mid-replay: the worker logs what its producer holds
    unacknowledged (producer_watch.py), then, the broker back, every view is exact."""
    events = read_events(small_world).head(40_000)
    broker = kafka_status(services).pid
    assert broker is not None
    worker = rig.start(COLISTEN_STREAM_PRODUCER_STALL_S="2")
    _replay_frame(services.kafka_bootstrap, rig.interactions, events)

    def folding() -> bool:  # committed some, far from the end: the worker is busy
        rig.assert_alive()
        done, end = group_progress(rig.app_id, [rig.interactions])[rig.interactions]
        return 0 < done < end - 20_000

    wait_for(folding, 180, 0.2, "worker folding the backlog", rig.tails)
    os.kill(broker, signal.SIGSTOP)
    try:
        wait_for(
            lambda: (
                "producer stalled: {" in worker.log_path.read_text(errors="replace")
            ),
            30,
            0.2,
            "the producer stall logged",
            rig.tails,
        )
    finally:
        os.kill(broker, signal.SIGCONT)
    line = next(
        ln
        for ln in worker.log_path.read_text(errors="replace").splitlines()
        if "producer stalled: {" in ln
    )
    snap = json.loads(line.split("producer stalled: ", 1)[1])
    assert snap["stalls"] == 1 and snap["oldest_age_s"] > 2
    assert snap["queued_total"] + snap["sent_unanswered_total"] >= 1
    assert snap["sender_task"] == "running"
    _wait_equal(rig, expected_views(events, rig.partitions), 300)
    assert worker.alive()


def test_counts_expire_as_the_event_time_clock_moves_on(
    kafka_bootstrap: str, rig: WorkerRig
) -> None:
    t0 = 1_767_600_000_000
    base = {"item_type": "audiobook", "item_id": "a1"}
    early = [
        {
            **base,
            "event_id": str(uuid.uuid4()),
            "user_id": "early",
            "event_type": "follow",
            "ts": t0,
        }
    ]
    # one later user per partition: the simulated clock reaches every partition
    later_users: dict[int, str] = {}
    i = 0
    while len(later_users) < rig.partitions:
        later_users.setdefault(partition_of(f"late{i}", rig.partitions), f"late{i}")
        i += 1
    late = [
        {
            **base,
            "event_id": str(uuid.uuid4()),
            "user_id": u,
            "event_type": "preview",
            "ts": t0 + 100 * DAY,
        }
        for u in later_users.values()
    ]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    rig.start()
    try:
        for e in early:
            producer.send(
                rig.interactions,
                key=e["user_id"].encode(),
                value=json.dumps(e).encode(),
            )
        producer.flush()

        def follows() -> int | None:
            got = read_online(rig.store(), "user_weak_signals", ["early"])
            value = got.loc["early", "follow_audiobook_90d"]
            return None if pd.isna(value) else int(value)

        wait_for(lambda: follows() == 1, 120, 0.5, "the follow is counted")
        for e in late:
            producer.send(
                rig.interactions,
                key=e["user_id"].encode(),
                value=json.dumps(e).encode(),
            )
        producer.flush()
        wait_for(lambda: follows() == 0, 60, 0.5, "the follow expired 90 days later")
        recent = read_online(rig.store(), "user_recent_items", ["early"])
        assert list(recent.loc["early", "recent_audiobooks"]) == []
    finally:
        producer.close()
