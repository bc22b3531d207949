"""`colisten store apply|materialize`: the Feast feature store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from infra.cli.common import console, fail, world_dir

app = typer.Typer(help="The Feast feature store.", no_args_is_help=True)


@app.command("apply")
def store_apply() -> None:
    """Register every entity, view and service in the Feast registry."""
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import apply_definitions, open_store

    cfg = FeatureStoreConfig.from_env()
    apply_definitions(open_store(cfg), cfg)
    console.print(
        f"applied feature definitions ({cfg.online} online store, {cfg.data_dir})"
    )


@app.command("materialize")
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
    from colisten.settings import settings
    from colisten.world.format import event_time
    from feature_repo.config import FeatureStoreConfig
    from trainers.materialize.run import materialize

    world_dir(world)
    if recent_items not in ("labels", "all"):
        raise fail(f"--recent-items is 'labels' or 'all', not {recent_items!r}")
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
