"""Faust's RocksDB table store, made to accept writes and reads outside a single event.

Faust's `rocksdb://` store takes the partition of every write, and of most reads, from
the *current event* (`faust.stores.rocksdb.Store._set` asserts one exists). The worker
folds a whole batch and then writes each changed key with an explicit changelog
partition (`app.RestoringTable.put`, which hands this store the changelog record's
bytes, or `working_set.put_with_partition`), so the current event is absent or belongs
to another key. This subclass takes each read's and write's partition from
`in_partition(partition)` (the stages always know it: a key arrives on one partition
only), so a read is one lookup in one database. Faust's own path, kept for a read
that names no partition, looks the key up in a 1,000-key index and on a miss asks
every partition's database in turn: 5.4x the time per existing key and 12x per new key
on 4 partitions (bench/RESULTS.md, session 18), and keeping that index current cost a
write more than the RocksDB put itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import faust.stores
from faust.stores.rocksdb import Store

STORE_URL = "colisten-rocksdb://"
"""The URL the worker gives Faust for this store (`StreamConfig.store="rocksdb://"`)."""

ROCKSDB_OPTIONS: dict[str, Any] = {
    "write_buffer_size": 8 * 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 32 * 1024**2,
    "block_cache_size": 16 * 1024**2,
    "block_cache_compressed_size": 0,
    "max_open_files": 128,
}
"""Per partition database. Faust's defaults (64 MiB × 3 write buffers and a 2 GiB block
cache per database) would let 12 databases grow past the worker's memory budget, and
each could open up to 90% of the process's file limit."""

_partition: ContextVar[int | None] = ContextVar("_partition", default=None)


@contextmanager
def in_partition(partition: int) -> Iterator[None]:
    """Within the block, table reads and writes go to this partition's database."""
    token = _partition.set(partition)
    try:
        yield
    finally:
        _partition.reset(token)


class PartitionedRocksStore(Store):  # type: ignore[misc]
    """A RocksDB store whose reads and writes name their partition."""

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = _partition.get()
        if partition is None:  # an ordinary per-event write: Faust's own path
            super()._set(key, value)
            return
        self.put_encoded(partition, key, value)

    def put_encoded(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Write a key's stored bytes (its changelog record's, as a restore writes them)
        to `partition`'s database."""
        self._db_for_partition(partition).put(key, value)

    def _get(self, key: bytes) -> bytes | None:
        partition = _partition.get()
        if partition is not None:
            return self._db_for_partition(partition).get(key)  # type: ignore[no-any-return]
        # no partition named: Faust's key index, else every partition's database
        found = self._get_bucket_for_key(key)
        return None if found is None else found[1]

    def _contains(self, key: bytes) -> bool:
        return self._get(key) is not None


def register() -> None:
    """Make `colisten-rocksdb://` resolve to PartitionedRocksStore in Faust."""
    faust.stores.STORES.data["colisten-rocksdb"] = (
        f"{__name__}:{PartitionedRocksStore.__name__}"
    )
