"""block_torch keeps torch out of a process while Feast still imports and works."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from colisten.lean import block_torch
assert block_torch()
from feast import torch_wrapper
from feature_repo.store import open_store  # Feast's whole import chain
assert not torch_wrapper.TORCH_AVAILABLE
assert sys.modules["torch"] is None
print("ok")
"""


def test_feast_imports_without_torch() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_an_imported_torch_is_left_alone() -> None:
    script = "import torch\nfrom colisten.lean import block_torch\nprint(block_torch())"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
