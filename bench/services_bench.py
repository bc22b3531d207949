"""Time to start the Kafka broker (until it answers metadata) and Redis: median of 3.

    python bench/services_bench.py

Uses an isolated state dir and free ports, so the shared services keep running.
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra import services  # noqa: E402
from infra.service_config import ServicesConfig  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """Start and stop each service 3 times (fresh state each time); print the medians."""
    kafka, redis, first_format = [], [], []
    for _ in range(3):
        cfg = ServicesConfig(
            home=Path(tempfile.mkdtemp()),
            kafka_port=_free_port(),
            kafka_controller_port=_free_port(),
            redis_port=_free_port(),
        )
        start = time.perf_counter()
        services.kafka_up(cfg)
        first_format.append(time.perf_counter() - start)
        services.kafka_down(cfg)
        start = time.perf_counter()
        services.kafka_up(cfg)  # warm: storage already formatted
        kafka.append(time.perf_counter() - start)
        start = time.perf_counter()
        services.redis_up(cfg)
        redis.append(time.perf_counter() - start)
        services.all_down(cfg)
    print(
        f"kafka up, fresh state (format + start): median {statistics.median(first_format):.1f} s "
        f"{[round(x, 1) for x in first_format]}"
    )
    print(
        f"kafka up, formatted: median {statistics.median(kafka):.1f} s "
        f"{[round(x, 1) for x in kafka]}"
    )
    print(
        f"redis up: median {statistics.median(redis):.2f} s {[round(x, 2) for x in redis]}"
    )


if __name__ == "__main__":
    main()
