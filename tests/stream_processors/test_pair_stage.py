"""Stage 2 alone: distinct users per edge, replays, sweeps, new days, bad messages, restores."""

from __future__ import annotations

from colisten.timeunits import DAY_MS as DAY
from stream_processors import stage2_records as codec
from stream_processors.clock import PartitionClock
from stream_processors.pair_stage import PairStage
from stream_processors.stage2_records import StreamRecord
from stream_processors.user_state import CoListen
from tests.stream_processors.stage_rig import MemoryTable, RecordingSink

T0 = 1_700_000_000_000 // DAY * DAY + 3_600_000  # 01:00 UTC


def _stage(
    pairs: MemoryTable | None = None,
    items: MemoryTable | None = None,
    sink: RecordingSink | None = None,
) -> PairStage:
    """A one-partition stage with a 10-day window (fresh tables and sink by default)."""
    return PairStage(
        pairs if pairs is not None else MemoryTable(),
        items if items is not None else MemoryTable(),
        sink or RecordingSink(),
        PartitionClock(),
        1,
        window_ms=10 * DAY,
    )


def _edge_and_stream(stage: PairStage) -> RecordingSink:
    """One co-listen of a1|p1 and one stream of a1 by u1 at T0; the stage's sink."""
    stage.apply(CoListen("a1", "p1", "ap", "u1", T0), 0, 0)
    stage.apply(StreamRecord("a1", "audiobook", "u1", "e1", T0), 0, 1)
    return stage.sink  # type: ignore[return-value]


def test_distinct_users_per_edge_and_replays_count_once() -> None:
    stage = _stage()
    sink = stage.sink
    msg = codec.encode(
        [CoListen("a1", "p1", "ap", "u1", T0), CoListen("a1", "p1", "ap", "u2", T0 + 1)]
    )
    assert stage.apply_message(msg, 0, 0)
    assert stage.apply_message(msg, 0, 1)  # stage 1 re-sent it after a crash
    stage.commit()
    assert sink.rows("colisten_edges")["a1|p1"]["n_users"] == 2


def test_expired_colistens_are_swept_and_popularity_days_roll() -> None:
    stage = _stage()
    sink = _edge_and_stream(stage)
    pop = sink.rows("item_popularity")["a1"]
    assert pop["users_14d"] == 1 and pop["streams_90d"] == 1
    stage.apply(StreamRecord("p7", "podcast", "u9", "e9", T0 + 15 * DAY), 0, 2)
    assert sink.rows("colisten_edges")["a1|p1"]["n_users"] == 0  # window 10 days
    pop = sink.rows("item_popularity")["a1"]  # re-staged on the new day
    assert pop["users_14d"] == 0 and pop["users_90d"] == 1


def test_malformed_message_is_refused_without_effect() -> None:
    stage = _stage()
    assert not stage.apply_message(b'[{"k": "c"}]', 0, 0)
    assert stage.commit() == 0 and stage.sink.staged == []  # type: ignore[attr-defined]


def test_stream_replayed_after_a_partial_commit_counts_once() -> None:
    """The popularity reached the table, its item-user entry did not: replay repairs it."""
    pairs, items, sink = MemoryTable(), MemoryTable(), RecordingSink()
    stage = _stage(pairs, items, sink)
    msg = codec.encode([StreamRecord("a1", "audiobook", "u1", "e1", T0)])
    stage.apply_message(msg, 0, 0)
    stage.pairs.commit()
    stage.items.commit()  # the crash comes before item_users.commit()
    again = _stage(pairs, items, sink)
    again.restore_items(list(items.items()), {0})
    again.apply_message(msg, 0, 0)
    again.commit()
    assert "a1|u1" in items
    assert sink.rows("item_popularity")["a1"]["streams_90d"] == 1


def test_restore_restages_rows_and_reschedules_expiry() -> None:
    pairs, items = MemoryTable(), MemoryTable()
    stage = _stage(pairs, items)
    sink = _edge_and_stream(stage)
    stage.commit()
    fresh = RecordingSink()
    again = _stage(pairs, items, fresh)
    again.restore_pairs(list(pairs.items()), {0})
    again.restore_items(list(items.items()), {0})
    assert fresh.rows("colisten_edges") == sink.rows("colisten_edges")
    assert fresh.rows("item_popularity") == sink.rows("item_popularity")
    again.apply(CoListen("a2", "a3", "aa", "u2", T0 + 11 * DAY), 0, 2)
    assert fresh.rows("colisten_edges")["a1|p1"]["n_users"] == 0
