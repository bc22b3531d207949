"""One batch's view of a Faust table: reads fall through, writes are held until commit().

The worker folds a whole batch of events against decoded states, then decides when the
changes become durable: stage 1 persists user states only after the records they caused
are acknowledged by Kafka, so a crash can duplicate a stage-2 record (stage 2 is
idempotent) but never lose one. Each write names its changelog partition explicitly,
since batch processing has no single "current event" to take it from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, Protocol, TypeVar

from stream_processors.rocks_store import writing_to


class Durable(Protocol):
    """A state that the table stores as JSON."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form."""
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
        self, table: PartitionedTable, decode: Callable[[dict[str, Any] | None], S]
    ) -> None:
        self.table, self.decode = table, decode
        self.states: dict[str, S] = {}
        self.dirty: dict[str, int] = {}

    def get(self, key: str) -> S:
        """The key's state as this batch left it (decoded once per batch)."""
        st = self.states.get(key)
        if st is None:
            st = self.states[key] = self.decode(self.table[key])
        return st

    def put(self, key: str, state: S, partition: int) -> None:
        """Mark the key changed; it is written to the table on commit()."""
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
        """Forget the batch (after commit, before the next one)."""
        self.states.clear()
        self.dirty.clear()


def chunked(records: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of at most `size` records (one Kafka message each)."""
    for start in range(0, len(records), size):
        yield records[start : start + size]


def put_with_partition(
    table: MutableMapping[Any, Any], key: str, value: Any, partition: int
) -> None:
    """Set a Faust table key with its changelog record sent to an explicit partition."""
    table.send_changelog(partition, key, value)  # type: ignore[attr-defined]
    table._sensor_on_set(table, key, value)  # type: ignore[attr-defined]
    with writing_to(partition):  # an on-disk store files the key under `partition`
        table.data[key] = value  # type: ignore[attr-defined]
