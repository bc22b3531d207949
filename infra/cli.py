"""The `colisten` command line: thin typer glue over each stage's functions."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

app = typer.Typer(
    help="colisten: a streaming audiobook recommender (2T-HGNN).", no_args_is_help=True
)
services_app = typer.Typer(help="Local Kafka broker and Redis.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
store_app = typer.Typer(help="The Feast feature store.", no_args_is_help=True)
stream_app = typer.Typer(help="Stream processors.", no_args_is_help=True)
world_app = typer.Typer(help="Synthetic and real worlds.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(topics_app, name="topics")
app.add_typer(store_app, name="store")
app.add_typer(stream_app, name="stream")
app.add_typer(world_app, name="world")

console = Console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


@app.callback()
def _check_environment() -> None:
    """Every command: reject unknown COLISTEN_* variables before doing anything."""
    from colisten.settings import ConfigError, check_environment

    try:
        check_environment()
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


# -- services ------------------------------------------------------------------------


def _services_call(action: str) -> None:
    from colisten.settings import ConfigError
    from infra import services
    from infra.service_config import ServicesConfig

    try:
        cfg = ServicesConfig.from_env()
        if action == "up":
            statuses = services.all_up(cfg)
        elif action == "down":
            services.all_down(cfg)
            statuses = services.all_status(cfg)
        else:
            statuses = services.all_status(cfg)
    except (ConfigError, services.ServiceError) as exc:
        raise _fail(str(exc)) from exc
    table = Table("service", "state", "pid", "address", "log")
    for st in statuses:
        state = "[green]running[/]" if st.running else "[yellow]stopped[/]"
        table.add_row(st.name, state, str(st.pid or "-"), st.address, str(st.log))
    console.print(table)


@services_app.command("up")
def services_up() -> None:
    """Start Kafka (KRaft) and Redis on loopback; idempotent."""
    _services_call("up")


@services_app.command("down")
def services_down() -> None:
    """Stop the Kafka broker and Redis started by `up`."""
    _services_call("down")


@services_app.command("status")
def services_status() -> None:
    """Show whether Kafka and Redis run."""
    _services_call("status")


# -- topics and store ----------------------------------------------------------------


@topics_app.command("create")
def topics_create(
    partitions: Annotated[
        int | None, typer.Option(help="Partitions of keyed topics.")
    ] = None,
) -> None:
    """Create colisten's topics (interactions, the DLQ, internal ones) if missing."""
    from infra.topics import colisten_topics, ensure_topics

    for topic, n in sorted(ensure_topics(colisten_topics(partitions)).items()):
        console.print(f"{topic}: {n} partitions")


@store_app.command("apply")
def store_apply() -> None:
    """Register every entity, view and service in the Feast registry."""
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import apply_definitions, open_store

    cfg = FeatureStoreConfig.from_env()
    apply_definitions(open_store(cfg), cfg)
    console.print(
        f"applied feature definitions ({cfg.online} online store, {cfg.data_dir})"
    )


