"""Micro-batched, idempotent writes of absolute feature rows to Feast and parquet."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from colisten import names
from feature_repo.offline import write_offline_part

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def stamp_time(stamp_us: int) -> datetime:
    """A stamp in µs since the epoch as an aware UTC datetime (exact, and far cheaper
    than a pandas Timestamp: the sink makes one per staged row)."""
    return _EPOCH + timedelta(microseconds=stamp_us)


def time_stamp(when: datetime) -> int:
    """The inverse of stamp_time: µs since the epoch of an aware datetime."""
    return (when - _EPOCH) // _MICROSECOND


class RowWriter(Protocol):
    """Writes the latest absolute rows per view to an online store (`OnlineWriter`)."""

    def write(self, batches: Mapping[str, Sequence[dict[str, Any]]]) -> int:
        """Write every view's rows; return how many were written."""
        ...


@dataclass
class _Pending:
    """Rows waiting for a flush: latest per key online, every distinct version offline."""

    online: dict[str, dict[str, Any]] = field(default_factory=dict)
    stamps: dict[str, int] = field(default_factory=dict)
    """The stamp of each online row (a row never replaces one with a newer stamp)."""
    offline: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)


class FeatureSink:
    """Buffers feature rows per view; writes the latest per key, absolute values only.

    Re-applying a flush is harmless (rows are absolute and keyed), so a replay after a crash
    converges to the same store. Online rows go to the view's Feast online store through
    `OnlineWriter` (the rows a push would write, without its per-batch DataFrame and Arrow
    conversion; each write it is given in one SQLite transaction, and `WriterProcess`
    gives it a flush in bounded messages); the same rows, each with
    its event timestamp, are written as parquet parts to the view's offline folder (the
    push source's batch source).
    """

    def __init__(
        self,
        writer: RowWriter,
        data_dir: Path,
        schemas: Mapping[str, pa.Schema],
        join_keys: Mapping[str, str],
        worker_id: str | None = None,
    ) -> None:
        self.writer = writer
        self.data_dir = data_dir
        self.schemas = dict(schemas)
        self.join_keys = dict(join_keys)
        self.worker_id = worker_id or uuid.uuid4().hex[:8]
        self._pending: dict[str, _Pending] = {v: _Pending() for v in schemas}
        self._lock = threading.Lock()
        # one online write at a time, and one offline write at a time, but never one
        # behind the other: an online flush into a big store can take seconds to tens of
        # seconds on `large`, and offline rows (every version) held that long were the
        # worker's memory peaks (bench/RESULTS.md, session 21)
        self._online_lock = threading.Lock()
        self._offline_lock = threading.Lock()
        self.failures = 0
        self._seq = 0
        self.rows_written = 0

    def stage(
        self, view: str, key: str, values: Mapping[str, Any], stamp_us: int
    ) -> None:
        """Queue the absolute values of one key, stamped stamp_us (event time, microseconds).

        Stamps of one key must increase with every update: stores such as Feast's Redis
        store ignore a write whose timestamp is not newer than the stored one. Likewise a
        row staged with an older stamp than the one waiting (a restore re-pushing a state
        while an agent already folded a newer one) does not replace it online.
        """
        row = {
            self.join_keys[view]: key,
            **values,
            names.EVENT_TIMESTAMP: stamp_time(stamp_us),
        }
        with self._lock:
            pend = self._pending[view]
            pend.offline[(key, stamp_us)] = row
            if pend.stamps.get(key, stamp_us) <= stamp_us:
                pend.online[key] = row
                pend.stamps[key] = stamp_us

    def pending_online(self) -> int:
        """How many distinct keys wait for the next online flush."""
        with self._lock:
            return sum(len(p.online) for p in self._pending.values())

    def flush_online(self) -> int:
        """Push the latest row per key of every view to the online store; return rows pushed."""
        with self._online_lock:
            return self._flush_online()

    def _flush_online(self) -> int:
        with self._lock:
            taken = {
                v: (p.online, p.stamps) for v, p in self._pending.items() if p.online
            }
            batches = {v: list(rows.values()) for v, (rows, _) in taken.items()}
            for v in taken:
                self._pending[v].online, self._pending[v].stamps = {}, {}
        try:
            pushed = self.writer.write(batches)
        except Exception:
            with self._lock:  # keep them for the next try, unless a newer row arrived
                for view, (rows, stamps) in taken.items():
                    pend = self._pending[view]
                    for key, row in rows.items():
                        if key not in pend.online:
                            pend.online[key], pend.stamps[key] = row, stamps[key]
            raise
        self.rows_written += pushed
        return pushed

    def flush_offline(self) -> int:
        """Write every staged row version, with its event timestamp, as offline parquet parts."""
        with self._offline_lock:
            return self._flush_offline()

    def _flush_offline(self) -> int:
        with self._lock:
            batches = {
                v: list(p.offline.values())
                for v, p in self._pending.items()
                if p.offline
            }
            for p in self._pending.values():
                p.offline = {}
        written = 0
        for view, rows in batches.items():
            self._seq += 1
            name = f"part-{int(time.time() * 1000)}-{self.worker_id}-{self._seq:06d}"
            try:
                write_offline_part(view, rows, self.schemas[view], name, self.data_dir)
            except Exception:
                self._restore_offline(
                    {
                        v: r
                        for v, r in batches.items()
                        if v not in self._done(view, batches)
                    }
                )
                raise
            written += len(rows)
        return written

    @staticmethod
    def _done(failed: str, batches: dict[str, list[dict[str, Any]]]) -> set[str]:
        names = list(batches)
        return set(names[: names.index(failed)])

    def _restore_offline(self, batches: dict[str, list[dict[str, Any]]]) -> None:
        """Put unwritten offline rows back (a newer version of a row wins)."""
        with self._lock:
            for view, rows in batches.items():
                pend = self._pending[view].offline
                for row in rows:
                    stamp = time_stamp(row[names.EVENT_TIMESTAMP])
                    pend.setdefault((row[self.join_keys[view]], stamp), row)

    def flush(self) -> int:
        """Flush online then offline (even if the online write fails); return rows pushed."""
        try:
            return self.flush_online()
        finally:
            self.flush_offline()
