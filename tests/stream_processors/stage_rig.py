"""Plain stand-ins for a stage's surroundings: a partitioned table, a row sink, a replay."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stream_processors import stage2_records
from stream_processors.clock import PartitionClock, partition_of
from stream_processors.pair_stage import PairStage
from stream_processors.stage2_records import Stage2Record
from stream_processors.user_stage import UserStage
from stream_processors.working_set import chunked


class MemoryTable(dict):  # type: ignore[type-arg]
    """A changelogged table as a dict: a missing key reads as {} (Faust's default=dict)."""

    def __init__(self) -> None:
        super().__init__()
        self.partition_of_key: dict[str, int] = {}

    def __missing__(self, key: str) -> dict[str, Any]:
        return {}

    def put(self, key: str, value: Any, partition: int) -> None:
        """Set key (as a JSON round trip, like a changelog) and remember its partition."""
        self[key] = json.loads(json.dumps(value))
        self.partition_of_key[key] = partition


@dataclass
class RecordingSink:
    """Keeps every staged row and, per view and key, the newest by stamp."""

    staged: list[tuple[str, str, dict[str, Any], int]] = field(default_factory=list)
    latest: dict[str, dict[str, tuple[int, dict[str, Any]]]] = field(
        default_factory=dict
    )

    def stage(
        self, view: str, key: str, values: Mapping[str, Any], stamp_us: int
    ) -> None:
        """Record the row; the newest stamp per key wins (as the online store keeps it)."""
        row = dict(values)
        self.staged.append((view, key, row, stamp_us))
        rows = self.latest.setdefault(view, {})
        if key not in rows or rows[key][0] <= stamp_us:
            rows[key] = (stamp_us, row)

    def rows(self, view: str) -> dict[str, dict[str, Any]]:
        """The newest row of every key of a view."""
        return {k: row for k, (_, row) in self.latest.get(view, {}).items()}


@dataclass
class StageRig:
    """Both stages over in-memory tables, fed like the worker feeds them."""

    partitions: int
    window_ms: int
    cap: int
    keep: int = 0
    """Decoded states each working set keeps between batches (WorkingSet.keep)."""
    sink: RecordingSink = field(default_factory=RecordingSink)
    users: MemoryTable = field(default_factory=MemoryTable)
    pairs: MemoryTable = field(default_factory=MemoryTable)
    items: MemoryTable = field(default_factory=MemoryTable)
    offsets: dict[int, int] = field(default_factory=dict)
    """Next offset of each `interactions` partition."""
    pair_offsets: dict[int, int] = field(default_factory=dict)
    """Next offset of each `colisten.pairs` partition."""
    rejected: list[list[dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """A new worker process: fresh stages over the same tables, restored."""
        every = set(range(self.partitions))
        self.stage1 = UserStage(
            self.users,
            self.sink,
            PartitionClock(),
            self.partitions,
            self.window_ms,
            self.cap,
            self.keep,
        )
        self.stage2 = PairStage(
            self.pairs,
            self.items,
            self.sink,
            PartitionClock(),
            self.partitions,
            self.window_ms,
            self.keep,
        )
        self.stage1.restore(list(self.users.items()), every)
        self.stage2.restore_pairs(list(self.pairs.items()), every)
        self.stage2.restore_items(list(self.items.items()), every)

    def produce(self, payloads: list[tuple[bytes, bytes]]) -> list[tuple]:
        """(key, value) pairs as `interactions` messages: (value, partition, offset)."""
        out = []
        for key, raw in payloads:
            p = partition_of(key.decode(), self.partitions)
            offset = self.offsets.get(p, 0)
            self.offsets[p] = offset + 1
            out.append((raw, p, offset))
        return out

    def fold_batch(self, batch: list[tuple], commit: bool = True) -> None:
        """Stage 1 over one batch, its records sent through stage 2, then commits."""
        routed: dict[int, list[Stage2Record]] = {}
        for raw, p, offset in batch:
            reasons = self.stage1.fold(raw, p, offset, routed)
            if reasons is not None:
                self.rejected.append(reasons)
        for target, records in routed.items():
            for chunk in chunked(records, 7):
                offset = self.pair_offsets.get(target, 0)
                self.pair_offsets[target] = offset + 1
                ok = self.stage2.apply_message(
                    stage2_records.encode(chunk), target, offset
                )
                assert ok
        self.stage2.commit()
        if commit:
            self.stage1.commit()
