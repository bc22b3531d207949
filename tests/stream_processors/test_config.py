"""StreamConfig rejects what the worker cannot run, with a message that says why."""

from __future__ import annotations

import pytest

from colisten.settings import ConfigError
from stream_processors.config import StreamConfig


def test_rocksdb_store_is_the_default_and_memory_accepted() -> None:
    assert StreamConfig(bootstrap="127.0.0.1:1").store == "rocksdb://"
    memory = StreamConfig(bootstrap="127.0.0.1:1", store="memory://")
    assert memory.store == "memory://" and not memory.tables_on_disk


def test_the_store_is_taken_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLISTEN_STREAM_STORE", "memory://")
    assert StreamConfig.from_env().store == "memory://"


def test_unknown_store_is_rejected_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"use one of memory://, rocksdb://"):
        StreamConfig(bootstrap="127.0.0.1:1", store="aerospike://")


def test_bad_numbers_are_rejected() -> None:
    with pytest.raises(ConfigError, match="partitions"):
        StreamConfig(bootstrap="127.0.0.1:1", partitions=0)
    with pytest.raises(ConfigError, match="rocksdb memory budgets"):
        StreamConfig(bootstrap="127.0.0.1:1", rocksdb_block_cache_mb=0)
    with pytest.raises(ConfigError, match="malloc_arenas"):
        StreamConfig(bootstrap="127.0.0.1:1", malloc_trim_s=-1)
    with pytest.raises(ConfigError, match="writer_rows_per_send"):
        StreamConfig(bootstrap="127.0.0.1:1", writer_rows_per_send=0)


def test_the_writer_limits_are_the_configs_fields() -> None:
    cfg = StreamConfig(
        bootstrap="127.0.0.1:1", writer_rows_per_send=7, writer_sqlite_cache_mb=3
    )
    limits = cfg.writer_limits
    assert (limits.rows_per_send, limits.sqlite_cache_mb) == (7, 3)
    assert (limits.malloc_arenas, limits.malloc_trim_s) == (2, 10.0)


def test_partitions_follow_colisten_partitions_unless_the_worker_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLISTEN_PARTITIONS", "8")
    assert StreamConfig.from_env().partitions == 8
    monkeypatch.setenv("COLISTEN_STREAM_PARTITIONS", "2")
    assert StreamConfig.from_env().partitions == 2


def test_an_unknown_stream_variable_is_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLISTEN_STREAM_RECENT_ITEM", "10")  # typo of RECENT_ITEMS
    with pytest.raises(ConfigError, match="COLISTEN_STREAM_RECENT_ITEM;.*RECENT_ITEMS"):
        StreamConfig.from_env()
