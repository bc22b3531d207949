"""Latency of GET /recommendations (wrk, loopback), stage shares, hot swaps under load, RSS.

    .venv/bin/python -m bench.online_latency --audiobooks 12000 --podcasts 100000 \
        --users 10000 --store redis --duration 30 --swaps 10

Builds a synthetic serving world (the `large` catalogue shape: 12k audiobooks, 100k
podcasts, dim 128; a numpy user tower), starts one `colisten serve` process, and drives it
with wrk (`apt-get install -y wrk`) over random known users. The stage shares come from
the server's own histograms (/metrics), so they exclude the client.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.online_common import build_world, peak_rss_mib, stage_sums, write_json
from tests.online.server import api_env, start_api
from tests.online.tower import random_items, write_version

LUA = """
math.randomseed(%(seed)d)
request = function()
  local u = string.format("u%%07d", math.random(0, %(n)d - 1))
  return wrk.format("GET", "/v1/users/" .. u .. "/recommendations?k=10&type=%(type)s")
end
"""


def _route_sum(text: str) -> tuple[float, float]:
    total, count = 0.0, 0.0
    for line in text.splitlines():
        if (
            line.startswith("colisten_http_request_seconds_")
            and "recommendations" in line
        ):
            m = re.match(r"colisten_http_request_seconds_(sum|count)\{.*\} (\S+)", line)
            if m and m.group(1) == "sum":
                total += float(m.group(2))
            elif m:
                count += float(m.group(2))
    return total, count


def _degraded(text: str) -> float:
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("colisten_degraded_responses_total")
    )


def run_wrk(base: str, script: Path, conns: int, seconds: int) -> dict[str, object]:
    """One wrk run; p50/p99 in ms, request and error counts."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    reqs = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in sock.groups()) if sock else 0
    )
    return {"p50_ms": ms("50"), "p99_ms": ms("99"), "requests": reqs, "errors": errors,
            "rps": reqs / seconds}  # fmt: skip


def measure(base: str, script: Path, conns: int, seconds: int) -> dict[str, object]:
    """wrk at one concurrency plus the server-side stage shares over the same window."""
    before = httpx.get(f"{base}/metrics").text
    res = run_wrk(base, script, conns, seconds)
    after = httpx.get(f"{base}/metrics").text
    s0, s1 = stage_sums(before), stage_sums(after)
    r0, r1 = _route_sum(before), _route_sum(after)
    server_s = r1[0] - r0[0]
    n = r1[1] - r0[1]
    res["server_mean_ms"] = server_s / n * 1000 if n else None
    res["share"] = {
        k: round((s1[k][0] - s0.get(k, (0.0, 0.0))[0]) / server_s, 3) for k in s1
    }
    res["stage_mean_ms"] = {}
    for k, (total, count) in s1.items():
        t0, c0 = s0.get(k, (0.0, 0.0))
        res["stage_mean_ms"][k] = round((total - t0) / max(1.0, count - c0) * 1000, 3)  # type: ignore[index]
    res["degraded"] = _degraded(after) - _degraded(before)
    return res


def hot_swaps(
    base: str, world_models: Path, script: Path, swaps: int, sizes: tuple[int, int]
) -> dict[str, object]:
    """wrk at concurrency 4 while `swaps` new versions are exported; errors and versions seen."""
    seconds = max(20, swaps * 8)
    result: dict[str, object] = {}
    t = threading.Thread(
        target=lambda: result.update(run_wrk(base, script, 4, seconds))
    )
    t.start()
    served = []
    for n in range(2, swaps + 2):
        time.sleep(1.0)
        write_version(world_models, f"v{n}", random_items(*sizes, 128, seed=n), seed=n)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            version = httpx.get(f"{base}/readyz", timeout=5).json()["model_version"]
            if version == f"v{n}":
                served.append(version)
                break
            time.sleep(0.1)
    t.join()
    result["swaps_served"] = len(served)
    return result


def main() -> None:
    """Build the world, start the API, run the measurements, print and save them."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--audiobooks", type=int, default=12_000)
    ap.add_argument("--podcasts", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--store", default="redis", choices=["redis", "sqlite"])
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--swaps", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("bench/online_latency.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world = build_world(
            root, args.audiobooks, args.podcasts, args.users, args.store
        )
        env = api_env(world.models_dir, world.store_cfg, world.catalogue, "127.0.0.1:1", "unused",
                      feature_timeout_ms="50")  # fmt: skip
        t0 = time.perf_counter()
        api, base = start_api(env, root / "api.log", timeout_s=600)
        results: dict[str, object] = {
            "startup_s": round(time.perf_counter() - t0, 1),
            "args": {k: str(v) for k, v in vars(args).items()},
        }
        try:
            for item_type in ("audiobook", "podcast"):
                script = root / f"{item_type}.lua"
                script.write_text(LUA % {"seed": 1, "n": args.users, "type": item_type})
                for conns in (1, 16):
                    key = f"{item_type}_c{conns}"
                    results[key] = measure(base, script, conns, args.duration)
                    print(key, results[key], flush=True)
            results["rss_mib_after_load"] = round(peak_rss_mib(api.pid), 1)
            if args.swaps:
                script = root / "audiobook.lua"
                results["hot_swaps"] = hot_swaps(base, world.models_dir, script, args.swaps,
                                                 (args.audiobooks, args.podcasts))  # fmt: skip
                print("hot_swaps", results["hot_swaps"], flush=True)
            results["peak_rss_mib"] = round(peak_rss_mib(api.pid), 1)
            print("peak RSS MiB", results["peak_rss_mib"])
        finally:
            api.stop()
        write_json(args.out, results)


if __name__ == "__main__":
    main()
