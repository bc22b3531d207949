"""`colisten stream worker`: run a stream worker (Faust)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Stream processors.", no_args_is_help=True)


@app.command("worker")
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
    from stream_processors.malloc_tuning import arrow_on_system_malloc

    arrow_on_system_malloc()  # all of Arrow only if nothing imported pyarrow yet
    from stream_processors.app import run_worker

    run_worker(loglevel=loglevel)
