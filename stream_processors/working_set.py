"""One batch's view of a Faust table: reads fall through, writes are held until commit().

The worker folds a whole batch of events against decoded states, then decides when the
changes become durable: stage 1 persists user states only after the records they caused
are acknowledged by Kafka, so a crash can duplicate a stage-2 record (stage 2 is
idempotent) but never lose one. Each write names its changelog partition explicitly,
since batch processing has no single "current event" to take it from.

Decoded states can outlive their batch (`keep` > 0): after a commit the batch's states
equal what the table holds, so the next batch that touches the key takes the decoded
state instead of decoding the table's value again (for a heavy user or a busy pair that
decode grows with the state). The cache holds at most `keep` keys and, with a
`budget_bytes`, states of at most that many bytes by their own estimate (`approx_bytes`;
least recently used go first). A count alone did not bound it: states grow with their
history until the window is full, so 20,000 kept users took ever more memory through a
`large` replay (bench/RESULTS.md, session 21). The cache is dropped whole by
`forget()` (the stage calls it on every restore, i.e. after each rebalance, when another
worker may have written the keys) and by a reset without a commit (an abandoned batch).
States kept this way must not share mutable parts with what `to_json()` hands the table.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, Protocol, TypeVar

from stream_processors.rocks_store import in_partition


class Durable(Protocol):
    """A state that the table stores as JSON and can estimate its memory."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        ...

    def approx_bytes(self) -> int:
        """Roughly the decoded state's memory (a few len() calls, no traversal)."""
        ...


S = TypeVar("S", bound=Durable)


class PartitionedTable(Protocol):
    """The slice of a Faust table a working set needs (see app.RestoringTable)."""

    def __getitem__(self, key: str) -> Any: ...

    def put(self, key: str, value: Any, partition: int) -> None:
        """Set key, sending its changelog record to `partition`."""
        ...


class WorkingSet(Generic[S]):
    """Decoded states of one table for one batch; `commit()` writes the changed ones."""

    def __init__(
        self,
        table: PartitionedTable,
        decode: Callable[[dict[str, Any] | None], S],
        keep: int = 0,
        budget_bytes: int = 0,
    ) -> None:
        """Read and write `table` through `decode`d states; keep up to `keep` of them
        between batches, and with budget_bytes > 0 up to that many bytes of them."""
        self.table, self.decode, self.keep = table, decode, keep
        self.budget_bytes = budget_bytes
        self.states: dict[str, S] = {}
        self.dirty: dict[str, int] = {}
        self.cache: OrderedDict[str, S] = OrderedDict()
        """Committed states of earlier batches, least recently used first."""
        self._sizes: dict[str, int] = {}
        """approx_bytes of each kept state as it was kept (with a budget)."""
        self.cache_bytes = 0
        """Their sum."""
        self.decodes = 0

    def get(self, key: str, partition: int) -> S:
        """The key's state as this batch left it (decoded at most once per batch); an
        on-disk store reads it from `partition`'s database, where the key's writes go."""
        st = self.states.get(key)
        if st is None:
            st = self._take(key)
            if st is None:
                with in_partition(partition):
                    raw = self.table[key]
                st = self.decode(raw)
                self.decodes += 1
            self.states[key] = st
        return st

    def put(self, key: str, state: S, partition: int) -> None:
        """Mark the key changed; it is written to the table on commit()."""
        self._take(key)
        self.states[key] = state
        self.dirty[key] = partition

    def pending(self) -> int:
        """How many changed keys wait for commit()."""
        return len(self.dirty)

    def commit(self) -> int:
        """Write the changed keys to the table, in the order they changed; return count."""
        written = len(self.dirty)
        for key, partition in self.dirty.items():
            self.table.put(key, self.states[key].to_json(), partition)
        self.dirty.clear()
        return written

    def reset(self) -> None:
        """End the batch (after commit): keep its decoded states up to `keep` keys.

        A reset with uncommitted changes abandons the batch: its states may hold changes
        the table does not, so they and the whole cache are dropped.
        """
        if self.dirty:
            self.forget()
        elif self.keep:
            cache = self.cache
            for key, st in self.states.items():
                cache[key] = st  # taken by get(), so this appends: most recent last
            if self.budget_bytes:
                sizes = self._sizes
                for key, st in self.states.items():
                    sizes[key] = size = st.approx_bytes()
                    self.cache_bytes += size
            while len(cache) > self.keep or self.cache_bytes > self.budget_bytes > 0:
                key, _ = cache.popitem(last=False)
                self.cache_bytes -= self._sizes.pop(key, 0)
        self.states.clear()
        self.dirty.clear()

    def forget(self) -> None:
        """Drop every kept state (the table may have changed behind this worker)."""
        self.cache.clear()
        self._sizes.clear()
        self.cache_bytes = 0

    def _take(self, key: str) -> S | None:
        """Take a kept state out of the cache (None if it is not kept)."""
        st = self.cache.pop(key, None)
        if st is not None and self.budget_bytes:
            self.cache_bytes -= self._sizes.pop(key, 0)
        return st


def chunked(records: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of at most `size` records (one Kafka message each)."""
    for start in range(0, len(records), size):
        yield records[start : start + size]


def put_with_partition(
    table: MutableMapping[Any, Any], key: str, value: Any, partition: int
) -> None:
    """Set a Faust table key with its changelog record sent to an explicit partition."""
    table.send_changelog(partition, key, value)  # type: ignore[attr-defined]
    set_in_store(table, key, value, partition)


def set_in_store(
    table: MutableMapping[Any, Any], key: str, value: Any, partition: int
) -> None:
    """Set a Faust table key in its local store only, filed under `partition` (its
    changelog record is the caller's: Faust's send, or a `ChangelogBatch`)."""
    table._sensor_on_set(table, key, value)  # type: ignore[attr-defined]
    with in_partition(partition):  # an on-disk store files the key under `partition`
        table.data[key] = value  # type: ignore[attr-defined]
