"""`colisten models list`: the model store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from infra.cli.common import console

app = typer.Typer(help="The model store.", no_args_is_help=True)


@app.command("list")
def models_list(
    root: Annotated[
        Path | None, typer.Option(help="Registry root (default: COLISTEN_MODELS_DIR).")
    ] = None,
) -> None:
    """Every registered HGNN and two-tower version; `latest` marks what is served."""
    from colisten.model_store import ModelStore

    store = ModelStore(root) if root is not None else ModelStore.default()
    base = store.root
    rows = store.describe()
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
