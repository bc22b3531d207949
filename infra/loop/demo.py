"""`make demo`: the whole loop on the embedded defaults: Kafka → Feast → models → API."""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from infra.loop import demo_views as views

console = Console()


class DemoFailed(RuntimeError):
    """A demo step did not do what it should; the message says which and why."""


def _step(title: str) -> None:
    console.rule(f"[bold cyan]{title}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def run_demo() -> int:
    """Run the demo; return the process exit status (0 only if every step succeeded)."""
    from infra import services
    from infra.processes import ManagedProcess
    from infra.service_config import ServicesConfig

    signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM stops as cleanly as Ctrl-C
    started = time.monotonic()
    exit_only = os.environ.get("DEMO_EXIT") == "1"
    port = _env("DEMO_PORT", 8000)
    svc_cfg = ServicesConfig.from_env()
    already = {s.name for s in services.all_status(svc_cfg) if s.running}
    procs: list[ManagedProcess] = []
    status = 1
    try:
        _step("1. services: Kafka (KRaft) and Redis")
        for st in services.all_up(svc_cfg):
            console.print(f"  {st.name}: pid {st.pid} at {st.address}")
        status = _run(procs, port, started, exit_only)
    except DemoFailed as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        for proc in procs:
            console.print(f"[dim]--- {proc.log_path}[/]\n{proc.tail(15)}")
    except KeyboardInterrupt:
        status = 0 if status == 0 else 130
    finally:
        for proc in reversed(procs):
            proc.stop()
        downs = {"kafka": services.kafka_down, "redis": services.redis_down}
        for name, down in downs.items():
            if name not in already:  # leave running what the user had running
                down(svc_cfg)
                console.print(f"stopped {name} (started by the demo)")
    return status


def _run(procs: list[Any], port: int, started: float, exit_only: bool) -> int:
    from colisten.settings import kafka_bootstrap, settings
    from colisten.world.format import read_catalogue, read_events
    from colisten.world.generator import generate_world
    from colisten.world.replay import replay
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import apply_definitions, open_store
    from infra.processes import ManagedProcess, cli_command
    from infra.topics import reset_topics
    from stream_processors.reference import expected_views
    from stream_processors.verify import diff_view

    scale = os.environ.get("DEMO_SCALE", "small")
    demo_dir = settings().home / "demo"  # the demo's own state, emptied each run
    _step("2. a fresh demo state: topics emptied, Feast registry applied")
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    world = demo_dir / "world"
    os.environ.update(
        {
            "COLISTEN_FEAST_DIR": str(demo_dir / "feast"),
            "COLISTEN_MODELS_DIR": str(demo_dir / "models"),
            "COLISTEN_CATALOGUE": str(world / "catalogue.parquet"),
            "COLISTEN_STREAM_APP_ID": f"colisten-demo-{uuid.uuid4().hex[:8]}",
            "COLISTEN_STREAM_DATA_DIR": str(demo_dir / "stream"),
        }
    )
    reset_topics()
    store_cfg = FeatureStoreConfig.from_env()
    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    console.print(f"  Feast: {store_cfg.online} online, DuckDB/parquet offline")

    _step(f"3. the synthetic `{scale}` world")
    manifest = generate_world(scale, 7, world)
    console.print(f"  {manifest.counts}")
    cutoff = manifest.split_ms

    _step("4. stream worker (Faust) + replay of the 90 training days through Kafka")
    procs.append(
        ManagedProcess.python_module("stream_processors", demo_dir / "worker.log")
    )
    stats = replay(world, kafka_bootstrap(), until_ms=cutoff)
    console.print(
        f"  {stats.events:,} events produced in {stats.seconds:.1f}s "
        f"({stats.events_per_s:,.0f}/s)"
    )
    t0 = time.monotonic()
    _follow_worker(procs[0], stats.events)
    events = read_events(world, until_ms=cutoff)
    expected = expected_views(events, settings().partitions)

    def matches() -> bool:
        return not any(diff_view(store, v, w, limit=1) for v, w in expected.items())

    _wait(matches, 120, "the online store to equal the pandas reference", 5.0)
    console.print(
        f"  [green]every feature matches pandas[/]: "
        f"{len(expected['user_weak_signals']):,} users, "
        f"{len(expected['colisten_edges']):,} edges, "
        f"{len(expected['item_popularity']):,} items "
        f"({time.monotonic() - t0:.0f}s after the replay)"
    )
    _wait(lambda: _offline_has(store_cfg, expected), 120, "offline parquet parts")

    _step("5. train from point-in-time features: content → HGNN → two-tower")
    hgnn_version, tt_dir = _train(store_cfg, world, events, cutoff)

    _step("6. the API (FastAPI + uvicorn), hot-loading the registered models")
    warm, cold = views.pick_users(events)
    os.environ["COLISTEN_SERVE_SAMPLE_USERS"] = ",".join(
        [warm, cold, *views.more_users(events, {warm, cold}, 8)]
    )
    os.environ["COLISTEN_SERVE_EVENT_TIME_OFFSET_MS"] = str(
        cutoff - int(time.time() * 1000)
    )  # the page stamps events on the world's clock, just after the training days
    procs.append(
        ManagedProcess(
            cli_command("serve", "--port", str(port)),
            demo_dir / "api.log",
        )
    )
    base = f"http://127.0.0.1:{port}"
    _wait(lambda: _ready(base), 180, "the API to be ready")
    console.print(f"  ready at {base} (two-tower {tt_dir.name} on HGNN {hgnn_version})")

    _step("7. recommendations over HTTP")
    catalogue = read_catalogue(world)
    with httpx.Client(base_url=base, timeout=10) as http:
        for label, user in (("warm", warm), ("cold", cold)):
            body = _get(http, f"/v1/users/{user}/recommendations?k=8")
            views.show_recs(console, f"{label} user {user}", body, events)
        _step("8. the cold user follows an audiobook; a second later…")
        before = _get(http, f"/v1/users/{cold}/recommendations?k=8")
        followed = views.follow_target(before, catalogue)
        ts = cutoff + 1_000
        event = {
            "event_id": str(uuid.uuid4()),
            "user_id": cold,
            "item_id": followed,
            "item_type": "audiobook",
            "event_type": "follow",
            "ts": ts,
        }
        posted = http.post("/v1/events", json=event)
        if posted.status_code != 202:
            raise DemoFailed(f"POST /v1/events: {posted.status_code} {posted.text}")
        t_post = time.monotonic()

        def moved() -> bool:
            got = _get(http, f"/v1/users/{cold}/recommendations?k=8")
            return (
                bool(got["features_as_of"])
                and got["features_as_of"] != before["features_as_of"]
            )

        _wait(moved, 30, "the follow to reach the user's features", interval=0.05)
        lag = time.monotonic() - t_post
        after = _get(http, f"/v1/users/{cold}/recommendations?k=8")
        views.show_follow(console, cold, followed, catalogue, before, after, lag)

    _step("9. evaluation on the 14 hold-out days (audiobooks)")
    from trainers.evaluation.deployed import evaluate_deployed

    res = evaluate_deployed(world, store_cfg, hgnn_version, tt_dir)
    views.show_eval(console, res)

    console.rule("[bold green]done")
    console.print(
        f"demo finished in {time.monotonic() - started:.0f}s · "
        f"web page: [bold]{base}/[/] · API docs: {base}/docs · logs: {demo_dir}"
    )
    if not exit_only:
        console.print("the worker and the API keep running; press Ctrl-C to stop")
        while all(p.alive() for p in procs):
            time.sleep(1)
        dead = [str(p.log_path) for p in procs if not p.alive()]
        raise DemoFailed(f"a process exited while serving: {', '.join(dead)}")
    return 0


def _follow_worker(worker: Any, total: int) -> None:
    """A progress bar of the worker's committed offsets until both stages caught up."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from colisten import names
    from infra.topics import group_progress
    from stream_processors.config import StreamConfig

    group = StreamConfig.from_env().app_id
    topics = [names.INTERACTIONS_TOPIC, names.COLISTEN_PAIRS_TOPIC]
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("{task.description}", *columns, console=console) as bar:
        task = bar.add_task("  stage 1 (users)", total=total)
        pairs = bar.add_task("  stage 2 (pairs, items)", total=None)
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            if not worker.alive():
                raise DemoFailed(f"stream worker exited:\n{worker.tail(20)}")
            got = group_progress(group, topics)
            (done1, end1), (done2, end2) = got[topics[0]], got[topics[1]]
            bar.update(task, completed=done1, total=max(end1, total))
            bar.update(pairs, completed=done2, total=max(end2, 1))
            if done1 >= max(end1, total) and done2 >= end2:
                return
            time.sleep(1.0)
    raise DemoFailed("the stream worker did not catch up within 30 minutes")


def _train(store_cfg: Any, world: Path, events: Any, cutoff: int) -> tuple[str, Path]:
    from colisten.world.format import read_catalogue
    from trainers.content import default_cache_dir, embed_items, write_item_content
    from trainers.hgnn.config import HGNNConfig
    from trainers.hgnn.pipeline import run_hgnn
    from trainers.two_tower.config import TwoTowerConfig
    from trainers.two_tower.pipeline import run_two_tower

    catalogue = read_catalogue(world)
    t0 = time.monotonic()
    content = embed_items(catalogue, None, default_cache_dir())
    write_item_content(content, store_cfg)
    console.print(
        f"  content: {len(content):,} items with {content['text_model'].iloc[0]} "
        f"({content.attrs['n_new']:,} newly embedded, the rest cached), written to "
        f"item_content ({time.monotonic() - t0:.0f}s)"
    )
    t0 = time.monotonic()
    hcfg = HGNNConfig(max_epochs=_env("DEMO_HGNN_EPOCHS", 4), patience=2)
    version = run_hgnn(store_cfg, cutoff, catalogue, hcfg)
    console.print(f"  HGNN {version} registered ({time.monotonic() - t0:.0f}s)")
    t0 = time.monotonic()
    tcfg = TwoTowerConfig(epochs=_env("DEMO_TT_EPOCHS", 5))
    run = run_two_tower(store_cfg, events, cutoff, tcfg, version)
    if run.model_dir is None:
        raise DemoFailed("the two-tower was not exported")
    console.print(
        f"  two-tower {run.model_dir.name} exported with its index, "
        f"{len(run.data.label_rows):,} labels, final loss "
        f"{run.result.history[-1]['loss']:.3f} ({time.monotonic() - t0:.0f}s)"
    )
    return version, run.model_dir


def _offline_has(store_cfg: Any, expected: dict[str, Any]) -> bool:
    """Every user and edge key reached the offline store (the worker flushes every 5 s)."""
    import pandas as pd

    from feature_repo.sources import offline_path

    for view, key in (("user_weak_signals", "user_id"), ("colisten_edges", "pair_id")):
        try:
            got = pd.read_parquet(offline_path(view, store_cfg.data_dir), columns=[key])
        except (FileNotFoundError, OSError, ValueError):
            return False
        if got[key].nunique() < len(expected[view]):
            return False
    return True


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _get(http: httpx.Client, path: str) -> dict[str, Any]:
    got = http.get(path)
    if got.status_code != 200:
        raise DemoFailed(f"GET {path}: {got.status_code} {got.text[:300]}")
    body: dict[str, Any] = got.json()
    return body


def _wait(
    predicate: Callable[[], bool], timeout_s: float, what: str, interval: float = 1.0
) -> float:
    from infra.processes import wait_for

    try:
        with console.status(f"  waiting for {what}…"):
            return wait_for(predicate, timeout_s, interval, what)
    except TimeoutError as exc:
        raise DemoFailed(str(exc)) from exc
