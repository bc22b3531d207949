"""Per-partition event-time watermarks and expiry schedules (pure, rebuilt after recovery)."""

from __future__ import annotations

import heapq
from collections import defaultdict

from kafka.partitioner.default import murmur2


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a key (murmur2, as producers do)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class PartitionClock:
    """Event time per partition (the max event time applied) and keys due to expire."""

    def __init__(self) -> None:
        self.watermark: dict[int, int] = {}
        self._heaps: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self._next: dict[int, dict[str, int]] = defaultdict(dict)

    def advance(self, partition: int, ts: int) -> bool:
        """Move a partition's watermark to ts if later; True if it moved."""
        if ts > self.watermark.get(partition, -1):
            self.watermark[partition] = ts
            return True
        return False

    def now(self, partition: int) -> int:
        """The partition's watermark (-1 before any event)."""
        return self.watermark.get(partition, -1)

    def schedule(self, partition: int, key: str, expiry_ms: int) -> None:
        """Remember that key (in partition) may change when the watermark reaches expiry_ms.

        One entry per key: a later expiry than the one already scheduled is ignored (the
        earlier check re-schedules), so the schedule stays as small as the key set.
        """
        scheduled = self._next[partition].get(key)
        if scheduled is not None and scheduled <= expiry_ms:
            return
        self._next[partition][key] = expiry_ms
        heapq.heappush(self._heaps[partition], (expiry_ms, key))

    def due(self, partition: int) -> list[str]:
        """Pop the distinct keys whose scheduled expiry is at or before the watermark."""
        heap, nxt, now = (
            self._heaps[partition],
            self._next[partition],
            self.now(partition),
        )
        keys: list[str] = []
        while heap and heap[0][0] <= now:
            expiry, key = heapq.heappop(heap)
            if nxt.get(key) == expiry:
                del nxt[key]
                keys.append(key)
        return keys

    def reset(self, partition: int) -> None:
        """Forget a partition's schedule (before rebuilding it from restored state)."""
        self._heaps[partition] = []
        self._next[partition] = {}