@store_app.command("materialize")
def store_materialize(
    world: Annotated[Path, typer.Option(help="World directory (its event log).")],
    cutoff: Annotated[
        str, typer.Option(help="Events before this: 'split', 'end', ISO time or ms.")
    ] = "split",
    recent_items: Annotated[
        str,
        typer.Option(
            help="Offline user_recent_items: 'labels' (versions training reads) or "
            "'all' (every version)."
        ),
    ] = "labels",
    memory_limit: Annotated[
        str | None, typer.Option(help="DuckDB memory limit, e.g. 4GB (spills past it).")
    ] = None,
) -> None:
    """Fill the stream-fed views and user_profile from a world's log (batch, DuckDB)."""
    from rich.table import Table

    from colisten.settings import settings
    from colisten.world.format import MANIFEST_FILE, event_time
    from feature_repo.config import FeatureStoreConfig
    from trainers.materialize.run import materialize

    if not (world / MANIFEST_FILE).is_file():
        raise _fail(f"{world} is not a world directory (no world.json)")
    if recent_items not in ("labels", "all"):
        raise _fail(f"--recent-items is 'labels' or 'all', not {recent_items!r}")
    world = world.resolve()
    cut = event_time(cutoff, world)
    cfg = FeatureStoreConfig.from_env()
    stats = materialize(
        world,
        cfg,
        cut,
        partitions=settings().partitions,
        recent_items=recent_items,
        memory_limit=memory_limit,
    )
    table = Table("view", "offline rows", "offline MiB", "online rows")
    for view, rows in stats.rows_offline.items():
        size = stats.offline_bytes.get(view, 0) / 2**20
        table.add_row(
            view, f"{rows:,}", f"{size:.1f}", f"{stats.rows_online.get(view, 0):,}"
        )
    console.print(table)
    rejected = sum(stats.rejected.values())
    console.print(
        f"{stats.events:,} events before {cut} in {stats.seconds:.1f}s "
        f"({stats.events / max(stats.seconds, 1e-9):,.0f} events/s), "
        f"{rejected:,} rejected, {stats.duplicates:,} duplicate ids, "
        f"{stats.colistens:,} co-listens; peak RSS {stats.peak_rss_mib:,.0f} MiB; "
        f"{cfg.online} online store, {cfg.data_dir}"
    )


# -- stream --------------------------------------------------------------------------


@stream_app.command("worker")
def stream_worker(
    loglevel: Annotated[
        str | None,
        typer.Option(
            help="crit|error|warn|info|debug (default COLISTEN_STREAM_LOGLEVEL)"
        ),
    ] = None,
) -> None:
    """Run one stream worker (Faust) until Ctrl-C."""
    from colisten.lean import block_torch

    block_torch()
    from stream_processors.app import run_worker

    run_worker(loglevel=loglevel)


# -- world ---------------------------------------------------------------------------


