"""`colisten evaluate`: the paper's offline evaluation on a world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from infra.cli.common import console, fail, world_dir


def evaluate_cmd(
    world: Annotated[Path, typer.Option(help="World directory.")],
    out: Annotated[Path, typer.Option(help="Output dir.")] = Path("reports/eval"),
    holdout_days: Annotated[
        str,
        typer.Option(
            help="Hold-out days after the split, or 'all': to the world's last event "
            "(an import's whole hold-out)."
        ),
    ] = "14",
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
    reuse: Annotated[
        str | None,
        typer.Option(
            help="Comma list of earlier --out dirs of this world: the models they "
            "trained with the same settings are reused, not retrained (add seeds or "
            "ablations to a run)."
        ),
    ] = None,
) -> None:
    """The paper's offline evaluation on a world: every table, plots, metrics.json."""
    from colisten.world.format import WorldManifest
    from trainers.evaluation.config import parse_holdout_days
    from trainers.evaluation.resume import ReuseError
    from trainers.evaluation.run import EvalConfig, run_evaluation

    world_dir(world)
    world, out = world.resolve(), out.resolve()  # Feast resolves relative to its repo
    try:
        days = parse_holdout_days(holdout_days, WorldManifest.read(world))
    except ValueError as e:
        raise fail(str(e)) from e
    over: dict[str, object] = {"holdout_days": days}
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
            raise fail(f"--seeds wants comma-separated integers, got {seeds!r}") from e
    try:
        cfg = EvalConfig.quick(**over) if quick else EvalConfig(**over)  # type: ignore[arg-type]
    except ValueError as e:
        raise fail(str(e)) from e
    sources = [Path(p).resolve() for p in (reuse or "").split(",") if p.strip()]
    try:
        res = run_evaluation(world, out, cfg, reuse=sources)
    except ReuseError as e:
        raise fail(str(e)) from e
    table = Table("method", "HR@10", "MRR", "Coverage", title="warm users")
    for name, m in res["tables"]["warm"].items():
        table.add_row(
            name, f"{m['hr10']:.3f}", f"{m['mrr']:.3f}", f"{100 * m['coverage']:.1f}%"
        )
    console.print(table)
    console.print(f"report: {out / 'report.md'} ({res['timing_s']['total']:.0f}s)")
