"""run_python: run a script in a fresh interpreter (clean sys.modules), return its stdout."""

from __future__ import annotations

import subprocess
import sys


def run_python(script: str, timeout: float = 120) -> str:
    """Run script with this interpreter in a new process; assert it exits 0; its stdout."""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()
