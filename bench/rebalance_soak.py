"""Two stream workers through rebalances, many times, under CPU load: count losses and stalls.

Each run makes fresh topics and a fresh store, starts worker a, then worker b (at once,
or `--join-after` seconds into the replay), replays the first `--events` events of a
`small` world, optionally stops b `--leave-after` seconds later, and waits until every
view equals the pandas reference. A run whose offsets are all committed but whose store
still differs `--grace` seconds later lost events; one that does not get there within
`--timeout` stalled. Either way the script sends SIGUSR1 to every worker (each logs
its consumer snapshot and asyncio task stacks), takes `py-spy dump` of each, records
the group's committed offsets against the end offsets, and keeps the logs under `--out`.

    PYTHONPATH=. python bench/rebalance_soak.py --runs 30 --hog 2 --store rocksdb://
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pandas as pd

from colisten.settings import kafka_bootstrap
from colisten.world.format import read_events
from colisten.world.generator import generate_world
from feature_repo.config import FeatureStoreConfig
from infra.processes import wait_for
from infra.topics import TopicSpec, delete_topics, ensure_topics, group_progress
from stream_processors.reference import expected_views
from stream_processors.verify import diff_views
from tests.stream_processors.harness import WorkerRig
from tests.stream_processors.test_resilience import _replay_frame


def _burn(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _differences(rig: WorkerRig, expected: dict[str, object]) -> list[str]:
    try:
        return diff_views(rig.store(), expected)
    except Exception as exc:  # noqa: BLE001 - the worker may hold the SQLite lock
        return [f"store busy: {exc}"]


def _evidence(rig: WorkerRig, run_dir: Path, bootstrap: str) -> dict[str, object]:
    """SIGUSR1 every worker, py-spy dump each, and the group's offsets."""
    for w in rig.workers:
        if w.alive():
            os.kill(w.pid, signal.SIGUSR1)
    time.sleep(2)
    for w in rig.workers:
        if w.alive() and shutil.which("py-spy"):
            dump = subprocess.run(
                ["py-spy", "dump", "--pid", str(w.pid)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            (run_dir / f"{w.log_path.stem}.pyspy.txt").write_text(
                dump.stdout + dump.stderr
            )
    progress = group_progress(rig.app_id, [rig.interactions, rig.pairs], bootstrap)
    return {t: {"committed": c, "end": e} for t, (c, e) in progress.items()}


def _lost_keys(diffs: list[str]) -> set[str]:
    """The edge ("src|dst") and item keys named by diff lines of the stage-2 views."""
    keys = set()
    for line in diffs:
        view, _, rest = line.partition("[")
        if view in ("colisten_edges", "item_popularity"):
            keys.add(rest.split("]", 1)[0])
    return keys


def _records_of(topic: str, keys: set[str], bootstrap: str) -> list[dict[str, object]]:
    """Every stage-2 record in `topic` that touches one of `keys`, with its position."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        found: list[dict[str, object]] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for tp, msgs in consumer.poll(timeout_ms=1000).items():
                for m in msgs:
                    for index, rec in enumerate(json.loads(m.value)):
                        key = rec.get("i") or f"{rec.get('s')}|{rec.get('d')}"
                        if key in keys:
                            at = {"partition": tp.partition, "offset": m.offset}
                            found.append({**at, "index": index, **rec})
        return found
    finally:
        consumer.close()


def one_run(
    i: int, events: pd.DataFrame, args: argparse.Namespace, out: Path
) -> dict[str, object]:
    """One two-worker replay; returns its outcome and timings."""
    bootstrap = kafka_bootstrap()
    created: list[str] = []

    def make_topic(prefix: str = "t", partitions: int = 4) -> str:
        name = f"soak.{prefix}.{uuid.uuid4().hex[:10]}"
        ensure_topics([TopicSpec(name, partitions, {})], bootstrap)
        created.append(name)
        return name

    tmp = Path(tempfile.mkdtemp(prefix=f"soak{i}-"))
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp / "feast")
    rig = WorkerRig.create(make_topic, cfg, tmp, table_store=args.store)
    expected = expected_views(events, rig.partitions)
    start = time.monotonic()
    outcome: dict[str, object] = {"run": i, "store": args.store}
    extra: dict[str, str] = {}
    if args.alternate_env and i % 2 == 1:
        key, _, value = args.alternate_env.partition("=")
        extra[key] = value
        outcome["env"] = args.alternate_env
    try:
        rig.start("a", **extra)
        if args.join_after <= 0:
            rig.start("b", **extra)
        feeder = threading.Thread(
            target=_replay_frame,
            args=(bootstrap, rig.interactions, events, args.rate or None),
        )
        feeder.start()
        if args.join_after > 0:
            time.sleep(args.join_after)
            second = rig.start("b", **extra)
            if args.leave_after > 0:
                wait_for(
                    lambda: (
                        "Worker ready" in second.log_path.read_text(errors="replace")
                    ),
                    120,
                    0.5,
                    "worker b took partitions",
                )
                time.sleep(args.leave_after)
                rig.retire(second)
        feeder.join()
        deadline = start + args.timeout
        diffs: list[str] = ["not checked"]
        settled_at: float | None = None
        while time.monotonic() < deadline:
            rig.assert_alive()
            diffs = _differences(rig, expected)
            if not diffs:
                break
            # every offset committed and still different after a grace period for the
            # last online flushes: events were lost, not late
            progress = group_progress(rig.app_id, [rig.interactions, rig.pairs])
            if all(c == e for c, e in progress.values()):
                settled_at = settled_at or time.monotonic()
                if time.monotonic() - settled_at > args.grace:
                    break
            else:
                settled_at = None
            time.sleep(2)
        outcome["seconds"] = round(time.monotonic() - start, 1)
        outcome["ok"] = not diffs
        if diffs or args.keep_logs:
            run_dir = out / f"{'stall' if diffs else 'run'}-{i:02d}"
            run_dir.mkdir(parents=True, exist_ok=True)
            if diffs:
                outcome["offsets"] = _evidence(rig, run_dir, bootstrap)
                outcome["diffs"] = diffs[:5]
                lost = _records_of(rig.pairs, _lost_keys(diffs), bootstrap)
                (run_dir / "lost-records.json").write_text(json.dumps(lost, indent=1))
            rig.stop_all()
            for w in [*rig.retired, *rig.workers]:
                shutil.copy(w.log_path, run_dir / w.log_path.name)
    except AssertionError as exc:
        outcome.update(ok=False, died=str(exc)[:2000])
    finally:
        rig.stop_all()
        delete_topics(created, bootstrap)
        shutil.rmtree(tmp, ignore_errors=True)
    return outcome


def main() -> None:
    """Run the soak and print one line per run plus the tally."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--store", default="rocksdb://")
    ap.add_argument("--hog", type=int, default=2, help="CPU-burning processes beside")
    ap.add_argument("--rate", type=float, default=0.0, help="replay events/s (0: max)")
    ap.add_argument("--join-after", type=float, default=0.0)
    ap.add_argument("--leave-after", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument(
        "--grace",
        type=float,
        default=20.0,
        help="seconds after every offset is committed before differences count as loss",
    )
    ap.add_argument(
        "--alternate-env",
        default="",
        help="K=V given to the workers of every other run (A/B comparisons)",
    )
    ap.add_argument("--keep-logs", action="store_true", help="keep every run's logs")
    ap.add_argument("--world", type=Path, default=Path("var/soak/world-small-5"))
    ap.add_argument("--out", type=Path, default=Path("var/soak/runs"))
    args = ap.parse_args()
    if not (args.world / "world.json").exists():
        generate_world("small", 5, args.world, progress=False)
    events = read_events(args.world).head(args.events)
    args.out.mkdir(parents=True, exist_ok=True)
    stop = multiprocessing.Event()
    hogs = [
        multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
        for _ in range(args.hog)
    ]
    for h in hogs:
        h.start()
    results = []
    try:
        for i in range(args.runs):
            res = one_run(i, events, args, args.out)
            results.append(res)
            print(json.dumps(res), flush=True)
    finally:
        stop.set()
        for h in hogs:
            h.join(timeout=5)
    ok = sum(1 for r in results if r["ok"])
    secs = sorted(float(r["seconds"]) for r in results if r.get("ok"))
    median = secs[len(secs) // 2] if secs else float("nan")
    print(
        f"tally store={args.store} hog={args.hog} join_after={args.join_after} "
        f"leave_after={args.leave_after}: {ok}/{len(results)} reached the reference, "
        f"median {median:.1f} s"
    )


if __name__ == "__main__":
    main()
