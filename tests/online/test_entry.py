"""The uvicorn worker entry builds the API without ever importing torch."""

from __future__ import annotations

from tests.fresh_python import run_python

SCRIPT = """
import sys
import online.entry
assert sys.modules["torch"] is None, "torch was imported"
assert callable(online.entry.create_app)
print("ok")
"""


def test_entry_imports_the_app_without_torch() -> None:
    assert run_python(SCRIPT).endswith("ok")
