"""Replay a world's events into Kafka in time order, keyed by user_id, batched."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds
from kafka import KafkaProducer
from rich.progress import Progress

from colisten import names
from colisten.world.format import EVENTS_SCHEMA, events_dataset

OPTIONAL = ("duration_ms", "country", "platform")


@dataclass(frozen=True)
class ReplayStats:
    """What a replay did: events sent, wall seconds, achieved rate."""

    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        """Achieved throughput."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def iter_event_payloads(
    world_dir: Path,
    since_ms: int | None = None,
    until_ms: int | None = None,
    batch_rows: int = 50_000,
) -> Iterator[tuple[bytes, bytes, int]]:
    """Yield (key, JSON value, ts) for each event with since <= ts < until, in file order."""
    dset = events_dataset(world_dir)
    flt = _filter(since_ms, until_ms)
    cols = [f.name for f in EVENTS_SCHEMA]
    for batch in dset.to_batches(columns=cols, filter=flt, batch_size=batch_rows):
        for row in batch.to_pylist():
            for opt in OPTIONAL:
                if row[opt] is None:
                    del row[opt]
            yield row[names.USER_ID].encode(), json.dumps(row).encode(), row[names.TS]


def make_producer(bootstrap: str, **overrides: object) -> KafkaProducer:
    """A batched, compressed, acknowledged, idempotent producer for replays."""
    settings: dict[str, object] = dict(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        linger_ms=20,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5,
    )
    settings.update(overrides)
    return KafkaProducer(**settings)


def replay(
    world_dir: Path,
    bootstrap: str,
    *,
    topic: str = names.INTERACTIONS_TOPIC,
    rate: float | None = None,
    speedup: float | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    progress: bool = True,
) -> ReplayStats:
    """Publish events in time order. rate paces in events per wall second; speedup replays
    event time that many times faster than real time (a simulated clock); neither: flat out."""
    total = events_dataset(world_dir).count_rows(filter=_filter(since_ms, until_ms))
    producer = make_producer(bootstrap)
    start = time.perf_counter()
    first_ts: int | None = None
    sent = 0
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"replay → {topic}", total=total)
        for key, value, ts in iter_event_payloads(world_dir, since_ms, until_ms):
            if rate:
                _sleep_until(start + sent / rate)
            elif speedup:
                first_ts = ts if first_ts is None else first_ts
                _sleep_until(start + (ts - first_ts) / 1000.0 / speedup)
            producer.send(topic, key=key, value=value)
            sent += 1
            if sent % 5000 == 0:
                bar.update(task, completed=sent)
        producer.flush()
        bar.update(task, completed=sent)
    producer.close()
    return ReplayStats(sent, time.perf_counter() - start)


def _filter(since_ms: int | None, until_ms: int | None) -> ds.Expression | None:
    flt = None
    if since_ms is not None:
        flt = ds.field("ts") >= since_ms
    if until_ms is not None:
        cond = ds.field("ts") < until_ms
        flt = cond if flt is None else flt & cond
    return flt


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
