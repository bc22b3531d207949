"""block_torch keeps torch out of a process while Feast still imports and works."""

from __future__ import annotations

from tests.fresh_python import run_python

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
    assert run_python(SCRIPT).endswith("ok")


def test_an_imported_torch_is_left_alone() -> None:
    script = "import torch\nfrom colisten.lean import block_torch\nprint(block_torch())"
    assert run_python(script) == "False"
