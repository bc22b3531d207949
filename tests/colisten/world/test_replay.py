"""Replaying a world into the real Kafka broker: completeness, keys, order, pacing."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from colisten import names
from colisten.world import format as fmt
from colisten.world.generator import generate_world
from colisten.world.replay import replay
from tests.kafka_topics import consume_all

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The tiny world (generated once) and its events."""
    out = tmp_path_factory.mktemp("tiny")
    generate_world("tiny", 5, out, progress=False)
    return out, fmt.read_events(out)


def _check_records(records: list, expected: pd.DataFrame) -> None:
    assert len(records) == len(expected)
    by_partition: dict[int, list[int]] = defaultdict(list)
    ids: Counter[str] = Counter()
    for rec in records:
        ev = json.loads(rec.value)
        assert rec.key.decode() == ev[names.USER_ID]
        by_partition[rec.partition].append(ev[names.TS])
        ids[ev[names.EVENT_ID]] += 1
    for part, ts in by_partition.items():
        assert all(a <= b for a, b in zip(ts, ts[1:], strict=False)), part
    assert ids == Counter(expected[names.EVENT_ID])


def test_replay_everything_keyed_ordered_complete(
    tiny: tuple, kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    world, events = tiny
    topic = make_topic("replay", partitions=4)
    stats = replay(world, kafka_bootstrap, topic=topic, progress=False)
    assert stats.events == len(events)
    records = consume_all(kafka_bootstrap, topic)
    _check_records(records, events)
    assert len({r.partition for r in records}) == 4


def test_replay_until_split_sends_only_training(
    tiny: tuple, kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    world, events = tiny
    split_ms = fmt.WorldManifest.read(world).split_ms
    train = events[events[names.TS] < split_ms]
    assert 0 < len(train) < len(events)
    topic = make_topic("replay_split", partitions=4)
    stats = replay(
        world, kafka_bootstrap, topic=topic, until_ms=split_ms, progress=False
    )
    assert stats.events == len(train)
    records = consume_all(kafka_bootstrap, topic)
    _check_records(records, train)
    assert max(json.loads(r.value)[names.TS] for r in records) < split_ms


def test_replay_rate_paces_sends(
    tiny: tuple, kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    world, events = tiny
    ts = events[names.TS].to_numpy()
    since, until = int(ts[1000]), int(ts[1200])
    window = events[(events[names.TS] >= since) & (events[names.TS] < until)]
    assert len(window) >= 150
    topic = make_topic("replay_rate", partitions=4)
    stats = replay(
        world,
        kafka_bootstrap,
        topic=topic,
        rate=1000.0,
        since_ms=since,
        until_ms=until,
        progress=False,
    )
    assert stats.events == len(window)
    # the n-th send waits until start + (n - 1) / rate
    assert stats.seconds >= 0.95 * (len(window) - 1) / 1000.0
    assert stats.events_per_s <= 1000.0 * 1.05
    _check_records(consume_all(kafka_bootstrap, topic), window)
