"""Keep torch out of processes that never use it: Feast imports it eagerly when installed."""

from __future__ import annotations

import sys


def block_torch() -> bool:
    """Make `import torch` fail in this process, unless torch is already imported.

    Feast (`feast.torch_wrapper`) imports torch at import time whenever it is installed,
    for tensor helpers the stream worker never calls. In the worker and its store writer
    that cost ~470 MB of RSS and ~1.5 s of start-up per process. Feast catches the failed
    import and carries on without its torch helpers. Returns whether the block is in place.
    """
    if "torch" in sys.modules and sys.modules["torch"] is not None:
        return False
    sys.modules["torch"] = None  # type: ignore[assignment]
    return True
