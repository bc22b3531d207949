"""Materializer benchmark: events/s of the SQL path and of the old Python backfill, side by side.

Usage: ``python bench/materialize_bench.py --world DIR [--cutoff split|end|MS]``
or ``--scale small --seed 7`` (generates the world under a temp dir first).
``--backfill-from DIR`` also times the Python replay it replaced (trainers/backfill.py,
removed): DIR is a checkout of a commit that still has it, e.g.
``git worktree add /tmp/colisten-backfill 655d8ad``; that path runs on DIR's code.

Each path runs in its own child process on a fresh store (SQLite online, parquet
offline), so each peak RSS is its own; reported per path: events folded, wall seconds
(and the materializer's seconds per step), events/s, peak RSS, offline rows and bytes on
disk per view. ``--check`` then compares every online row with the pandas reference.
``--recent-items labels,all`` runs the materializer once per offline
mode; without ``--backfill-from`` only the materializer runs. Results go to stdout
and, with ``--json``, to a file; the stores (and a generated world) are in a temp dir
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _offline_bytes(data_dir: Path) -> dict[str, int]:
    out = {}
    for folder in sorted((data_dir / "offline").iterdir()):
        out[folder.name] = sum(f.stat().st_size for f in folder.glob("*.parquet"))
    return out


def child(args: argparse.Namespace) -> dict[str, Any]:
    """Run one path in this process; return its figures (args.cutoff in UTC ms)."""
    from feature_repo.config import FeatureStoreConfig

    world, store = Path(args.world), Path(args.store)
    cutoff = int(args.cutoff)  # resolved by the parent: old checkouts lack event_time
    cfg = FeatureStoreConfig(online="sqlite", data_dir=store)
    t0 = time.perf_counter()
    if args.path == "backfill":
        from trainers.backfill import backfill  # from the --backfill-from checkout

        stats = backfill(world, cfg, cutoff, progress=False)
        figures: dict[str, Any] = {
            "events": stats.events,
            "rows_offline": stats.rows_offline,
            "rows_online": stats.rows_online,
        }
    else:
        from trainers.materialize.run import materialize

        stats = materialize(
            world,
            cfg,
            cutoff,
            recent_items=args.path.split(":")[1],
            progress=False,
            threads=args.threads,
            memory_limit=args.memory_limit,
        )
        figures = {
            "events": stats.events,
            "rows_offline": stats.rows_offline,
            "rows_online": stats.rows_online,
            "step_seconds": stats.step_seconds,
            "online_seconds": stats.online_seconds,
            "rejected": stats.rejected,
            "duplicates": stats.duplicates,
            "colistens": stats.colistens,
        }
    seconds = time.perf_counter() - t0
    if args.check:
        figures["check"] = check_online(world, cfg, cutoff)
    offline = _offline_bytes(store)
    return {
        "path": args.path,
        "cutoff_ms": cutoff,
        "seconds": round(seconds, 2),
        "events_per_s": round(figures["events"] / seconds, 1),
        "peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "offline_bytes": offline,
        "offline_mib": round(sum(offline.values()) / 2**20, 2),
        **figures,
    }


def check_online(world: Path, cfg: Any, cutoff: int) -> dict[str, Any]:
    """Every online key of every view against the pandas reference (slow on large)."""
    import pandas as pd

    from colisten.world import format as fmt
    from feature_repo.sources import offline_path
    from feature_repo.store import open_store
    from stream_processors.reference import expected_views
    from stream_processors.verify import diff_view

    t0 = time.perf_counter()
    events = fmt.read_events(world)
    expected = expected_views(events[events["ts"] < cutoff], 4)
    store = open_store(cfg)
    pairs = sorted(
        set(pd.read_parquet(offline_path("colisten_edges", cfg.data_dir))["pair_id"])
    )
    out: dict[str, Any] = {}
    for view, want in expected.items():
        extra = pairs if view == "colisten_edges" else None
        out[view] = {
            "keys": len(want),
            "differences": diff_view(store, view, want, extra_keys=extra, limit=5),
        }
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def run_child(
    path: str, world: Path, store: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """One path in a child process (its own peak RSS)."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        path,
        "--world",
        str(world),
        "--store",
        str(store),
        "--cutoff",
        str(args.cutoff_ms),
    ]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    if path == "backfill":
        cmd += ["--backfill-from", str(args.backfill_from)]
    if args.check:
        cmd += ["--check"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{path} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: list[dict[str, Any]]) -> str:
    """A plain-text table of the runs, and the speed-up over the backfill."""
    lines = [
        f"{'path':22s} {'events':>9s} {'seconds':>8s} {'events/s':>9s} "
        f"{'RSS MiB':>8s} {'offline MiB':>11s}  offline rows by view"
    ]
    for r in results:
        rows = ", ".join(f"{k}={v:,}" for k, v in sorted(r["rows_offline"].items()))
        lines.append(
            f"{r['path']:22s} {r['events']:>9,} {r['seconds']:>8.1f} "
            f"{r['events_per_s']:>9,.0f} {r['peak_rss_mib']:>8.0f} "
            f"{r['offline_mib']:>11.2f}  {rows}"
        )
    base = next((r for r in results if r["path"] == "backfill"), None)
    for r in results:
        if base and r is not base:
            lines.append(
                f"{r['path']}: {base['seconds'] / r['seconds']:.1f}x the backfill's speed, "
                f"{r['offline_mib'] / max(base['offline_mib'], 1e-9):.2f}x its offline size"
            )
        if "step_seconds" in r:
            lines.append(f"{r['path']} steps (s): {r['step_seconds']}")
        if r.get("online_seconds"):
            lines.append(
                f"{r['path']} online loads, beside the steps (s): {r['online_seconds']}"
            )
        if "check" in r:
            lines.append(f"{r['path']} online rows vs the reference: {r['check']}")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments; as the parent run every path in a child and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path)
    ap.add_argument("--scale", default=None, help="generate this scale instead")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cutoff", default="split", help="split, end or UTC ms")
    ap.add_argument("--recent-items", default="labels,all")
    ap.add_argument(
        "--backfill-from",
        type=Path,
        default=None,
        help="a checkout with trainers/backfill.py: also time the old Python path",
    )
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--memory-limit", default=None, help="DuckDB memory_limit, e.g. 4GB"
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="compare every online row with the pandas reference (after timing)",
    )
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--store", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.path = args.child
        if args.child == "backfill":
            sys.path.insert(0, str(args.backfill_from.resolve()))
        print(json.dumps(child(args)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="materialize-bench-"))
    world = args.world
    if world is None:
        from colisten.world.generator import generate_world

        if not args.scale:
            ap.error("--world or --scale")
        world = tmp / f"world-{args.scale}"
        generate_world(args.scale, args.seed, world, progress=False)
    from colisten.world.format import event_time

    args.cutoff_ms = event_time(args.cutoff, world)
    paths = [f"materialize:{m}" for m in args.recent_items.split(",") if m]
    if args.backfill_from:
        if not (args.backfill_from / "trainers" / "backfill.py").is_file():
            ap.error(f"{args.backfill_from} has no trainers/backfill.py")
        paths.insert(0, "backfill")
    results = []
    try:
        for n, path in enumerate(paths):
            print(f"running {path} ...", file=sys.stderr, flush=True)
            results.append(run_child(path, world, tmp / f"store-{n}", args))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the stores (~0.8 GiB each on large)
    print(report(results))
    if args.json:
        args.json.write_text(
            json.dumps({"world": str(world), "runs": results}, indent=2)
        )


if __name__ == "__main__":
    main()
