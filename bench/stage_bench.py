"""The stream worker's stages without Kafka or Faust: events/s of the logic alone, profiled.

    PYTHONPATH=. python bench/stage_bench.py --world DIR [--events N] [--batch 2000]
        [--partitions 4] [--keep 20000] [--gc-threshold 100000] [--gc-freeze]
        [--profile OUT.txt] [--json OUT.json]

Feeds the first N events of a world, in replay order, through `UserStage` and
`PairStage` as the worker does (batches of `--batch` messages; stage 1's records go to
stage 2 as messages of up to 4,000 records; both commit per batch) over plain dict tables,
staging rows into the real `FeatureSink` whose offline parts are written to a temporary
dir every 5 s of work and whose online rows go to a writer that drops them. What it
measures is the ceiling the worker's Python logic sets: Kafka, Faust, changelog encoding
and the online store are not in it. Rates are reported per slice of events so growth of
per-event cost with state shows.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colisten.world.replay import iter_event_payloads  # noqa: E402
from feature_repo.definitions import PUSH_FED, PUSH_FED_LAYOUTS  # noqa: E402
from stream_processors import stage2_records  # noqa: E402
from stream_processors.clock import PartitionClock, partition_of  # noqa: E402
from stream_processors.config import StreamConfig, apply_gc_threshold  # noqa: E402
from stream_processors.pair_stage import PairStage  # noqa: E402
from stream_processors.sink import FeatureSink  # noqa: E402
from stream_processors.stage2_records import Stage2Record  # noqa: E402
from stream_processors.user_stage import UserStage  # noqa: E402
from stream_processors.user_state import WINDOW_MS  # noqa: E402
from stream_processors.working_set import chunked  # noqa: E402


class DictTable(dict):  # type: ignore[type-arg]
    """A table as memory:// keeps it: the stored JSON-friendly dicts, no changelog."""

    def __missing__(self, key: str) -> dict[str, Any]:
        return {}

    def put(self, key: str, value: Any, partition: int) -> None:
        """Set key (the partition only routes a changelog record, which is not kept)."""
        self[key] = value


class DroppingWriter:
    """An online writer that counts rows and keeps none."""

    def __init__(self) -> None:
        self.rows = 0

    def write(self, batches: Mapping[str, Sequence[dict[str, Any]]]) -> int:
        """Count the rows of every view."""
        n = sum(len(rows) for rows in batches.values())
        self.rows += n
        return n


def run(
    world: Path,
    events: int,
    batch: int,
    partitions: int,
    slices: int,
    keep: int,
    freeze: bool = False,
) -> dict[str, Any]:
    """Time both stages over the first `events` events; rates per slice and overall."""
    payloads = []
    for key, value, _ in iter_event_payloads(world):
        payloads.append((key.decode(), value))
        if len(payloads) >= events:
            break
    offsets: dict[int, int] = {}
    messages = []
    for user, value in payloads:
        p = partition_of(user, partitions)
        messages.append((value, p, offsets.get(p, 0)))
        offsets[p] = offsets.get(p, 0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        sink = FeatureSink(
            DroppingWriter(),
            Path(tmp),
            schemas={m.VIEW: m.ARROW_SCHEMA for m in PUSH_FED},
            join_keys={lay.view: lay.join_key for lay in PUSH_FED_LAYOUTS},
        )
        users, pairs, items = DictTable(), DictTable(), DictTable()
        stage1 = UserStage(
            users, sink, PartitionClock(), partitions, WINDOW_MS, cap=50, keep=keep
        )
        stage2 = PairStage(
            pairs, items, sink, PartitionClock(), partitions, WINDOW_MS, keep=keep
        )
        pair_offsets: dict[int, int] = {}
        records = 0
        marks: list[tuple[int, float, int]] = [(0, 0.0, 0)]
        step = max(1, len(messages) // slices)
        work, last_offline = 0.0, 0.0
        for start in range(0, len(messages), batch):
            t0 = time.perf_counter()
            out: dict[int, list[Stage2Record]] = {}
            for raw, p, offset in messages[start : start + batch]:
                stage1.fold(raw, p, offset, out)
            for target, recs in out.items():
                records += len(recs)
                for chunk in chunked(recs, 4000):
                    off = pair_offsets.get(target, 0)
                    pair_offsets[target] = off + 1
                    stage2.apply_message(stage2_records.encode(chunk), target, off)
            stage2.commit()
            stage1.commit()
            if freeze:
                gc.freeze()
            if sink.pending_online() >= 2000:
                sink.flush_online()
            if work - last_offline >= 5.0:
                sink.flush_offline()
                last_offline = work
            work += time.perf_counter() - t0
            done = min(start + batch, len(messages))
            if done // step > marks[-1][0] // step or done == len(messages):
                marks.append((done, work, records))
        t0 = time.perf_counter()
        sink.flush()
        work += time.perf_counter() - t0
        marks[-1] = (marks[-1][0], work, records)
    pairs_of_marks = list(zip(marks, marks[1:], strict=False))
    rates = [round((b[0] - a[0]) / (b[1] - a[1])) for a, b in pairs_of_marks]
    per_event = [round((b[2] - a[2]) / (b[0] - a[0]), 2) for a, b in pairs_of_marks]
    return {
        "events": len(messages),
        "records": records,
        "seconds": round(work, 2),
        "events_per_s": round(len(messages) / work),
        "slice_events_per_s": rates,
        "slice_records_per_event": per_event,
        "users": len(users),
        "pairs": len(pairs),
        "keep": keep,
        "decodes": stage1.users.decodes
        + sum(ws.decodes for ws in (stage2.pairs, stage2.items, stage2.item_users)),
    }


def main() -> None:
    """Parse arguments, run (optionally profiled), print and save the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--slices", type=int, default=5)
    ap.add_argument(
        "--gc-threshold",
        type=int,
        default=StreamConfig.__dataclass_fields__["gc_threshold"].default,
        help="young-generation GC threshold, as the worker sets it (0: Python's 700)",
    )
    ap.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: gc.freeze() after every batch (not what the worker does)",
    )
    ap.add_argument(
        "--keep",
        type=int,
        default=StreamConfig.__dataclass_fields__["state_cache"].default,
        help="decoded states kept between batches per table (the worker's state_cache)",
    )
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    apply_gc_threshold(args.gc_threshold)
    result = run(
        args.world,
        args.events,
        args.batch,
        args.partitions,
        args.slices,
        args.keep,
        args.gc_freeze,
    )
    result["gc_threshold"] = gc.get_threshold()[0]
    if prof:
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(30)
        args.profile.write_text(buf.getvalue())
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
