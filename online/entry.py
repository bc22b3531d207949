"""uvicorn's worker entry: keep torch out of the API process, then build the app.

The API needs Feast but not torch, which Feast imports eagerly when it is installed
(~470 MB of RSS per process; see `colisten.lean`). Worker processes import this module
before anything imports Feast.
"""

from colisten.lean import block_torch

block_torch()

from online.app import create_app  # noqa: E402

__all__ = ["create_app"]
