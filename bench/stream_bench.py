"""Stream worker benchmarks: throughput vs a bare consumer, freshness under load, peak RSS.

    python bench/stream_bench.py --scale small [--events N] [--online sqlite|redis]
                                 [--workers N] [--world DIR] [--table-store URL]

Throughput: the world's events are produced to a fresh topic first; then (1) a bare
kafka-python loop that only deserialises the JSON consumes the topic, and (2) one stream
worker (or `--workers N` in one consumer group) consumes it until the group's committed
offsets reach the end of both its input topics and the online store holds the newest
event of every partition. Both rates come from the same
run. Freshness: with the worker caught up and a background load (default 5k events/s)
going, probe follows are produced and the time until the online store shows each one is
measured. Peak RSS of the (first) worker is sampled every 0.2 s. Needs the local services
(`colisten services up`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colisten.settings import kafka_bootstrap  # noqa: E402
from colisten.world.format import read_events  # noqa: E402
from colisten.world.generator import generate_world  # noqa: E402
from colisten.world.replay import iter_event_payloads, make_producer  # noqa: E402
from feature_repo.config import FeatureStoreConfig  # noqa: E402
from infra.topics import (  # noqa: E402
    TopicSpec,
    committed_offsets,
    delete_topics,
    ensure_topics,
)
from stream_processors.verify import read_online  # noqa: E402
from tests.stream_processors.harness import WorkerRig  # noqa: E402


def _topic(prefix: str, partitions: int) -> str:
    name = f"bench.{prefix}.{uuid.uuid4().hex[:8]}"
    ensure_topics([TopicSpec(name, partitions, {})])
    return name


def produce_world(world: Path, topic: str, limit: int | None) -> tuple[int, float]:
    """Produce the world's events (time order, keyed by user); return (count, seconds)."""
    producer = make_producer(kafka_bootstrap())
    start, n = time.perf_counter(), 0
    for key, value, _ in iter_event_payloads(world):
        producer.send(topic, key=key, value=value)
        n += 1
        if limit and n >= limit:
            break
    producer.flush()
    producer.close()
    return n, time.perf_counter() - start


def bare_consume(topic: str, total: int) -> float:
    """Events/s of a kafka-python loop that only deserialises the JSON values."""
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap(),
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    start, n = time.perf_counter(), 0
    while n < total:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                json.loads(record.value)
                n += 1
    consumer.close()
    return total / (time.perf_counter() - start)


def caught_up(rig: WorkerRig, admin: KafkaAdminClient, consumer: KafkaConsumer) -> bool:
    """True when the worker's group committed the end offsets of both input topics."""
    committed = committed_offsets(admin, rig.app_id)
    for topic in (rig.interactions, rig.pairs):
        tps = [TopicPartition(topic, p) for p in range(rig.partitions)]
        for tp, end in consumer.end_offsets(tps).items():
            got = committed.get(tp)
            if end and (got is None or got.offset < end):
                return False
    return True


def consumed(rig: WorkerRig, admin: KafkaAdminClient) -> int:
    """How many interactions the worker's group has committed so far."""
    committed = committed_offsets(admin, rig.app_id)
    return sum(
        meta.offset
        for tp, meta in committed.items()
        if tp.topic == rig.interactions and meta.offset > 0
    )


class RssSampler(threading.Thread):
    """Samples the RSS of a process and its children every 0.2 s (their sum's peak), and
    keeps each process's own peak (VmHWM, kept by the kernel, so no sampling misses it;
    their sum bounds the combined peak from above). Reads the process's own CPU time
    (user + system, children not included) on demand."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc, self.peak, self.last, self.running = psutil.Process(pid), 0, 0, True
        self.hwm: dict[int, int] = {}
        """Each process's own peak RSS in bytes, by pid, as last read."""

    @property
    def hwm_sum(self) -> int:
        """The sum of the processes' own peaks: an upper bound of the combined peak."""
        return sum(self.hwm.values())

    def run(self) -> None:
        while self.running:
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs)
                self.peak, self.last = max(self.peak, rss), rss
            except psutil.Error:
                return
            for p in procs:
                try:
                    status = Path(f"/proc/{p.pid}/status").read_text()
                except OSError:  # exited meanwhile: its last reading stands
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.hwm[p.pid] = int(line.split()[1]) * 1024
            time.sleep(0.2)

    def cpu_s(self) -> float:
        """CPU seconds the process itself has used so far."""
        times = self.proc.cpu_times()
        return float(times.user + times.system)


def freshness(
    rig: WorkerRig, world: Path, probes: int, load_rate: float, after: int
) -> list[float]:
    """Seconds from producing a follow to reading it online, under a background load.

    The load replays the world's events that follow the `after` already consumed (new
    ids), so event time moves on as in live traffic; once the world is used up, its last
    200k events. Replaying a far later stretch would make the worker expire its whole
    window while it is being probed.
    """
    stop = threading.Event()
    events = read_events(world)
    later = events.iloc[after : after + 200_000]
    events = later if not later.empty else events.tail(200_000)
    payloads = [
        json.dumps({k: v for k, v in r.items() if v is not None and v == v})
        for r in events.to_dict("records")
    ]

    def background() -> None:
        producer = make_producer(kafka_bootstrap(), linger_ms=5)
        start, i = time.perf_counter(), 0
        while not stop.is_set():
            row = json.loads(payloads[i % len(payloads)])
            row["event_id"] = str(uuid.uuid4())
            producer.send(
                rig.interactions,
                key=row["user_id"].encode(),
                value=json.dumps(row).encode(),
            )
            i += 1
            delay = start + i / load_rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        producer.close()

    loader = threading.Thread(target=background, daemon=True)
    loader.start()
    producer = make_producer(kafka_bootstrap(), linger_ms=0)
    store = rig.store()
    t_base = int(events["ts"].max()) + 1
    out: list[float] = []
    for i in range(probes):
        user = f"probe-{i % 20}"
        ts = t_base + i
        event = {
            "event_id": str(uuid.uuid4()),
            "user_id": user,
            "item_id": "a000001",
            "item_type": "audiobook",
            "event_type": "follow",
            "ts": ts,
        }
        sent = time.perf_counter()
        producer.send(
            rig.interactions, key=user.encode(), value=json.dumps(event).encode()
        )
        producer.flush()
        while True:
            got = read_online(store, "user_weak_signals", [user])
            if got.loc[user, "last_event_ms"] == ts:
                out.append(time.perf_counter() - sent)
                break
            if time.perf_counter() - sent > 30:
                out.append(float("inf"))
                break
            time.sleep(0.005)
        time.sleep(0.05)
    stop.set()
    producer.close()
    return out


