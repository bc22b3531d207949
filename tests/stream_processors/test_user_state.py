"""Stage 1's pure fold on hand-built events with known answers."""

from __future__ import annotations

import random
import uuid

from colisten.events import InteractionEvent
from colisten.timeunits import DAY_MS as DAY
from stream_processors.user_state import (
    UserState,
    canonical_pair,
    expire,
    fold,
    is_replay,
    recent,
    recent_items_row,
    weak_signal_row,
)

T0 = 1_767_600_000_000  # 2026-01-05


def ev(
    event_type: str,
    item_type: str = "audiobook",
    ts: int = T0,
    item: str = "a1",
    event_id: str | None = None,
) -> InteractionEvent:
    return InteractionEvent(
        event_id=event_id or str(uuid.uuid4()),
        user_id="u1",
        item_id=item,
        item_type=item_type,
        event_type=event_type,
        ts=ts,  # type: ignore[arg-type]
        duration_ms=1000 if event_type == "stream" else None,
    )


def test_counts_each_signal_once() -> None:
    st = UserState()
    for e in [
        ev("follow"),
        ev("preview"),
        ev("preview", ts=T0 + 5),
        ev("intent_to_pay"),
        ev("stream"),
        ev("stream", "podcast", ts=T0 + 9, item="p1"),
    ]:
        assert fold(st, e)[0]
    assert weak_signal_row(st) == {
        "follow_audiobook_90d": 1,
        "preview_audiobook_90d": 2,
        "intent_to_pay_audiobook_90d": 1,
        "stream_audiobook_90d": 1,
        "stream_podcast_90d": 1,
        "last_event_ms": T0 + 9,
    }


def test_replays_are_ignored_by_offset_and_by_event_id() -> None:
    st = UserState()
    e = ev("follow", event_id="3f1c9a1e-8b0e-4a4e-9a55-2b1e2f3a4b5c")
    assert fold(st, e, offset=10)[0]
    assert fold(st, ev("follow"), offset=10) == (False, [])  # same offset again
    assert fold(st, e, offset=11) == (False, [])  # a client's duplicate send
    assert weak_signal_row(st)["follow_audiobook_90d"] == 1


def test_counts_decay_as_events_leave_the_window() -> None:
    st = UserState()
    fold(st, ev("follow", ts=T0))
    fold(st, ev("preview", ts=T0 + 30 * DAY))
    fold(
        st, ev("stream", "podcast", ts=T0 + 90 * DAY, item="p1")
    )  # follow: exactly 90 d
    row = weak_signal_row(st)
    assert row["follow_audiobook_90d"] == 0 and row["preview_audiobook_90d"] == 1
    assert expire(st, T0 + 121 * DAY)  # a sweep at a later watermark
    assert weak_signal_row(st)["preview_audiobook_90d"] == 0
    assert recent_items_row(st)["recent_podcasts"] == ["p1"]


def test_late_events_beyond_the_window_count_nothing() -> None:
    st = UserState()
    fold(st, ev("stream", "podcast", ts=T0 + 100 * DAY, item="p1"))
    fold(st, ev("follow", ts=T0))  # 100 days late
    fold(st, ev("follow", ts=T0 + 50 * DAY))  # late but inside
    row = weak_signal_row(st)
    assert row["follow_audiobook_90d"] == 1
    assert row["last_event_ms"] == T0 + 100 * DAY


def test_first_touch_pairs_with_recent_items_in_canonical_order() -> None:
    st = UserState()
    assert fold(st, ev("stream", "podcast", ts=T0, item="p9"))[1] == []
    _, out = fold(st, ev("follow", ts=T0 + 1, item="a2"))
    assert [(c.src_item, c.dst_item, c.relation) for c in out] == [("a2", "p9", "ap")]
    _, out = fold(st, ev("stream", ts=T0 + 2, item="a1"))
    assert sorted((c.src_item, c.dst_item, c.relation) for c in out) == [
        ("a1", "a2", "aa"),
        ("a1", "p9", "ap"),
    ]
    # touching a2 again inside the window pairs nothing: not a first touch
    assert fold(st, ev("stream", ts=T0 + 3, item="a2"))[1] == []
    # after 90 quiet days a2 re-enters the window and pairs again
    _, out = fold(st, ev("stream", ts=T0 + 3 + 90 * DAY, item="a2"))
    assert out == []  # everything else expired with it


def test_partners_are_capped_to_the_most_recent() -> None:
    st = UserState()
    for i in range(5):
        fold(st, ev("stream", "podcast", ts=T0 + i, item=f"p{i}"))
    _, out = fold(st, ev("stream", ts=T0 + 10, item="a1"), cap=2)
    assert sorted(c.dst_item for c in out) == ["p3", "p4"]


