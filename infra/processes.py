"""Child processes of colisten (stream workers, the API): start in a group, stop cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

CLI_MODULE = "infra.cli"
"""The module `python -m` runs as the `colisten` command line."""


def cli_command(*args: str) -> list[str]:
    """The command line of `colisten args...` run by this interpreter, for subprocesses."""
    return [sys.executable, "-m", CLI_MODULE, *args]


class ManagedProcess:
    """A child process in its own process group, logging to a file; stop() leaves no strays."""

    def __init__(
        self,
        args: list[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        full_env = {**os.environ, **(env or {})}
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )

    @classmethod
    def python_module(
        cls,
        module: str,
        log_path: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
    ) -> ManagedProcess:
        """Run `python -m module args...` with this interpreter."""
        return cls([sys.executable, "-m", module, *args], log_path, env=env)

    @property
    def pid(self) -> int:
        """The child's pid (also its process group id)."""
        return self.proc.pid

    def alive(self) -> bool:
        """True while the child runs."""
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group at once (crash simulation)."""
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM the group, wait, SIGKILL what lingers; return the exit code."""
        if self.alive():
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._signal_group(signal.SIGKILL)  # any grandchildren left in the group
        return self.proc.returncode

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def tail(self, n: int = 30) -> str:
        """The last n lines of the child's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def wait_for(
    predicate: Callable[[], bool],
    timeout_s: float,
    interval_s: float = 0.1,
    what: str = "condition",
    context: Callable[[], str] | None = None,
) -> float:
    """Poll predicate until true; return seconds waited, or raise TimeoutError.

    `context` (e.g. a child's log tail) is appended to the error, for diagnosis in CI.
    """
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            extra = f"\n{context()}" if context is not None else ""
            raise TimeoutError(f"{what} not reached within {timeout_s}s{extra}")
        time.sleep(interval_s)