def main() -> None:
    """Run the benchmarks and print a markdown summary."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="small")
    ap.add_argument(
        "--world", type=Path, default=None, help="an existing world (seed 7) to replay"
    )
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--online", default="sqlite", choices=["sqlite", "redis"])
    ap.add_argument(
        "--probes", type=int, default=100, help="freshness probes (0: throughput only)"
    )
    ap.add_argument("--load", type=float, default=5000.0)
    ap.add_argument(
        "--workers", type=int, default=1, help="worker processes (peak RSS: the first)"
    )
    ap.add_argument(
        "--table-store", default="rocksdb://", choices=["memory://", "rocksdb://"]
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="stream-bench-"))
    try:
        _bench(args, tmp)
    finally:  # the world and the stores: ~0.1 GiB on small, GiBs on large
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(args: argparse.Namespace, tmp: Path) -> None:
    """Generate the world under tmp, replay it through the worker, print the figures."""
    world = args.world or tmp / "world"
    if args.world is None:
        generate_world(args.scale, 7, world, progress=False)
    cfg = FeatureStoreConfig(online=args.online, data_dir=tmp / "feast")
    if args.online == "redis":
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=5).flushdb()
        cfg = FeatureStoreConfig(
            online="redis",
            data_dir=tmp / "feast",
            redis_connection="127.0.0.1:6379,db=5",
        )
    rig = WorkerRig.create(_topic, cfg, tmp, table_store=args.table_store)
    n, produce_s = produce_world(world, rig.interactions, args.events)
    bare = bare_consume(rig.interactions, n)

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap())
    started = time.perf_counter()
    worker = rig.start("bench")
    for extra in range(1, args.workers):  # one group: the workers split the partitions
        rig.start(f"bench{extra}")
    rss = RssSampler(worker.pid)
    rss.start()
    first_progress, first_cpu = None, 0.0
    next_report = started + 60
    while not caught_up(rig, admin, consumer):
        if time.perf_counter() >= next_report:
            next_report += 60
            print(
                f"  {time.perf_counter() - started:5.0f} s: "
                f"{consumed(rig, admin):,} events committed, RSS "
                f"{rss.last / 2**30:.2f} GiB (peak {rss.peak / 2**30:.2f}, "
                f"sum of process peaks {rss.hwm_sum / 2**30:.2f})",
                flush=True,
            )
        if first_progress is None and committed_offsets(admin, rig.app_id):
            first_progress, first_cpu = time.perf_counter(), rss.cpu_s()
        rig.assert_alive()
        time.sleep(0.5)
    done, done_cpu = time.perf_counter(), rss.cpu_s()
    worker_rate = n / (done - (first_progress or started))
    # the (first) worker process's CPU per event from its first commit to caught up:
    # less sensitive than the rate to what else runs on a shared machine
    one = first_progress is not None and args.workers == 1
    cpu_us = (done_cpu - first_cpu) / n * 1e6 if one else float("nan")
    print(
        f"throughput: {n} events, worker {worker_rate:,.0f} ev/s, bare {bare:,.0f} ev/s, "
        f"producer {n / produce_s:,.0f} ev/s, wall {done - started:.1f}s, "
        f"worker CPU {cpu_us:,.0f} us/event",
        flush=True,
    )
    fresh = freshness(rig, world, args.probes, args.load, n) if args.probes else []
    rss.running = False
    rig.stop_all()
    delete_topics([rig.interactions, rig.dlq, rig.pairs])
    if not fresh:
        print(
            f"worker peak RSS {rss.peak / 2**30:.2f} GiB, sum of its processes' own "
            f"peaks {rss.hwm_sum / 2**30:.2f} GiB (freshness not measured)"
        )
        return

    q = statistics.quantiles(fresh, n=100)
    print(
        f"| metric | value |\n|---|---|\n"
        f"| events | {n:,} ({args.scale}) |\n"
        f"| producer (replay) | {n / produce_s:,.0f} events/s |\n"
        f"| bare kafka-python consume + json | {bare:,.0f} events/s |\n"
        f"| worker, both stages, {args.online}, tables {args.table_store} | "
        f"{worker_rate:,.0f} events/s "
        f"({worker_rate / bare:.1%} of bare) |\n"
        f"| worker wall incl. start-up | {done - started:.1f} s |\n"
        f"| freshness p50 / p99 ({args.probes} follows, {args.load:,.0f} ev/s load) | "
        f"{statistics.median(fresh) * 1000:.0f} ms / {q[98] * 1000:.0f} ms |\n"
        f"| worker peak RSS (sum of its processes' own peaks) | "
        f"{rss.peak / 2**30:.2f} GiB ({rss.hwm_sum / 2**30:.2f} GiB) |"
    )


if __name__ == "__main__":
    main()
