"""Configuration of the stream worker: one frozen object, every field overridable by env."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from colisten import names
from colisten.settings import (
    ConfigError,
    env_overrides,
    kafka_bootstrap,
    settings,
    stream_dir,
)
from colisten.timeunits import DAY_MS
from stream_processors.writer_process import WriterLimits

STORES = ("memory://", "rocksdb://")
"""The table stores the worker supports (see StreamConfig.store)."""


@dataclass(frozen=True)
class BatchWindow:
    """How long a stage's batch collects: `within_s` caught up, `backlog_within_s` behind
    (stream_processors.batching)."""

    max_events: int
    within_s: float
    backlog_within_s: float
    backlog_records: int
    """Behind means: some partition holds more than this many records past the
    buffered ones."""


@dataclass(frozen=True)
class StreamConfig:
    """How the stream worker runs; env var COLISTEN_STREAM_<FIELD> overrides each field."""

    app_id: str = "colisten-stream"
    interactions_topic: str = names.INTERACTIONS_TOPIC
    dlq_topic: str = names.INTERACTIONS_DLQ_TOPIC
    pairs_topic: str = names.COLISTEN_PAIRS_TOPIC
    bootstrap: str = field(default_factory=kafka_bootstrap)
    partitions: int = field(default_factory=lambda: settings().partitions)
    """Partitions of the keyed topics: COLISTEN_PARTITIONS unless this worker's own
    COLISTEN_STREAM_PARTITIONS says otherwise."""
    store: str = "rocksdb://"
    """Table store: rocksdb:// (one RocksDB database per table partition under data_dir,
    restored only past its last persisted changelog offset, so state can outgrow memory;
    the default since it runs level with memory:// on `small`, bench/RESULTS.md session
    19) or memory:// (Python dicts, restored from the changelogs on every start). The
    rocksdb:// store is `rocks_store.PartitionedRocksStore`: Faust's own takes each
    write's partition from the current event, which a batch write does not have."""
    data_dir: Path = field(default_factory=stream_dir)
    window_days: int = 90
    recent_items: int = 50
    """N: how many distinct audiobooks and podcasts a user's recent list keeps."""
    flush_interval_s: float = 0.2
    """Online micro-batch: push at least this often..."""
    flush_max_rows: int = 2000
    """...or as soon as this many distinct keys are pending."""
    offline_flush_interval_s: float = 5.0
    """Offline rows are batched longer, to keep parquet parts few."""
    batch_max_events: int = 5000
    """Each stage folds up to this many messages at a time..."""
    batch_within_s: float = 0.02
    """...or what arrived within this long; state becomes durable once per batch."""
    backlog_within_s: float = 0.25
    """While the buffered events are behind their partitions' ends (catching up), a batch
    keeps collecting up to this long instead (batching.py): a batch's fixed costs, the
    changelog writes above all, are then shared by far more events."""
    backlog_records: int = 500
    """Stage 1 is behind when some `interactions` partition holds more than this many
    records past the buffered ones (stage 2: any waiting `colisten.pairs` message, each
    carrying a stage-1 batch).
    Under steady live load a few records always wait between two fetches; counting that
    as behind stretched every batch to backlog_within_s and doubled a follow's way to the
    online store (bench/RESULTS.md, session 12)."""
    records_per_message: int = 4000
    """Stage-2 records per colisten.pairs message (keeps messages well under 1 MB)."""
    state_cache: int = 20_000
    """Decoded states each stage keeps between batches, per table (0: decode every batch;
    see working_set). A restore drops them."""
    state_cache_mb: int = 32
    """...and at most this many MiB of them per table's working set (four: users, pairs,
    items' popularities, item-users), by the states' own estimate: the count alone does
    not bound memory, as states grow with their history (bench/RESULTS.md, session 21)."""
    gc_threshold: int = 100_000
    """Allocations between two young-generation runs of Python's cyclic garbage collector
    in the worker (Python's default is 700; 0 keeps it). A batch allocates far more than
    700 objects that die at its end, so with the default they survive into the older
    generations and set off full collections that scan every live state: the worker
    slowed as its tables grew (bench/RESULTS.md, session 11). The states themselves hold
    no reference cycles, so reference counting frees them either way."""
    rocksdb_block_cache_mb: int = 64
    """rocksdb://: one block cache for all the worker's databases (12 table partitions on
    4 partitions, and the two expiry clocks)..."""
    rocksdb_write_buffers_mb: int = 64
    """...and one budget for all their memtables (a flush starts past it)."""
    malloc_arenas: int = 2
    """glibc malloc arenas of the worker and its writer child (0: glibc's default, up to
    8 per core). Each thread that allocates (the flush executor, aiokafka's consumer,
    RocksDB's background jobs) otherwise gets an arena of its own, holding freed memory
    as RSS (malloc_tuning.py)."""
    malloc_trim_s: float = 10.0
    """Give freed malloc memory back to the kernel at least this often (0: never)."""
    writer_process: bool = True
    """Write the online store from a child process, off the worker's interpreter lock."""
    writer_rows_per_send: int = 2000
    """Rows per message to the writer child, each its own store transaction: bounds the
    child's memory while a catching-up worker flushes tens of thousands of rows."""
    writer_sqlite_cache_mb: int = 16
    """The writer's SQLite page cache (a bulk load's 128 MiB buys a stream's upserts
    little: bench/RESULTS.md, session 21)."""
    loglevel: str = "warn"
    """Faust worker log level: crit, error, warn, info or debug."""
    producer_stall_s: float = 60.0
    """Log the producer's delivery state (producer_watch.py) when a record batch waits
    this long for the broker's acknowledgement, and again each further interval the
    stall lasts: Faust's commit waits for every batch, for up to its 1,200 s request
    timeout, with nothing in the log."""

    def __post_init__(self) -> None:
        if self.partitions < 1:
            raise ConfigError("partitions must be >= 1")
        if self.store not in STORES:
            raise ConfigError(
                f"store {self.store!r} is not supported: use one of {', '.join(STORES)}"
            )
        if self.window_days < 1:
            raise ConfigError("window_days must be >= 1")
        if self.recent_items < 1:
            raise ConfigError("recent_items must be >= 1")
        if self.flush_interval_s <= 0 or self.offline_flush_interval_s <= 0:
            raise ConfigError("flush intervals must be > 0")
        if self.batch_max_events < 1 or not 1 <= self.records_per_message < 1_000_000:
            raise ConfigError(
                "batch_max_events must be >= 1, records_per_message in [1, 1e6)"
            )
        if self.gc_threshold < 0:
            raise ConfigError("gc_threshold must be >= 0")
        if self.rocksdb_block_cache_mb < 1 or self.rocksdb_write_buffers_mb < 1:
            raise ConfigError("rocksdb memory budgets must be >= 1 MiB")
        if self.malloc_arenas < 0 or self.malloc_trim_s < 0:
            raise ConfigError("malloc_arenas and malloc_trim_s must be >= 0")
        if self.writer_rows_per_send < 1 or self.writer_sqlite_cache_mb < 1:
            raise ConfigError(
                "writer_rows_per_send and writer_sqlite_cache_mb must be >= 1"
            )
        if self.backlog_records < 0:
            raise ConfigError("backlog_records must be >= 0")
        if self.state_cache < 0 or self.state_cache_mb < 1:
            raise ConfigError("state_cache must be >= 0 and state_cache_mb >= 1")
        if self.batch_within_s <= 0 or self.backlog_within_s < self.batch_within_s:
            raise ConfigError(
                "batch_within_s must be > 0 and backlog_within_s >= batch_within_s"
            )
        if self.producer_stall_s <= 0:
            raise ConfigError("producer_stall_s must be > 0")
        if self.loglevel not in ("crit", "error", "warn", "info", "debug"):
            raise ConfigError("loglevel must be one of crit, error, warn, info, debug")

    @property
    def batch_window(self) -> BatchWindow:
        """How long each stage's batches collect (batching.take_batches)."""
        return BatchWindow(
            self.batch_max_events,
            self.batch_within_s,
            self.backlog_within_s,
            self.backlog_records,
        )

    @property
    def writer_limits(self) -> WriterLimits:
        """What bounds the online writer child's memory (writer_process.py)."""
        return WriterLimits(
            self.malloc_arenas,
            self.malloc_trim_s,
            self.writer_rows_per_send,
            self.writer_sqlite_cache_mb,
        )

    @property
    def tables_on_disk(self) -> bool:
        """True when the tables (and expiry schedules) live in RocksDB."""
        return self.store == "rocksdb://"

    @property
    def app_dir(self) -> Path:
        """This app's local state (on-disk tables, expiry schedules): data_dir/app_id."""
        return self.data_dir / self.app_id

    @property
    def window_ms(self) -> int:
        """The event-time window in milliseconds."""
        return self.window_days * DAY_MS

    @classmethod
    def from_env(cls, **overrides: object) -> StreamConfig:
        """Defaults, then COLISTEN_STREAM_* environment variables, then overrides."""
        values = env_overrides(cls, "COLISTEN_STREAM_") | overrides
        return replace(cls(), **values)  # type: ignore[arg-type]


def apply_gc_threshold(threshold: int) -> None:
    """Set the young-generation threshold of the cyclic GC (0: leave Python's default)."""
    import gc

    if threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
