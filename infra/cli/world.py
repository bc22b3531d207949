"""`colisten world generate|import|analyze` and `colisten replay`: worlds and their events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from infra.cli.common import console, fail, world_dir

app = typer.Typer(help="Synthetic and real worlds.", no_args_is_help=True)


@app.command("generate")
def world_generate(
    out: Annotated[Path, typer.Option(help="Output directory.")],
    scale: Annotated[str, typer.Option(help="tiny|small|medium|large")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Generate a synthetic audio world (catalogue, users, events, manifest)."""
    from colisten.world.generator import SCALES, generate_world

    if scale not in SCALES:
        raise fail(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    manifest = generate_world(scale, seed, out)
    console.print(f"world written to {out}: {manifest.counts}")


@app.command("import")
def world_import(
    dataset: Annotated[str, typer.Argument(help="Dataset name: movielens.")],
    src: Annotated[Path, typer.Option(help="The dataset's folder.")],
    out: Annotated[Path, typer.Option(help="Output directory.")],
) -> None:
    """Map a real public dataset onto the event contract."""
    if dataset != "movielens":
        raise fail(f"unknown dataset {dataset!r}; supported: movielens")
    from colisten.world.movielens import import_movielens

    if not src.is_dir():
        raise fail(f"{src} is not a directory")
    manifest = import_movielens(src, out)
    console.print(f"world written to {out}: {manifest.counts}")


@app.command("analyze")
def world_analyze(
    world: Annotated[Path, typer.Option(help="World directory.")],
    out: Annotated[Path, typer.Option(help="Output dir.")] = Path("reports/world"),
    seed: Annotated[int, typer.Option(help="Seed of the pair samples.")] = 0,
) -> None:
    """Reproduce the paper's Section 3 (Figure 2, weak-signal odds) on a world."""
    from colisten.world.analysis import analyze_world, key_numbers

    world_dir(world)
    result = analyze_world(world, out, seed=seed)
    table = Table("metric", "paper", "ours", title=f"Section 3 on {world}")
    for row in key_numbers(result):
        table.add_row(*row)
    console.print(table)
    console.print(f"report: {out / 'report.md'} ({result['timing_s']['total']:.1f}s)")


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
