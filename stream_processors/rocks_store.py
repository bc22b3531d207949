"""Faust's RocksDB table store, made to accept writes and reads outside a single event.

Faust's `rocksdb://` store takes the partition of every write, and of most reads, from
the *current event* (`faust.stores.rocksdb.Store._set` asserts one exists). The worker
folds a whole batch and then writes each changed key with an explicit changelog
partition (`working_set.put_with_partition`), so the current event is absent or belongs
to another key. This subclass takes each write's partition from `writing_to(partition)`,
and looks every read up by key (Faust's key index, then each partition's database), so
table state lives on disk instead of in Python dicts.
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

_write_partition: ContextVar[int | None] = ContextVar("_write_partition", default=None)


@contextmanager
def writing_to(partition: int) -> Iterator[None]:
    """Within the block, table writes go to this partition's database."""
    token = _write_partition.set(partition)
    try:
        yield
    finally:
        _write_partition.reset(token)


class PartitionedRocksStore(Store):  # type: ignore[misc]
    """A RocksDB store whose writes name their partition and whose reads go by key."""

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = _write_partition.get()
        if partition is None:  # an ordinary per-event write: Faust's own path
            super()._set(key, value)
            return
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)

    def _get(self, key: bytes) -> bytes | None:
        found = self._get_bucket_for_key(key)
        return None if found is None else found[1]

    def _contains(self, key: bytes) -> bool:
        return self._get_bucket_for_key(key) is not None


def register() -> None:
    """Make `colisten-rocksdb://` resolve to PartitionedRocksStore in Faust."""
    faust.stores.STORES.data["colisten-rocksdb"] = (
        f"{__name__}:{PartitionedRocksStore.__name__}"
    )
