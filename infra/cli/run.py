"""`colisten run` and `colisten demo`: the whole system, continuously or once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
    from infra.loop.continuous import RunOptions, run_continuous

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


def demo() -> None:
    """Run the main job end to end on the embedded defaults (what `make demo` runs)."""
    from infra.loop.demo import run_demo

    raise typer.Exit(code=run_demo())
