"""`make demo`: run what colisten has end to end on the embedded defaults, and show it."""

from __future__ import annotations

import os
import shutil
import time

import pandas as pd
from rich.console import Console
from rich.table import Table

from infra.settings import REPO_ROOT

console = Console()
DEMO_DIR = REPO_ROOT / "var" / "demo"


def _step(title: str) -> None:
    console.rule(f"[bold cyan]{title}")


def run_demo() -> int:
    """Run the demo; return the process exit status (0 only if every step succeeded)."""
    from colisten.world.format import read_events
    from colisten.world.generator import generate_world
    from colisten.world.replay import replay
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import apply_definitions, open_store
    from infra import services
    from infra.processes import ManagedProcess, wait_for
    from infra.settings import ServicesConfig
    from infra.topics import default_partitions, reset_topics
    from stream_processors.reference import expected_views
    from stream_processors.verify import diff_view, read_online

    started = time.monotonic()
    scale = os.environ.get("DEMO_SCALE", "tiny")
    exit_only = os.environ.get("DEMO_EXIT") == "1"

    _step("1. services: Kafka (KRaft) and Redis")
    for st in services.all_up(ServicesConfig.from_env()):
        console.print(f"  {st.name}: pid {st.pid} at {st.address}")

    _step("2. a fresh demo state: topics (emptied), Feast registry")
    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    run_id = f"demo{int(time.time())}"
    reset_topics()
    store_cfg = FeatureStoreConfig.from_env(data_dir=DEMO_DIR / "feast")
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    console.print(
        f"  Feast store: {store_cfg.online} online, DuckDB offline, {store_cfg.data_dir}"
    )

    _step(f"3. the {scale} world")
    world = DEMO_DIR / "world"
    manifest = generate_world(scale, 7, world)
    console.print(f"  {manifest.counts}")

    _step("4. stream worker (Faust) consuming Kafka into Feast")
    env = {
        "COLISTEN_FEAST_DIR": str(store_cfg.data_dir),
        "COLISTEN_STREAM_APP_ID": f"colisten-{run_id}",
        "COLISTEN_STREAM_DATA_DIR": str(DEMO_DIR / "stream"),
    }
    worker = ManagedProcess.python_module(
        "stream_processors", DEMO_DIR / "worker.log", env=env
    )
    status = 1
    try:
        _step("5. replay the training days through Kafka")
        stats = replay(world, _bootstrap(), until_ms=manifest.split_ms)
        console.print(
            f"  {stats.events:,} events in {stats.seconds:.1f}s "
            f"({stats.events_per_s:,.0f} events/s)"
        )

        _step("6. read back from the Feast online store, compare with pandas")
        events = read_events(world, until_ms=manifest.split_ms)
        expected = expected_views(events, default_partitions())

        def matches() -> bool:
            return not any(
                diff_view(store, view, want, limit=1) for view, want in expected.items()
            )

        try:
            waited = wait_for(
                matches,
                timeout_s=300,
                interval_s=1.0,
                what="online store equal to the pandas reference",
            )
            console.print(
                f"  [green]every feature of {len(expected['user_weak_signals'])} users, "
                f"{len(expected['colisten_edges'])} edges and "
                f"{len(expected['item_popularity'])} items matches[/] "
                f"(converged {waited:.1f}s after the replay)"
            )
            status = 0
        except TimeoutError as exc:
            console.print(f"  [red]{exc}[/]\n{worker.tail()}")
        weak = expected["user_weak_signals"]
        assert isinstance(weak, pd.DataFrame)
        _show(read_online(store, "user_weak_signals", list(weak.index)), weak)
        console.print(
            f"\ndemo finished in {time.monotonic() - started:.0f}s (status {status})"
        )
        if not exit_only and status == 0:
            console.print("worker keeps running; press Ctrl-C to stop")
            try:
                while worker.alive():
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    finally:
        worker.stop()
    return status


def _bootstrap() -> str:
    from infra.settings import kafka_bootstrap

    return kafka_bootstrap()


def _show(online: pd.DataFrame, expected: pd.DataFrame, n: int = 8) -> None:
    table = Table(
        "user",
        "follows (store / pandas)",
        "previews",
        "intent",
        "ab streams",
        "podcast streams",
        title="user_weak_signals (90 days)",
    )
    top = expected.sort_values("stream_audiobook_90d", ascending=False).head(n).index
    for user in top:
        row, exp = online.loc[user], expected.loc[user]
        cells = [
            f"{row[c]} / {exp[c]}"
            for c in (
                "follow_audiobook_90d",
                "preview_audiobook_90d",
                "intent_to_pay_audiobook_90d",
                "stream_audiobook_90d",
                "stream_podcast_90d",
            )
        ]
        table.add_row(user, *cells)
    console.print(table)