@world_app.command("generate")
def world_generate(
    out: Annotated[Path, typer.Option(help="Output directory.")],
    scale: Annotated[str, typer.Option(help="tiny|small|medium|large")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Generate a synthetic audio world (catalogue, users, events, manifest)."""
    from colisten.world.generator import SCALES, generate_world

    if scale not in SCALES:
        raise _fail(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    manifest = generate_world(scale, seed, out)
    console.print(f"world written to {out}: {manifest.counts}")


@world_app.command("import")
def world_import(
    dataset: Annotated[str, typer.Argument(help="Dataset name: movielens.")],
    src: Annotated[Path, typer.Option(help="The dataset's folder.")],
    out: Annotated[Path, typer.Option(help="Output directory.")],
) -> None:
    """Map a real public dataset onto the event contract."""
    if dataset != "movielens":
        raise _fail(f"unknown dataset {dataset!r}; supported: movielens")
    from colisten.world.movielens import import_movielens

    if not src.is_dir():
        raise _fail(f"{src} is not a directory")
    manifest = import_movielens(src, out)
    console.print(f"world written to {out}: {manifest.counts}")


@world_app.command("analyze")
def world_analyze(
    world: Annotated[Path, typer.Option(help="World directory.")],
    out: Annotated[Path, typer.Option(help="Output dir.")] = Path("reports/world"),
    seed: Annotated[int, typer.Option(help="Seed of the pair samples.")] = 0,
) -> None:
    """Reproduce the paper's Section 3 (Figure 2, weak-signal odds) on a world."""
    from colisten.world.analysis import analyze_world, key_numbers
    from colisten.world.format import MANIFEST_FILE

    if not (world / MANIFEST_FILE).is_file():
        raise _fail(f"{world} is not a world directory (no world.json)")
    result = analyze_world(world, out, seed=seed)
    table = Table("metric", "paper", "ours", title=f"Section 3 on {world}")
    for row in key_numbers(result):
        table.add_row(*row)
    console.print(table)
    console.print(f"report: {out / 'report.md'} ({result['timing_s']['total']:.1f}s)")


@app.command("replay")
def replay_cmd(
    world: Annotated[Path, typer.Option(help="World directory.")],
    rate: Annotated[float | None, typer.Option(help="Events per wall second.")] = None,
    speedup: Annotated[
        float | None,
        typer.Option(help="Simulated clock: replay event time this many times faster."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Stop before this event time: ISO time, ms, or 'split'."),
    ] = None,
) -> None:
    """Publish a world's events to Kafka in time order, keyed by user_id."""
    from colisten.settings import kafka_bootstrap
    from colisten.world.format import event_time
    from colisten.world.replay import replay
    from infra.topics import ensure_topics

    until_ms = event_time(until, world) if until else None
    ensure_topics()
    stats = replay(
        world, kafka_bootstrap(), rate=rate, speedup=speedup, until_ms=until_ms
    )
    console.print(
        f"replayed {stats.events} events in {stats.seconds:.1f}s "
        f"({stats.events_per_s:,.0f} events/s)"
    )


@app.command("demo")
def demo() -> None:
    """Run the main job end to end on the embedded defaults (what `make demo` runs)."""
    from infra.demo import run_demo

    raise typer.Exit(code=run_demo())


# -- train ---------------------------------------------------------------------------

train_app = typer.Typer(
    help="Trainers: item content embeddings, the HGNN.", no_args_is_help=True
)
app.add_typer(train_app, name="train")


@train_app.command("content")
def train_content(
    world: Annotated[Path, typer.Option(help="World directory (its catalogue).")],
    model: Annotated[
        str | None,
        typer.Option(help="Sentence model (default: COLISTEN_TEXT_MODEL or MiniLM)."),
    ] = None,
) -> None:
    """Embed every catalogue item's title + description into item_content (cached)."""
    from colisten.world.format import read_catalogue
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import apply_definitions, open_store
    from trainers.content import default_cache_dir, embed_items, write_item_content

    cfg = FeatureStoreConfig.from_env()
    apply_definitions(open_store(cfg), cfg)
    catalogue = read_catalogue(world)
    frame = embed_items(catalogue, model, default_cache_dir())
    write_item_content(frame, cfg)
    console.print(
        f"item_content: {len(frame)} items ({frame.attrs['n_new']} newly embedded, "
        f"{frame.attrs['items_per_s']:,.1f} items/s) with {frame['text_model'].iloc[0]}"
    )


@train_app.command("hgnn")
def train_hgnn_cmd(
    world: Annotated[
        Path, typer.Option(help="World directory (its catalogue, its split).")
    ],
    cutoff: Annotated[
        str, typer.Option(help="Training cut-off: ISO time, ms, or 'split'.")
    ],
    ablation: Annotated[
        str, typer.Option(help="none|no_balanced|no_pp|no_aa|aa_only|pp_only")
    ] = "none",
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 50,
    device: Annotated[str, typer.Option(help="cpu|cuda|auto")] = "cpu",
) -> None:
    """Train the HGNN as of a cut-off; write item_hgnn_embedding; register the model."""
    from colisten.world.format import event_time, read_catalogue
    from feature_repo.config import FeatureStoreConfig
    from trainers.hgnn.config import ABLATIONS, HGNNConfig
    from trainers.hgnn.pipeline import run_hgnn

    if ablation not in ABLATIONS:
        raise _fail(f"unknown ablation {ablation!r}; one of {', '.join(ABLATIONS)}")
    cfg = HGNNConfig(ablation=ablation, max_epochs=epochs, device=device)  # type: ignore[arg-type]
    version = run_hgnn(
        FeatureStoreConfig.from_env(),
        event_time(cutoff, world),
        read_catalogue(world),
        cfg,
    )
    console.print(f"hgnn model {version} registered; item_hgnn_embedding written")


# -- continuous mode -----------------------------------------------------------------


@app.command("run")
def run_cmd(
    world: Annotated[
        Path, typer.Option(help="World: catalogue, labels and (simulated) events.")
    ],
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Replay the world on a simulated clock.")
    ] = False,
    days_per_minute: Annotated[
        float, typer.Option(help="Simulated days per wall minute.")
    ] = 1.0,
    start: Annotated[
        str, typer.Option(help="Simulated start: 'split' or an ISO time.")
    ] = "split",
    max_days: Annotated[
        float | None, typer.Option(help="Stop after this many clock days.")
    ] = None,
    hgnn_days: Annotated[float, typer.Option(help="HGNN retrain cadence, days.")] = 7.0,
    two_tower_days: Annotated[
        float, typer.Option(help="Two-tower retrain cadence, days.")
    ] = 1.0,
    hgnn_epochs: Annotated[int, typer.Option(help="HGNN max epochs per run.")] = 10,
    tt_epochs: Annotated[int, typer.Option(help="Two-tower epochs per run.")] = 5,
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
    log_dir: Annotated[Path, typer.Option(help="Logs of every process.")] = Path(
        "var/run"
    ),
) -> None:
    """Continuous mode: stream worker, API and scheduled retraining (HGNN weekly, 2T daily)."""
    from infra.continuous import RunOptions, run_continuous

    opts = RunOptions(
        world=world,
        simulate=simulate,
        days_per_minute=days_per_minute,
        start=start,
        max_days=max_days,
        hgnn_days=hgnn_days,
        two_tower_days=two_tower_days,
        hgnn_epochs=hgnn_epochs,
        tt_epochs=tt_epochs,
        port=port,
        log_dir=log_dir,
    )
    raise typer.Exit(code=run_continuous(opts))


# -- models --------------------------------------------------------------------------

models_app = typer.Typer(help="The model registry.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    root: Annotated[
        Path | None, typer.Option(help="Registry root (default: COLISTEN_MODELS_DIR).")
    ] = None,
) -> None:
    """Every registered HGNN and two-tower version; `latest` marks what is served."""
    from trainers.registry import default_models_dir, describe

    base = root or default_models_dir()
    rows = describe(base)
    if not rows:
        console.print(f"no models registered under {base}")
        return
    table = Table("kind", "version", "latest", "cut-off (UTC)", "trained on", "size")
    for r in rows:
        cutoff = (
            datetime.fromtimestamp(r.cutoff_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
            if r.cutoff_ms is not None
            else "-"
        )
        table.add_row(
            r.kind,
            r.version,
            "*" if r.latest else "",
            cutoff,
            f"hgnn {r.parent}" if r.parent else "-",
            f"{r.size_bytes / 1e6:.1f} MB",
        )
    console.print(table)
    console.print(f"registry: {base}")


# -- serve ---------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(help="uvicorn worker processes (they share the mmap'd index)."),
    ] = 1,
) -> None:
    """Serve the recommendation API (FastAPI + uvicorn); config from COLISTEN_SERVE_*."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(
            var, "1"
        )  # requests are the parallelism; BLAS threads thrash
    from colisten.lean import block_torch

    block_torch()  # the API never uses torch; Feast would import it (~470 MB)
    from online.app import serve as run_server

    run_server(host, port, workers)


# -- two-tower and evaluation ----------------------------------------------------------


@train_app.command("two-tower")
def train_two_tower_cmd(
    world: Annotated[
        Path, typer.Option(help="World directory (its labels, its split).")
    ],
    cutoff: Annotated[
        str, typer.Option(help="Training cut-off: ISO time, ms, or 'split'.")
    ],
    no_hgnn: Annotated[
        bool, typer.Option("--no-hgnn", help="Plain 2T: no HGNN inputs.")
    ] = False,
    no_weak_signals: Annotated[
        bool,
        typer.Option("--no-weak-signals", help="Streams only, no weak-signal counts."),
    ] = False,
    epochs: Annotated[int, typer.Option(help="Epochs.")] = 10,
    item_type: Annotated[
        str, typer.Option(help="audiobook|podcast labels.")
    ] = "audiobook",
    hgnn_version: Annotated[
        str | None, typer.Option(help="HGNN version (default: the registry's latest).")
    ] = None,
) -> None:
    """Train the two-tower model on point-in-time features; export; point `latest` at it."""
    from colisten.world.format import event_time, read_events
    from feature_repo.config import FeatureStoreConfig
    from trainers import registry
    from trainers.two_tower.config import TwoTowerConfig
    from trainers.two_tower.pipeline import run_two_tower

    cutoff_ms = event_time(cutoff, world)
    cfg = TwoTowerConfig(
        use_hgnn=not no_hgnn,
        use_weak_signals=not no_weak_signals,
        epochs=epochs,
        target_type=item_type,
    )
    version = None if no_hgnn else hgnn_version or registry.latest_version("hgnn")
    if cfg.use_hgnn and version is None:
        raise _fail(
            "no HGNN model registered: run `colisten train hgnn` or pass --no-hgnn"
        )
    run = run_two_tower(
        FeatureStoreConfig.from_env(),
        read_events(world, until_ms=cutoff_ms),
        cutoff_ms,
        cfg,
        version,
    )
    last = run.result.history[-1]
    console.print(
        f"two-tower exported to {run.model_dir} (final loss {last['loss']:.3f})"
    )


@app.command("evaluate")
def evaluate_cmd(
    world: Annotated[Path, typer.Option(help="World directory.")],
    out: Annotated[Path, typer.Option(help="Output dir.")] = Path("reports/eval"),
    holdout_days: Annotated[
        float, typer.Option(help="Hold-out days after the split.")
    ] = 14.0,
    quick: Annotated[
        bool, typer.Option("--quick", help="Few epochs, no ablations.")
    ] = False,
    hgnn_epochs: Annotated[
        int | None, typer.Option(help="Override HGNN max epochs.")
    ] = None,
    tt_epochs: Annotated[
        int | None, typer.Option(help="Override two-tower epochs.")
    ] = None,
    ablations: Annotated[
        str | None,
        typer.Option(help="Comma list of Table 1 HGNN ablations (A,C,D,E,F)."),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="Comma list of training seeds (e.g. 0,1,2): every learned row is "
            "trained once per seed; the report gives mean and spread. Default 0."
        ),
    ] = None,
) -> None:
    """The paper's offline evaluation on a world: every table, plots, metrics.json."""
    from colisten.world.format import MANIFEST_FILE
    from trainers.evaluation.run import EvalConfig, run_evaluation

    if not (world / MANIFEST_FILE).is_file():
        raise _fail(f"{world} is not a world directory (no world.json)")
    world, out = world.resolve(), out.resolve()  # Feast resolves relative to its repo
    over: dict[str, object] = {"holdout_days": holdout_days}
    if hgnn_epochs is not None:
        over["hgnn_epochs"] = hgnn_epochs
    if tt_epochs is not None:
        over["tt_epochs"] = tt_epochs
    if ablations is not None:
        over["ablations"] = tuple(a for a in ablations.split(",") if a)
    if seeds is not None:
        try:
            over["seeds"] = tuple(int(s) for s in seeds.split(",") if s.strip())
        except ValueError as e:
            raise _fail(f"--seeds wants comma-separated integers, got {seeds!r}") from e
    try:
        cfg = EvalConfig.quick(**over) if quick else EvalConfig(**over)  # type: ignore[arg-type]
    except ValueError as e:
        raise _fail(str(e)) from e
    res = run_evaluation(world, out, cfg)
    table = Table("method", "HR@10", "MRR", "Coverage", title="warm users")
    for name, m in res["tables"]["warm"].items():
        table.add_row(
            name, f"{m['hr10']:.3f}", f"{m['mrr']:.3f}", f"{100 * m['coverage']:.1f}%"
        )
    console.print(table)
    console.print(f"report: {out / 'report.md'} ({res['timing_s']['total']:.0f}s)")


if __name__ == "__main__":
    app()
