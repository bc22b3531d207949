"""The `colisten` command line: one module per command group, thin typer glue over each
stage's functions (`python -m infra.cli` is the same as `colisten`)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from infra.cli.main import app  # noqa: E402

__all__ = ["app"]
