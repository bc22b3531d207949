"""`colisten serve`: the recommendation API."""

from __future__ import annotations

import os
from typing import Annotated

import typer


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
