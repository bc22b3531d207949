"""Stage 1 alone: rejects, rows, routing, expiry sweeps, replays and restores."""

from __future__ import annotations

import json
import uuid

from colisten.timeunits import DAY_MS as DAY
from stream_processors.clock import PartitionClock, partition_of
from stream_processors.stage2_records import StreamRecord
from stream_processors.user_stage import UserStage
from stream_processors.user_state import CoListen
from tests.stream_processors.stage_rig import MemoryTable, RecordingSink

T0 = 1_700_000_000_000


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _event(eid: str, user: str, item: str, ts: int, kind: str = "stream") -> bytes:
    itype = "audiobook" if item.startswith("a") else "podcast"
    event = {
        "event_id": _id(eid),
        "user_id": user,
        "item_id": item,
        "item_type": itype,
        "event_type": kind,
        "ts": ts,
    }
    if kind == "stream":
        event["duration_ms"] = 60_000
    return json.dumps(event).encode()


def _stage(table: MemoryTable, sink: RecordingSink, parts: int = 4) -> UserStage:
    return UserStage(table, sink, PartitionClock(), parts, window_ms=10 * DAY, cap=2)


def test_bad_event_gives_reasons_and_touches_nothing() -> None:
    table, sink = MemoryTable(), RecordingSink()
    out: dict = {}
    reasons = _stage(table, sink).fold(b'{"user_id": 3}', 0, 0, out)
    assert reasons and all("code" in r for r in reasons)
    assert out == {} and sink.staged == [] and dict(table) == {}


def test_rows_and_records_are_routed_by_key() -> None:
    table, sink = MemoryTable(), RecordingSink()
    stage, out = _stage(table, sink), {}
    p = partition_of("u1", 4)
    assert stage.fold(_event("e1", "u1", "a1", T0), p, 0, out) is None
    assert stage.fold(_event("e2", "u1", "p1", T0 + 1, "follow"), p, 1, out) is None
    stream = StreamRecord("a1", "audiobook", "u1", _id("e1"), T0)
    pair = CoListen("a1", "p1", "ap", "u1", T0 + 1)
    assert out[partition_of("a1", 4)].count(stream) == 1
    assert out[partition_of("a1|p1", 4)].count(pair) == 1
    assert sum(len(v) for v in out.values()) == 2  # a follow is not a stream
    row = sink.rows("user_weak_signals")["u1"]
    assert row["stream_audiobook_90d"] == 1 and row["last_event_ms"] == T0 + 1
    assert sink.latest["user_weak_signals"]["u1"][0] == (T0 + 1) * 1000
    assert dict(table) == {}  # nothing durable before commit
    assert stage.commit() == 1 and table.partition_of_key["u1"] == p


def test_watermark_sweeps_expired_users() -> None:
    table, sink = MemoryTable(), RecordingSink()
    stage, out = _stage(table, sink, parts=1), {}
    stage.fold(_event("e1", "u1", "a1", T0), 0, 0, out)
    stage.fold(_event("e2", "u2", "a2", T0 + 10 * DAY + 1), 0, 1, out)
    row = sink.rows("user_weak_signals")["u1"]
    assert row["stream_audiobook_90d"] == 0 and row["last_event_ms"] == T0
    assert sink.latest["user_weak_signals"]["u1"][0] == (T0 + 10 * DAY + 1) * 1000
    assert sink.rows("user_recent_items")["u1"]["recent_audiobooks"] == []


def test_replay_after_a_crash_counts_once_and_restore_reschedules() -> None:
    table, sink = MemoryTable(), RecordingSink()
    first, out = _stage(table, sink, parts=1), {}
    first.fold(_event("e1", "u1", "a1", T0), 0, 0, out)
    first.commit()
    first.fold(_event("e2", "u1", "a2", T0 + 1), 0, 1, out)  # crash: not committed
    again, replayed = _stage(table, sink, parts=1), {}
    again.restore(list(table.items()), {0})
    for offset, raw in enumerate(
        [_event("e1", "u1", "a1", T0), _event("e2", "u1", "a2", T0 + 1)]
    ):
        again.fold(raw, 0, offset, replayed)
    assert sink.rows("user_weak_signals")["u1"]["stream_audiobook_90d"] == 2
    resent = sorted(sum(replayed.values(), []), key=repr)
    assert resent == sorted(  # e1 was committed: only e2's records are sent again
        [
            StreamRecord("a2", "audiobook", "u1", _id("e2"), T0 + 1),
            CoListen("a1", "a2", "aa", "u1", T0 + 1),
        ],
        key=repr,
    )
    again.commit()
    # the restored user was rescheduled: a late event of another user sweeps it
    again.fold(_event("e3", "u2", "p9", T0 + 11 * DAY), 0, 2, {})
    assert sink.rows("user_weak_signals")["u1"]["stream_audiobook_90d"] == 0


def test_stamps_keep_increasing_across_batches() -> None:
    """A user's rows in one millisecond, in two batches, get increasing stamps.

    Feast's Redis store ignores a write whose timestamp is not newer than the stored one,
    so the stamp must survive the table (it used to restart from the event time).
    """
    table, sink = MemoryTable(), RecordingSink()
    stage = _stage(table, sink, parts=1)
    stage.fold(_event("e1", "u1", "a1", T0), 0, 0, {})
    stage.commit()
    stage.fold(_event("e2", "u1", "a2", T0, "follow"), 0, 1, {})
    stage.commit()
    stamps = [st for view, key, _, st in sink.staged if view == "user_weak_signals"]
    assert stamps == [T0 * 1000, T0 * 1000 + 1]
    assert sink.rows("user_weak_signals")["u1"]["follow_audiobook_90d"] == 1
