"""The online store writer in a child process, so feature writes use a core of their own.

The worker's event loop, its folds and Faust's bookkeeping share one interpreter lock; an
online flush converting and writing thousands of rows held it for a large share of the
worker's time. `WriterProcess` keeps the same `write(batches) -> rows` contract as
`OnlineWriter` (the sink cannot tell them apart) but ships each batch over a pipe to a
child that owns the store connection and answers with the row count or the error. The
caller blocks in `recv` with the lock released, so the worker keeps folding meanwhile.

Failure semantics stay the sink's: a failed or lost write raises, the sink keeps the rows
and retries; a dead child is restarted on the next write. The child exits on its own when
the worker dies (its end of the pipe reports EOF), so a SIGKILLed worker leaves no orphan.
The child is spawned, so like any spawn-started process it re-imports the parent's main
module: a script that creates a `WriterProcess` needs an `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from feature_repo.config import FeatureStoreConfig
from stream_processors import malloc_tuning

log = logging.getLogger(__name__)
_START_TIMEOUT_S = 120.0


class StoreWriteError(RuntimeError):
    """The child could not write a batch; the message is the child's error."""


@dataclass(frozen=True)
class WriterLimits:
    """What bounds the writer child's memory (the StreamConfig fields of the same names)."""

    malloc_arenas: int = 0
    """glibc malloc arenas of the child (malloc_tuning.py; 0: glibc's default)."""
    malloc_trim_s: float = 0.0
    """Give freed malloc memory back at least this often, after a write (0: never)."""
    rows_per_send: int = 2000
    """Rows per message to the child: its transient memory per write."""
    sqlite_cache_mb: int = 16
    """SQLite page cache of the child's connection (OnlineWriter)."""

    def __post_init__(self) -> None:
        if self.rows_per_send < 1 or self.sqlite_cache_mb < 1:
            raise ValueError("rows_per_send and sqlite_cache_mb must be >= 1")


def split_rows(
    batches: Mapping[str, Sequence[dict[str, Any]]], rows: int
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The batches as messages of at most `rows` rows each, every row once, in order."""
    message: dict[str, list[dict[str, Any]]] = {}
    room = rows
    for view, view_rows in batches.items():
        start = 0
        while start < len(view_rows):
            take = list(view_rows[start : start + room])
            message[view] = take
            start, room = start + len(take), room - len(take)
            if room == 0:
                yield message
                message, room = {}, rows
    if message:
        yield message


def _serve(
    conn: Connection, store_cfg: FeatureStoreConfig, limits: WriterLimits
) -> None:
    """Child main: open the store, then write each batch received until told to stop."""
    from colisten.lean import block_torch

    malloc_tuning.limit_arenas(limits.malloc_arenas)

    # SIGTERM/SIGINT sent to the worker's process group (a supervisor, Ctrl-C) must not
    # kill the writer before the worker's final flush; the worker closes it, or its EOF does
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    block_torch()
    from feature_repo.definitions import PUSH_FED_LAYOUTS
    from feature_repo.online_write import OnlineWriter
    from feature_repo.store import open_store

    try:
        writer = OnlineWriter(
            open_store(store_cfg), PUSH_FED_LAYOUTS, limits.sqlite_cache_mb
        )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send((False, f"writer start failed: {exc!r}"))
        return
    conn.send((True, 0))
    trimmed = time.monotonic()
    while True:
        try:
            batches = conn.recv()
        except (EOFError, OSError):  # the worker is gone
            return
        if batches is None:
            return
        try:
            conn.send((True, writer.write(batches)))
        except Exception as exc:  # noqa: BLE001 - every store error goes back to the sink
            conn.send((False, repr(exc)))
        del batches  # freed before a trim
        trim_s = limits.malloc_trim_s
        if trim_s and time.monotonic() - trimmed >= trim_s:
            malloc_tuning.trim()
            trimmed = time.monotonic()


class WriterProcess:
    """`OnlineWriter` in a child process: write() ships a batch and waits for the result."""

    def __init__(
        self, store_cfg: FeatureStoreConfig, limits: WriterLimits | None = None
    ) -> None:
        """Start the child, which keeps within `limits` (WriterLimits' defaults if None)."""
        self.store_cfg = store_cfg
        self.limits = limits or WriterLimits()
        self._ctx = mp.get_context("spawn")  # no forked event loop or Kafka sockets
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_serve,
            args=(child, self.store_cfg, self.limits),
            name="colisten-store-writer",
            daemon=True,
        )
        proc.start()
        child.close()
        if not parent.poll(_START_TIMEOUT_S):
            proc.kill()
            raise StoreWriteError("store writer did not start")
        try:
            ok, message = parent.recv()
        except EOFError:
            proc.join(5)
            raise StoreWriteError(
                f"store writer exited during start (exit code {proc.exitcode})"
            ) from None
        if not ok:
            proc.join(5)
            raise StoreWriteError(message)
        self._proc, self._conn = proc, parent

    @property
    def pid(self) -> int | None:
        """The child's process id (None before the first start)."""
        return self._proc.pid if self._proc is not None else None

    def write(self, batches: Mapping[str, Sequence[dict[str, Any]]]) -> int:
        """Write every view's rows in the child; return rows written, or raise."""
        with self._lock:
            if self._conn is None or not self._proc.is_alive():
                self._restart()
            assert self._conn is not None
            written = 0
            for message in split_rows(batches, self.limits.rows_per_send):
                try:
                    self._conn.send(message)
                    ok, payload = self._conn.recv()
                except (EOFError, OSError) as exc:
                    self._conn = None  # restarted on the next write
                    raise StoreWriteError(f"store writer died: {exc!r}") from exc
                if not ok:
                    raise StoreWriteError(payload)
                written += int(payload)
            return written

    def _restart(self) -> None:
        if self._proc is not None:
            log.warning("store writer (pid %s) is gone; restarting it", self._proc.pid)
            self._proc.join(1)
        self.restarts += 1
        self._start()

    def close(self) -> None:
        """Stop the child after any write in flight."""
        with self._lock:
            if self._conn is not None and self._proc.is_alive():
                try:
                    self._conn.send(None)
                except OSError:
                    pass
                self._proc.join(10)
            if self._proc is not None and self._proc.is_alive():
                self._proc.kill()
            self._conn = None
