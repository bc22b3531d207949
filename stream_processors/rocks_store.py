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
import rocksdict
from faust.stores.rocksdb import RocksDBOptions, Store

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
each could open up to 90% of the process's file limit. With `share_memory` the block
cache and the write buffers' total are the process's, not each database's."""

_shared: tuple[rocksdict.Cache, rocksdict.WriteBufferManager] | None = None


def share_memory(block_cache_bytes: int, write_buffer_bytes: int) -> None:
    """Every database opened after this (tables and expiry clocks) shares one block cache
    of `block_cache_bytes` and keeps its memtables within one `write_buffer_bytes`
    budget: the worker's RocksDB memory stops growing with its number of databases."""
    global _shared
    _shared = (
        rocksdict.Cache(block_cache_bytes),
        rocksdict.WriteBufferManager(write_buffer_bytes, False),
    )


def use_shared_memory(options: rocksdict.Options, bloom_bits: int = 3) -> None:
    """Point `options` at the process's shared block cache and write-buffer budget
    (nothing when `share_memory` was not called)."""
    if _shared is None:
        return
    cache, write_buffers = _shared
    table = rocksdict.BlockBasedOptions()
    table.set_bloom_filter(bloom_bits, block_based=True)
    table.set_block_cache(cache)
    table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
    options.set_block_based_table_factory(table)
    options.set_write_buffer_manager(write_buffers)


class SharedMemoryOptions(RocksDBOptions):  # type: ignore[misc]
    """Faust's per-database options, with the shared cache and budget when set."""

    def as_options(self) -> rocksdict.Options:
        """Faust's options, then `use_shared_memory`."""
        options = super().as_options()
        use_shared_memory(options, self.bloom_filter_size)
        return options


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rocksdb_options = SharedMemoryOptions(
            **self.options, use_rocksdict=self.use_rocksdict
        )

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
