"""The uvicorn worker entry builds the API without ever importing torch."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import online.entry
assert sys.modules["torch"] is None, "torch was imported"
assert callable(online.entry.create_app)
print("ok")
"""


def test_entry_imports_the_app_without_torch() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
