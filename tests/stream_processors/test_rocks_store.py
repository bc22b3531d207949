"""PartitionedRocksStore: batch reads and writes name their partition; no current event."""

from __future__ import annotations

from pathlib import Path

import faust
import pytest

from stream_processors import rocks_store
from stream_processors.rocks_store import PartitionedRocksStore, in_partition


def rocks_app(tmp_path: Path) -> faust.App:
    """A Faust app whose tables use the worker's on-disk store (never started)."""
    rocks_store.register()
    return faust.App(
        "rocks-store-test",
        broker="kafka://127.0.0.1:1",
        store=rocks_store.STORE_URL,
        datadir=str(tmp_path),
    )


@pytest.fixture
def store(tmp_path: Path) -> PartitionedRocksStore:
    """The store of a 4-partition table, its databases opened (no broker needed)."""
    app = rocks_app(tmp_path)
    table = app.Table("states", partitions=4, options=dict(rocks_store.ROCKSDB_OPTIONS))
    data = table.data
    assert isinstance(data, PartitionedRocksStore)
    for partition in range(4):
        data._db_for_partition(partition)
    return data


def test_a_write_lands_in_the_named_partition_only(
    store: PartitionedRocksStore,
) -> None:
    with in_partition(2):
        store._set(b"user-7", b'{"n": 1}')
    assert store._dbs[2].get(b"user-7") == b'{"n": 1}'
    assert all(store._dbs[p].get(b"user-7") is None for p in (0, 1, 3))


def test_a_read_naming_its_partition_looks_in_that_database_only(
    store: PartitionedRocksStore,
) -> None:
    with in_partition(1):
        store._set(b"a", b"1")
    with in_partition(1):
        assert store._get(b"a") == b"1" and store._contains(b"a")
    with in_partition(2):  # one lookup in partition 2's database, which lacks it
        assert store._get(b"a") is None and not store._contains(b"a")
    assert not store._key_index  # the named path neither reads nor feeds Faust's index


def test_reads_naming_no_partition_find_keys_without_a_current_event(
    store: PartitionedRocksStore,
) -> None:
    with in_partition(1):
        store._set(b"a", b"1")
    with in_partition(3):
        store._set(b"b", b"2")
    store._key_index.clear()  # as after a restart: found by scanning the partitions
    assert store._get(b"a") == b"1"
    assert store._get(b"b") == b"2"
    assert store._get(b"missing") is None
    assert store._contains(b"b") and not store._contains(b"missing")


def test_a_write_outside_any_partition_or_event_is_refused(
    store: PartitionedRocksStore,
) -> None:
    with pytest.raises(AssertionError):
        store._set(b"k", b"v")  # Faust's own path: it needs the current event


def test_the_partition_is_scoped_to_the_block(store: PartitionedRocksStore) -> None:
    with in_partition(0):
        with in_partition(3):
            store._set(b"inner", b"x")
        store._set(b"outer", b"y")
    assert store._dbs[3].get(b"inner") == b"x"
    assert store._dbs[0].get(b"outer") == b"y"


def test_small_rocksdb_buffers_are_used(store: PartitionedRocksStore) -> None:
    options = store.rocksdb_options
    assert options.block_cache_size == rocks_store.ROCKSDB_OPTIONS["block_cache_size"]
    assert options.write_buffer_size == rocks_store.ROCKSDB_OPTIONS["write_buffer_size"]


def test_a_stage_write_stores_its_changelog_records_bytes(tmp_path: Path) -> None:
    """RestoringTable.put encodes once: the database holds the changelog record's bytes
    (what a restore from the changelog would write), and reads decode them back."""
    from stream_processors.app import RestoringTable
    from stream_processors.changelog_batch import ChangelogBatch

    app = rocks_app(tmp_path)
    table = app.tables.add(
        RestoringTable(
            app,
            name="users",
            default=dict,
            partitions=4,
            options=dict(rocks_store.ROCKSDB_OPTIONS),
        )
    )
    table.changelog = ChangelogBatch(lambda: None)  # records queued, nothing sent
    table.put("u1", {"n": 1, "items": ["a"]}, 2)
    [((queued_table, partition), [(key_bytes, value_bytes)])] = (
        table.changelog._records.items()
    )
    assert queued_table is table and partition == 2
    assert table.data._dbs[2].get(key_bytes) == value_bytes
    with in_partition(2):
        assert table["u1"] == {"n": 1, "items": ["a"]}


def test_every_database_shares_one_cache_and_one_write_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After share_memory, the table partitions' and the expiry clock's memtables count
    against one budget, and reads fill one block cache."""
    from stream_processors.disk_clock import DiskPartitionClock

    monkeypatch.setattr(rocks_store, "_shared", None)  # restored after the test
    rocks_store.share_memory(8 * 2**20, 64 * 2**20)
    assert rocks_store._shared is not None
    cache, budget = rocks_store._shared
    app = rocks_app(tmp_path)
    data = app.Table(
        "states", partitions=4, options=dict(rocks_store.ROCKSDB_OPTIONS)
    ).data
    assert isinstance(data, PartitionedRocksStore)
    for partition in range(4):
        with in_partition(partition):
            for i in range(1000):
                data._set(f"k{i}".encode(), b"x" * 100)
    tables = budget.get_usage()
    assert tables > 0
    clock = DiskPartitionClock(tmp_path / "clock")
    for i in range(1000):
        clock.schedule(0, f"k{i}", i)
    assert budget.get_usage() > tables

    assert cache.get_usage() < 100_000
    for partition in range(4):
        data._dbs[partition].flush(True)
        with in_partition(partition):
            assert data._get(b"k7") == b"x" * 100
    assert cache.get_usage() > 4 * 4096  # a data block of each database