def test_recent_items_are_newest_first_with_signal() -> None:
    st = UserState()
    fold(st, ev("follow", ts=T0, item="a1"))
    fold(st, ev("preview", ts=T0 + 1, item="a2"))
    fold(st, ev("stream", ts=T0 + 2, item="a1"))
    row = recent_items_row(st)
    assert row["recent_audiobooks"] == ["a1", "a2"]
    assert row["recent_audiobook_signals"] == ["stream", "preview"]
    assert row["recent_audiobook_ms"] == [T0 + 2, T0 + 1]


def test_canonical_pair() -> None:
    assert canonical_pair("p1", "podcast", "a9", "audiobook") == ("a9", "p1", "ap")
    assert canonical_pair("b", "audiobook", "a", "audiobook") == ("a", "b", "aa")
    assert canonical_pair("p1", "podcast", "p2", "podcast") == ("p1", "p2", "pp")


def test_state_round_trips_through_json() -> None:
    st = UserState()
    fold(st, ev("follow"), offset=3, partition=1)
    fold(st, ev("stream", "podcast", ts=T0 + 1, item="p1"), offset=4, partition=1)
    again = UserState.from_json(st.to_json())
    assert again.to_json() == st.to_json()


def test_recent_ids_pack_small_and_still_drop_duplicates() -> None:
    st = UserState()
    ids = [str(uuid.uuid4()) for _ in range(80)]
    for i, eid in enumerate(ids):
        fold(st, ev("preview", ts=T0 + i, item=f"a{i}", event_id=eid), offset=i)
    packed = st.to_json()["r"]
    assert isinstance(packed, str) and len(packed) == 684  # 64 x 8 bytes, base64
    again = UserState.from_json(st.to_json())
    assert again.recent_ids == st.recent_ids
    # the 64 newest ids are remembered: a resend (no source offset) changes nothing
    assert fold(again, ev("preview", ts=T0 + 99, event_id=ids[-1])) == (False, [])
    assert fold(again, ev("preview", ts=T0 + 99, event_id=ids[16])) == (False, [])
    assert fold(again, ev("preview", ts=T0 + 99, event_id=ids[15]))[0]  # forgotten


def test_state_written_with_plain_recent_ids_still_reads() -> None:
    eid = str(uuid.uuid4())
    st = UserState()
    fold(st, ev("follow", event_id=eid), offset=1)
    old = st.to_json() | {"r": [eid]}  # how records were changelogged before
    again = UserState.from_json(old)
    assert again.recent_ids == st.recent_ids
    assert fold(again, ev("follow", event_id=eid)) == (False, [])


def test_is_replay_knows_applied_offsets_only() -> None:
    st = UserState()
    assert not is_replay(st, 0)  # a new user has applied nothing
    fold(st, ev("follow"), offset=7, partition=1)
    assert is_replay(st, 7) and is_replay(st, 3)
    assert not is_replay(st, 8)
    assert not is_replay(st, -1)  # no source offset (a direct fold) is never a replay


def _brute_recent(st: UserState, itype: str, cap: int, exclude: str | None) -> list:
    rows = [(k, v) for k, v in st.items.items() if v[1] == itype and k != exclude]
    rows.sort(key=lambda kv: (kv[1][0], kv[0]), reverse=True)
    return rows[:cap]


def test_ordered_items_agree_with_a_full_sort() -> None:
    """The kept order gives what sorting every item would, through folds, expiry, decodes."""
    rng = random.Random(5)
    st = UserState()
    kinds = ["stream", "follow", "preview"]
    for step in range(3000):
        ts = T0 + step * DAY // 7 + rng.choice([0, 0, -DAY, -3 * DAY])  # some late
        itype = rng.choice(["audiobook", "podcast"])
        item = f"{itype[0]}{rng.randrange(60)}"
        kind = rng.choice(kinds) if itype == "audiobook" else "stream"
        fold(st, ev(kind, itype, ts, item), window_ms=30 * DAY, cap=7)
        if step % 97 == 0:  # a new batch decodes the stored form
            st = UserState.from_json(st.to_json())
        for itype_ in ("audiobook", "podcast"):
            for exclude in (None, item):
                assert recent(st, itype_, 7, exclude) == _brute_recent(
                    st, itype_, 7, exclude
                )
        times = [v[0] for v in st.signals.values() if v]
        times += [t for t, _, _ in st.items.values()]
        assert st.oldest_ms() == (min(times) if times else None)
