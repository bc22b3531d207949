"""Wall time of `colisten evaluate`'s feature step, this checkout against an older one.

Each round starts `python -m infra.cli evaluate --world W --out <tmp> --seeds 0
--ablations ""` in a checkout (its own code on PYTHONPATH, a fresh output dir), waits
until the step's marker appears (`feast/materialize.json` here, `feast/backfill.json` in
checkouts before the materializer; both are written when the step ends), records the
seconds since launch (imports and reading the world included) and the process tree's
peak RSS, then stops the evaluation. Rounds alternate old and new.

    git worktree add /tmp/colisten-old 655d8ad   # the last commit with trainers/backfill.py
    python bench/evaluate_features.py --world var/s16/worlds/medium-7 --old /tmp/colisten-old
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("materialize.json", "backfill.json")


def _tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and its children (0 for what already exited)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def time_feature_step(
    checkout: Path, world: Path, out: Path, timeout_s: float
) -> dict[str, float]:
    """Seconds from launching the evaluation to its feature marker, and peak RSS (GiB)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, "-m", "infra.cli", "evaluate", "--world", str(world)]
    cmd += ["--out", str(out), "--seeds", "0", "--ablations", ""]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ps = psutil.Process(proc.pid)
    peak = 0
    try:
        while not any((out / "feast" / m).exists() for m in MARKERS):
            if proc.poll() is not None:
                raise RuntimeError(f"{checkout}: evaluate exited {proc.returncode}")
            if time.perf_counter() - t0 > timeout_s:
                raise TimeoutError(f"{checkout}: no feature marker in {timeout_s} s")
            peak = max(peak, _tree_rss(ps))
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return {"seconds": seconds, "peak_rss_gib": peak / 2**30}


def main() -> None:
    """Alternate old and new rounds; print each round and the medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--old", type=Path, required=True, help="the older checkout")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600.0)
    args = ap.parse_args()
    world = args.world.resolve()
    paths = {"old": args.old.resolve(), "new": ROOT}
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    tmp = Path(tempfile.mkdtemp(prefix="evaluate-features-"))
    try:
        for r in range(args.rounds):
            for name, checkout in paths.items():
                got = time_feature_step(
                    checkout, world, tmp / f"{name}-{r}", args.timeout
                )
                runs[name].append(got)
                print(
                    f"round {r + 1} {name}: {got['seconds']:.1f} s, "
                    f"peak RSS {got['peak_rss_gib']:.2f} GiB",
                    flush=True,
                )
                shutil.rmtree(tmp / f"{name}-{r}", ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(x["seconds"] for x in v) for k, v in runs.items()}
    print(
        f"median old {med['old']:.1f} s, new {med['new']:.1f} s: "
        f"{med['old'] / med['new']:.1f}x"
    )


if __name__ == "__main__":
    main()
