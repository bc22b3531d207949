"""Every source record the Kafka client hands over is delivered to an agent or fetched again.

faust-streaming takes records from aiokafka and can then drop them. aiokafka's position is
already past a dropped record; faust counts on its next "seek to the committed offsets" to
bring it back, and aiokafka's `seek_to_committed` does not move a partition that has no
committed offset yet. Two gaps, both seen in the rebalance soak (issue 12):

- **The live partition set.** faust hands the consumer thread its own, live set of active
  partitions, and aiokafka reads an empty set as "every partition". When a new worker's
  recovery ends, faust pauses the changelog partitions it read while the stream partitions
  are still paused: the set is empty for a moment, a fetch in flight returns the records of
  every assigned partition, and faust drops those of the (paused) source partitions. Seen:
  a worker that had just joined got 48 records of `pairs/0` and `pairs/1` from offset 0,
  its log showing both partitions neither asked for nor active; after the seek it went on
  from offset 48, and the co-listens and streams of offsets 0 to 47 were counted by nobody.
- **No committed offset.** Early in a run (and always for a new `colisten.pairs`
  partition) a dropped record of an uncommitted partition is never read again.

`FetchGuard(topics).install(consumer)` closes both for the given source topics: the consumer thread
gets a copy of the active set (and no call at all while it is empty); records it returns
for a partition faust will not deliver (no longer active and not buffered) are taken out
and the partition is sought back to the first of them; and a seek to the committed offsets
rewinds partitions that have none to their beginning, where aiokafka's reset would start.
Re-reading is harmless: every fold is idempotent on source offsets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)
IDLE_POLL_S = 0.05
"""While no partition is active, the fetch loop polls this often."""


class FetchGuard:
    """Counts and undoes faust's drops of fetched source records (see module docstring)."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = frozenset(topics)
        self.handed_back = 0
        """Records taken out of a fetch because faust would have dropped them."""
        self.rewound = 0
        """Seeks of a partition with no committed offset to its beginning."""

    def undeliverable(
        self, records: dict[Any, list[Any]], active: set[Any], buffered: set[Any]
    ) -> dict[Any, int]:
        """Take out the source records faust would drop; return each one's first offset."""
        firsts: dict[Any, int] = {}
        for tp in [tp for tp in records if tp.topic in self.topics]:
            if tp in active or tp in buffered:
                continue
            taken = records.pop(tp)
            if taken:
                firsts[tp] = min(r.offset for r in taken)
                self.handed_back += len(taken)
        return firsts

    def uncommitted(self, committed: dict[Any, int | None]) -> list[Any]:
        """The source partitions a seek to the committed offsets leaves where they are."""
        return [
            tp for tp, off in committed.items() if tp.topic in self.topics and not off
        ]

    def install(self, consumer: Any) -> None:
        """Wrap a Faust consumer's `_getmany` and `seek_to_committed` (before it starts)."""
        getmany, seek_to_committed = consumer._getmany, consumer.seek_to_committed

        async def guarded_getmany(
            active_partitions: set[Any] | None, timeout: float
        ) -> dict[Any, list[Any]]:
            if active_partitions is None:  # a client-only consumer: nothing to guard
                return await getmany(active_partitions=None, timeout=timeout)
            asked = set(active_partitions)  # the live set may empty while we wait
            if not asked:  # and to aiokafka an empty set means every partition
                await asyncio.sleep(min(timeout, IDLE_POLL_S))
                return {}
            records = await getmany(active_partitions=asked, timeout=timeout)
            dropped = self.undeliverable(
                records, active_partitions, consumer._buffered_partitions
            )
            for tp, offset in dropped.items():
                log.info(
                    "%s/%d is no longer active: handing back its records from %d "
                    "(%d handed back so far)",
                    tp.topic,
                    tp.partition,
                    offset,
                    self.handed_back,
                )
                try:
                    await consumer.seek(tp, offset)
                except Exception:  # noqa: BLE001 - revoked meanwhile: its owner reads it
                    log.info("%s/%d is no longer assigned; not seeking", *tp)
            return records

        async def seek_to_committed_or_beginning() -> dict[Any, int | None]:
            committed = await seek_to_committed()
            rewind = self.uncommitted(committed)
            if rewind:
                try:
                    await consumer._thread.seek_to_beginning(*rewind)
                except Exception as exc:  # noqa: BLE001 - a rebalance began: it seeks
                    log.info(
                        "not rewinding %s: %r (a rebalance seeks again)", rewind, exc
                    )
                else:
                    self.rewound += len(rewind)
            return committed

        consumer._getmany = guarded_getmany
        consumer.seek_to_committed = seek_to_committed_or_beginning
