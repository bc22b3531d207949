"""The online writer child's peak memory and speed per flush shape, side by side.

    PYTHONPATH=. python bench/writer_memory.py [--users 100000] [--flush-rows 20000]
        [--flushes 15] [--rounds 2]

Writes the same flushes through a `WriterProcess` into a fresh SQLite online store once
per setting: `--flushes` flushes of `--flush-rows` user_recent_items rows (50 podcasts
and 10 audiobooks each, as a long-time user's), spread over `--users` users so the store
grows as a replay's does. Settings: a flush as one message with a 128 MiB SQLite page
cache (the writer before session 21), bounded messages with that cache, and bounded
messages with the stream default's smaller cache. Reports the child's peak RSS (VmHWM,
which no sampling misses), its RSS after the last write and rows/s. Settings alternate
within each round; medians over rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colisten.lean import block_torch  # noqa: E402

block_torch()  # as the worker does: its spawned writer re-imports this module

from colisten import names  # noqa: E402
from feature_repo import user_recent_items  # noqa: E402
from feature_repo.config import FeatureStoreConfig  # noqa: E402
from feature_repo.store import apply_definitions, open_store  # noqa: E402
from stream_processors.sink import stamp_time  # noqa: E402
from stream_processors.writer_process import WriterLimits, WriterProcess  # noqa: E402

SETTINGS = {
    "one message, 128 MiB cache": WriterLimits(2, 10.0, 10**9, 128),
    "2,000-row messages, 128 MiB cache": WriterLimits(2, 10.0, 2000, 128),
    "2,000-row messages, 16 MiB cache": WriterLimits(2, 10.0, 2000, 16),
}


def status_kib(pid: int, field: str) -> int:
    """A /proc/<pid>/status memory field (VmHWM, VmRSS) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def flush_rows(flush: int, size: int, users: int) -> list[dict[str, Any]]:
    """One flush's rows: `size` users' recent lists, stamped in event time order."""
    rows = []
    for i in range(size):
        n = flush * size + i
        uid = f"user-{(n * 7919) % users:08d}"
        rows.append(
            {
                names.USER_ID: uid,
                "recent_audiobooks": [f"ab-{(n + k) % 12000:06d}" for k in range(10)],
                "recent_audiobook_signals": ["stream"] * 10,
                "recent_audiobook_ms": [1_700_000_000_000 + n - k for k in range(10)],
                "recent_podcasts": [f"pod-{(n + k) % 100000:06d}" for k in range(50)],
                "recent_podcast_signals": ["stream"] * 50,
                "recent_podcast_ms": [1_700_000_000_000 + n - k for k in range(50)],
                "last_event_ms": 1_700_000_000_000 + n,
                names.EVENT_TIMESTAMP: stamp_time(1_700_000_000_000_000 + n),
            }
        )
    return rows


def run_setting(
    limits: WriterLimits, flushes: list[list[dict[str, Any]]], tmp: Path
) -> tuple[float, float, float]:
    """Peak and final child RSS (MiB) and rows/s, writing flushes into a fresh store."""
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp)
    apply_definitions(open_store(cfg), cfg)
    writer = WriterProcess(cfg, limits)
    try:
        pid = writer.pid
        assert pid is not None
        start = time.perf_counter()
        rows = sum(writer.write({user_recent_items.VIEW: f}) for f in flushes)
        took = time.perf_counter() - start
        peak, last = status_kib(pid, "VmHWM"), status_kib(pid, "VmRSS")
    finally:
        writer.close()
    return peak / 1024, last / 1024, rows / took


def main() -> None:
    """Run every setting per round and print a markdown table of medians."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--flush-rows", type=int, default=20_000)
    ap.add_argument("--flushes", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    flushes = [flush_rows(f, args.flush_rows, args.users) for f in range(args.flushes)]
    got: dict[str, list[tuple[float, float, float]]] = {s: [] for s in SETTINGS}
    with tempfile.TemporaryDirectory(prefix="writer-memory-") as tmp:
        for r in range(args.rounds):
            for i, (name, limits) in enumerate(SETTINGS.items()):
                res = run_setting(limits, flushes, Path(tmp) / f"r{r}-{i}")
                got[name].append(res)
                print(
                    f"round {r + 1} {name}: peak {res[0]:,.0f} MiB, after "
                    f"{res[1]:,.0f} MiB, {res[2]:,.0f} rows/s",
                    flush=True,
                )
    print(
        f"\n{args.flushes} flushes of {args.flush_rows:,} rows over "
        f"{args.users:,} users, medians of {args.rounds} rounds\n"
    )
    print("| setting | child peak RSS (MiB) | after the last write (MiB) | rows/s |")
    print("|---|---:|---:|---:|")
    for name, results in got.items():
        peak, last, rate = (statistics.median(x) for x in zip(*results, strict=True))
        print(f"| {name} | {peak:,.0f} | {last:,.0f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
