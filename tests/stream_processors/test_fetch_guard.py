"""FetchGuard: fetched source records are delivered or fetched again, never dropped."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from stream_processors.fetch_guard import FetchGuard

SOURCE, OTHER_SOURCE, CHANGELOG = TP("in", 0), TP("in", 1), TP("app-users-changelog", 0)


class FakeThread:
    """The consumer thread: records seeks to the beginning."""

    def __init__(self) -> None:
        self.to_beginning: list[Any] = []

    async def seek_to_beginning(self, *tps: Any) -> None:
        self.to_beginning.extend(tps)


class FakeConsumer:
    """A Faust consumer whose client returns canned records; it may change its sets."""

    def __init__(self, records: dict[Any, list[Any]], active: set[Any]) -> None:
        self.records = records
        self._active_partitions = active
        self._buffered_partitions: set[Any] = set()
        self._thread = FakeThread()
        self.asked: list[set[Any] | None] = []
        self.seeks: list[tuple[Any, int]] = []
        self.committed: dict[Any, int | None] = {}
        self.during_call: Any = None

    async def _getmany(
        self, active_partitions: set[Any] | None, timeout: float
    ) -> dict[Any, list[Any]]:
        self.asked.append(active_partitions)
        if self.during_call:
            self.during_call()
        return {tp: list(recs) for tp, recs in self.records.items()}

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset))

    async def seek_to_committed(self) -> dict[Any, int | None]:
        return dict(self.committed)


def _records(*offsets: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(offset=o) for o in offsets]


def _guarded(
    records: dict[Any, list[Any]], active: set[Any]
) -> tuple[FetchGuard, FakeConsumer]:
    consumer = FakeConsumer(records, active)
    guard = FetchGuard(["in"])
    guard.install(consumer)
    return guard, consumer


def _fetch(consumer: FakeConsumer) -> dict[Any, list[Any]]:
    return asyncio.run(consumer._getmany(consumer._active_partitions, 0.01))


def test_active_records_pass_and_the_thread_gets_a_copy_of_the_set() -> None:
    guard, consumer = _guarded({SOURCE: _records(3, 4)}, {SOURCE})
    got = _fetch(consumer)
    assert [r.offset for r in got[SOURCE]] == [3, 4] and consumer.seeks == []
    assert consumer.asked == [{SOURCE}]
    assert consumer.asked[0] is not consumer._active_partitions


def test_no_active_partition_means_no_call() -> None:
    # to aiokafka an empty set means every partition
    guard, consumer = _guarded({SOURCE: _records(0)}, set())
    assert _fetch(consumer) == {} and consumer.asked == []


def test_records_of_a_partition_paused_meanwhile_are_handed_back() -> None:
    """Recovery pauses partitions while the client waits: faust would drop these."""
    guard, consumer = _guarded(
        {SOURCE: _records(0, 1, 2), OTHER_SOURCE: _records(9), CHANGELOG: _records(5)},
        {SOURCE, OTHER_SOURCE, CHANGELOG},
    )
    consumer.during_call = lambda: consumer._active_partitions.discard(SOURCE)
    got = _fetch(consumer)
    assert SOURCE not in got and OTHER_SOURCE in got and CHANGELOG in got
    assert consumer.seeks == [(SOURCE, 0)] and guard.handed_back == 3


def test_a_buffered_partition_keeps_its_records() -> None:
    # faust delivers a partition whose agent queue was full (it left the active set)
    guard, consumer = _guarded({SOURCE: _records(7)}, {SOURCE})
    consumer.during_call = lambda: (
        consumer._active_partitions.discard(SOURCE),
        consumer._buffered_partitions.add(SOURCE),
    )
    assert SOURCE in _fetch(consumer) and consumer.seeks == []


def test_a_seek_to_committed_rewinds_source_partitions_without_a_commit() -> None:
    guard, consumer = _guarded({}, {SOURCE})
    consumer.committed = {
        SOURCE: None,
        OTHER_SOURCE: 12,
        CHANGELOG: None,
        TP("in", 2): 0,
    }
    got = asyncio.run(consumer.seek_to_committed())
    assert got == consumer.committed  # faust reads the committed offsets as before
    assert consumer._thread.to_beginning == [SOURCE, TP("in", 2)]
    assert guard.rewound == 2
