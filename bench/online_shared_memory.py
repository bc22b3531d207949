"""Several API processes, one mmap'd index: RSS vs PSS, and who maps the index files.

    .venv/bin/python -m bench.online_shared_memory --processes 2 --store redis

Builds the `large`-shaped serving world (as bench.online_latency), starts N independent
`colisten serve` processes on the same model directory, sends each the same requests
(so each faults in the index pages it reads), then reads /proc/<pid>/smaps_rollup and
/proc/<pid>/maps: RSS counts shared pages once per process, PSS divides them among the
processes sharing them, so sum(RSS) - sum(PSS) is the memory the processes share.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import httpx

from bench.online_common import build_world, write_json
from tests.online.server import api_env, start_api


def smaps_rollup(pid: int) -> dict[str, float]:
    """Rss, Pss and Shared_Clean (MiB) of one process."""
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    out = {}
    for key in ("Rss", "Pss", "Shared_Clean", "Private_Dirty"):
        m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        out[key] = int(m.group(1)) / 1024 if m else float("nan")
    return out


def mapped_index_files(pid: int, root: Path) -> set[str]:
    """Index files (under the model dir) that the process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {
        line.split()[-1]
        for line in maps
        if str(root) in line and (line.endswith(".ann") or line.endswith(".npy"))
    }


def main() -> None:
    """Start the processes, warm them identically, report memory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--audiobooks", type=int, default=12_000)
    ap.add_argument("--podcasts", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=2_000)
    ap.add_argument("--store", default="redis", choices=["redis", "sqlite"])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--out", type=Path, default=Path("bench/online_shared_memory.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world = build_world(
            root, args.audiobooks, args.podcasts, args.users, args.store
        )
        env = api_env(world.models_dir, world.store_cfg, world.catalogue, "127.0.0.1:1",
                      "unused", feature_timeout_ms="1000")  # fmt: skip
        apis = []
        try:
            for n in range(args.processes):  # one after the other: the first builds
                apis.append(start_api(env, root / f"api-{n}.log", timeout_s=900))
            for _, base in apis:
                with httpx.Client(base_url=base, timeout=10) as http:
                    for i in range(args.requests):
                        user = world.users[i % len(world.users)]
                        kind = "podcast" if i % 2 else "audiobook"
                        r = http.get(f"/v1/users/{user}/recommendations?type={kind}")
                        r.raise_for_status()
            per = [smaps_rollup(api.pid) for api, _ in apis]
            maps = [sorted(mapped_index_files(api.pid, root)) for api, _ in apis]
            res = {
                "processes": per,
                "index_files_mapped": maps,
                "same_files_in_all": all(m == maps[0] for m in maps) and bool(maps[0]),
                "sum_rss_mib": round(sum(p["Rss"] for p in per), 1),
                "sum_pss_mib": round(sum(p["Pss"] for p in per), 1),
            }
            res["shared_mib"] = round(res["sum_rss_mib"] - res["sum_pss_mib"], 1)
            print(res, flush=True)
            write_json(args.out, res)
        finally:
            for api, _ in apis:
                api.stop()


if __name__ == "__main__":
    main()
