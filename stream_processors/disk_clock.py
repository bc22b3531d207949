"""PartitionClock with its expiry schedule in RocksDB, for state larger than memory.

`PartitionClock` keeps one heap entry and one dict entry per scheduled key (~200 bytes in
Python); with millions of co-listened pairs that alone outgrows a worker's memory. This
clock keeps the same schedule in a local RocksDB database, ordered by (partition, expiry,
key), so `due` is a range scan. Watermarks stay in memory (one int per partition). The
schedule is scratch: like the in-memory one it is rebuilt from the restored tables after
every recovery, so the database is wiped when opened and written without a WAL.

Two things in memory keep the database off the per-event path: the earliest expiry that
may be scheduled per partition (a `due` before it returns at once instead of scanning,
and a scan starts there, past the deleted entries of earlier scans),
and the scheduled time of up to `remembered` recently scheduled keys (a `schedule` that
would change nothing, the common case, skips the lookup). Both are exact, written
through with the database.
"""

from __future__ import annotations

from pathlib import Path

import rocksdict

from stream_processors import rocks_store
from stream_processors.clock import PartitionClock

_OFFSET = 1 << 63  # expiry times as unsigned big-endian: byte order is time order


def _partition(partition: int) -> bytes:
    return partition.to_bytes(2, "big")


def _time(ms: int) -> bytes:
    return (ms + _OFFSET).to_bytes(8, "big")


class DiskPartitionClock(PartitionClock):
    """Event time per partition in memory; keys due to expire in a RocksDB database."""

    def __init__(self, path: Path, remembered: int = 50_000) -> None:
        super().__init__()
        self.remembered = remembered
        self._when: dict[tuple[int, str], bytes] = {}
        """(partition, key) -> its scheduled expiry's bytes, for the latest keys."""
        self._earliest: dict[int, int] = {}
        """Partition -> no key of it is scheduled before this time (absent: none is)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_write_buffer_size(8 * 1024**2)
        options.set_max_write_buffer_number(2)
        rocks_store.use_shared_memory(options)
        if path.exists():
            rocksdict.Rdict.destroy(str(path), options)
        self.db = rocksdict.Rdict(str(path), options=options)
        write = rocksdict.WriteOptions()
        write.disable_wal = True
        self.db.set_write_options(write)

    def schedule(self, partition: int, key: str, expiry_ms: int) -> None:
        """As PartitionClock.schedule: one entry per key, the earliest expiry wins."""
        when, memo = _time(expiry_ms), (partition, key)
        scheduled = self._when.get(memo)
        if scheduled is not None and scheduled <= when:
            return
        part, name = _partition(partition), key.encode()
        index_key = b"n" + part + name
        if scheduled is None:
            scheduled = self.db.get(index_key)
            if scheduled is not None and scheduled <= when:
                self._remember(memo, scheduled)
                return
        if scheduled is not None:
            self.db.delete(b"s" + part + scheduled + name)
        self.db.put(index_key, when)
        self.db.put(b"s" + part + when + name, b"")
        self._remember(memo, when)
        if expiry_ms < self._earliest.get(partition, expiry_ms + 1):
            self._earliest[partition] = expiry_ms

    def _remember(self, memo: tuple[int, str], when: bytes) -> None:
        if memo not in self._when and len(self._when) >= self.remembered:
            del self._when[next(iter(self._when))]  # the oldest remembered
        self._when[memo] = when

    def due(self, partition: int) -> list[str]:
        """Remove and return the keys whose expiry is at or before the watermark."""
        now = self.now(partition)
        earliest = self._earliest.get(partition)
        if now < 0 or earliest is None or earliest > now:
            return []
        part = _partition(partition)
        start, stop = b"s" + part, b"s" + part + _time(now + 1)
        found: list[bytes] = []
        it = self.db.iter()
        # from the earliest expiry, not the partition's start: the entries `due` deleted
        # lie before it, and a seek would step over each of their tombstones until a
        # compaction drops them (11.7% of the worker's loop on `small`)
        it.seek(start + _time(earliest))
        while it.valid() and it.key() < stop:
            found.append(it.key())
            it.next()
        after = it.key() if it.valid() else None
        del it
        if after is not None and after.startswith(start):  # the partition's next expiry
            self._earliest[partition] = int.from_bytes(after[3:11], "big") - _OFFSET
        else:
            del self._earliest[partition]
        keys: list[str] = []
        for entry in found:
            name = entry[11:]  # b"s" + 2 partition bytes + 8 time bytes
            self.db.delete(entry)
            self.db.delete(b"n" + part + name)
            key = name.decode()
            self._when.pop((partition, key), None)
            keys.append(key)
        return keys

    def reset(self, partition: int) -> None:
        """Forget a partition's schedule (before rebuilding it from restored state)."""
        part, after = _partition(partition), _partition(partition + 1)
        self.db.delete_range(b"s" + part, b"s" + after)
        self.db.delete_range(b"n" + part, b"n" + after)
        self._earliest.pop(partition, None)
        self._when = {m: w for m, w in self._when.items() if m[0] != partition}

    def close(self) -> None:
        """Close the database."""
        self.db.close()
