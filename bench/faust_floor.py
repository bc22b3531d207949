"""How fast faust-streaming itself consumes here: the ceiling for any Faust stream worker.

    python bench/faust_floor.py --world DIR [--events 200000] [--rounds 3]

Produces the world's first N events to a fresh 4-partition topic, then alternates, in one
run: (1) a bare kafka-python loop that deserialises the JSON (the issue's reference),
(2) a Faust app with the stream worker's settings whose one agent takes batches with
`take_batches` exactly as stage 1 does and only decodes the JSON ("floor"), and (3) the
same plus one write per event to a memory-store Faust table (its changelog send is what
every stateful worker pays), and (4) the same writes with their changelog records sent
once per batch as one Kafka record batch per partition (`changelog_batch.py`, what the
worker does). Each Faust run is a fresh process and consumer group; its
rate counts from the first to the last event, so start-up and group join are excluded.
Needs the local services (`colisten services up`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("floor", "table", "batched")
"""Faust runs: decode only; + a table write per event; + the same, changelog per batch."""
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def serve(topic: str, total: int, out: Path, mode: str, partitions: int) -> None:
    """Run the floor app in this process; write its timing to `out` once `total` arrived."""
    import faust
    from mode.supervisors import CrashingSupervisor

    from stream_processors.app import faust_settings
    from stream_processors.batching import safe_highwater, take_batches
    from stream_processors.changelog_batch import (
        ChangelogBatch,
        faust_aiokafka_producer,
    )
    from stream_processors.config import StreamConfig
    from stream_processors.producer_buffer import use_draining_buffer
    from stream_processors.working_set import put_with_partition, set_in_store

    app_id = f"colisten-floor-{uuid.uuid4().hex[:8]}"
    cfg = StreamConfig.from_env(  # the floor's table is a memory one, as documented
        app_id=app_id, data_dir=out.parent / "faust", store="memory://"
    )
    app = faust.App(app_id, **faust_settings(cfg))
    use_draining_buffer(app)  # the worker's producer buffer (max_messages 5000)
    source = app.topic(
        topic, partitions=partitions, key_serializer="raw", value_serializer="raw"
    )
    counts = app.Table("floor_counts", default=int, partitions=partitions)
    seen = {"n": 0, "first": 0.0}
    changelog = ChangelogBatch(faust_aiokafka_producer(app))

    @app.agent(source, supervisor_strategy=CrashingSupervisor)
    async def floor(stream: faust.StreamT) -> None:
        async for batch in take_batches(  # the worker's batching (batching.py)
            stream, cfg.batch_window, safe_highwater(app.consumer)
        ):
            if not seen["n"]:
                seen["first"] = time.perf_counter()
            for event in batch:
                value = json.loads(event.value)
                if mode == "table":  # one changelog send per write, explicit partition
                    put_with_partition(
                        counts, value["user_id"], seen["n"], event.message.partition
                    )
                elif mode == "batched":  # the worker's way: records sent per batch
                    set_in_store(
                        counts, value["user_id"], seen["n"], event.message.partition
                    )
                    changelog.add(
                        counts, event.message.partition, value["user_id"], seen["n"]
                    )
            await changelog.send()
            seen["n"] += len(batch)
            if seen["n"] >= total:
                took = time.perf_counter() - seen["first"]
                out.write_text(json.dumps({"events": seen["n"], "seconds": took}))

    sys.argv = ["faust-floor", "worker", "--loglevel", "warn", "--without-web"]
    app.main()


def faust_rate(topic: str, total: int, mode: str, partitions: int) -> float:
    """Events/s of one fresh floor process over the whole topic."""
    tmp = Path(tempfile.mkdtemp(prefix="faust-floor-"))
    out = tmp / "result.json"
    cmd = [sys.executable, __file__, "--serve", topic, "--events", str(total)]
    cmd += ["--out", str(out), "--partitions", str(partitions)]
    cmd += ["--mode", mode]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 1800
        while not out.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"floor app exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("floor app did not finish in 30 min")
            time.sleep(0.2)
        time.sleep(0.2)
        result = json.loads(out.read_text())
    finally:
        proc.kill()
        proc.wait()
    return float(result["events"]) / float(result["seconds"])


def main() -> None:
    """Produce once, then alternate bare / Faust floor / Faust + table; print a table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", type=Path)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--serve")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--mode", default="floor", choices=MODES)
    ap.add_argument(
        "--only", default=",".join(("bare", *MODES)), help="comma list of runs"
    )
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.events, args.out, args.mode, args.partitions)
        return

    from stream_bench import _topic, bare_consume, produce_world

    from infra.topics import delete_topics

    topic = _topic("floor", args.partitions)
    n, produce_s = produce_world(args.world, topic, args.events)
    print(f"produced {n:,} events at {n / produce_s:,.0f} ev/s", flush=True)
    runs: dict[str, list[float]] = {name: [] for name in args.only.split(",")}
    try:
        for r in range(args.rounds):
            for name in runs:
                rate = (
                    bare_consume(topic, n)
                    if name == "bare"
                    else faust_rate(topic, n, name, args.partitions)
                )
                runs[name].append(rate)
                print(f"round {r + 1}: {name} {rate:,.0f} ev/s", flush=True)
    finally:
        delete_topics([topic])
    ref = "floor" if "floor" in runs else next(iter(runs))
    base = statistics.median(runs[ref])
    print(f"| consumer | runs (ev/s) | median | of {ref} |\n|---|---|---|---|")
    for name, rates in runs.items():
        med = statistics.median(rates)
        listed = " / ".join(f"{x:,.0f}" for x in rates)
        print(f"| {name} | {listed} | {med:,.0f} | {med / base:.0%} |")


if __name__ == "__main__":
    main()
