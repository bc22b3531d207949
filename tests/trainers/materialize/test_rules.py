"""The stream's tricky rules on tiny hand-built logs, with answers worked out by hand."""

from __future__ import annotations

import pandas as pd

from colisten.names import AUDIOBOOK as AB
from colisten.names import FOLLOW, PREVIEW, STREAM
from colisten.names import PODCAST as POD
from colisten.timeunits import DAY_MS as DAY
from tests.trainers.materialize.frames import (
    T0,
    build_frame,
    diff,
    event_frame,
    reference,
)

END = T0 + 1_000 * DAY


def _pairs(views, user: str | None = None) -> set[tuple[str, str, str, int]]:
    rec = views.frame("m_colisten")
    if user is not None:
        rec = rec[rec["user_id"] == user]
    return {
        (r.src_item, r.dst_item, r.relation, int(r.ts - T0))
        for r in rec.itertuples(index=False)
    }


def test_first_touch_pairs_with_the_cap_newest_items_of_each_type() -> None:
    ev = event_frame(
        [
            ("u", "p1", POD, STREAM, T0 + 1),
            ("u", "p2", POD, STREAM, T0 + 2),
            ("u", "p3", POD, STREAM, T0 + 3),
            ("u", "a1", AB, PREVIEW, T0 + 4),
            ("u", "p1", POD, STREAM, T0 + 5),  # a re-touch: no pairs, p1 newest again
            ("u", "a2", AB, FOLLOW, T0 + 6),
        ]
    )
    views = build_frame(ev, END, partitions=1, cap=2)
    assert _pairs(views) == {
        ("p1", "p2", "pp", 2),
        ("p2", "p3", "pp", 3),
        ("p1", "p3", "pp", 3),
        ("a1", "p3", "ap", 4),  # the two newest podcasts: p3, p2 (not p1)
        ("a1", "p2", "ap", 4),
        ("a2", "p1", "ap", 6),  # p1 was re-touched at 5: newest
        ("a2", "p3", "ap", 6),
        ("a1", "a2", "aa", 6),
    }


def test_window_expiry_unpairs_and_re_pairs() -> None:
    w = 100
    ev = event_frame(
        [
            ("u", "p1", POD, STREAM, T0),
            ("u", "p2", POD, STREAM, T0 + 60),
            ("u", "p3", POD, STREAM, T0 + 150),  # p1 left the window at T0 + 100
            ("u", "p1", POD, STREAM, T0 + 170),  # first touch again; p2 gone at 160
            ("v", "p9", POD, STREAM, T0 + 400),  # moves the watermark past u's entries
        ]
    )
    views = build_frame(ev, END, partitions=1, window_ms=w)
    assert _pairs(views) == {
        ("p1", "p2", "pp", 60),
        ("p2", "p3", "pp", 150),
        ("p1", "p3", "pp", 170),
    }
    # u's rows change at its events and at each sweep; at 400 every entry is gone
    weak = views.offline("user_weak_signals")
    u = weak[weak["user_id"] == "u"].sort_values("ts")
    assert list(u["ts"] - T0) == [0, 60, 150, 170, 400]
    assert list(u["stream_podcast_90d"]) == [1, 2, 2, 2, 0]
    assert list(u["last_event_ms"] - T0) == [0, 60, 150, 170, 170]
    online = views.online("colisten_edges")
    assert {k: r["n_users"] for k, r in online.items()} == {
        "p1|p2": 0,
        "p2|p3": 0,
        "p1|p3": 0,
    }
    assert online["p1|p2"]["first_colisten_ms"] == 0
    assert views.online("user_recent_items")["u"]["recent_podcasts"] == []


def test_watermark_is_per_partition() -> None:
    # with one partition v's event sweeps u; the reference agrees for 1 and 4
    ev = event_frame(
        [
            ("u", "p1", POD, STREAM, T0),
            ("u", "a1", AB, STREAM, T0 + 10),
            ("v", "p9", POD, STREAM, T0 + 400),
            ("w", "p9", POD, STREAM, T0 + 500),
        ]
    )
    for parts in (1, 4):
        views = build_frame(ev, END, partitions=parts, window_ms=100)
        want = reference(ev, parts, window_ms=100)
        for view in want:
            assert diff(views.online(view), want[view], view) == [], (parts, view)
    swept = build_frame(ev, END, partitions=1, window_ms=100).online(
        "user_weak_signals"
    )
    assert swept["u"]["stream_audiobook_90d"] == 0


def test_recent_items_newest_first_ties_by_larger_id_newest_signal() -> None:
    ev = event_frame(
        [
            ("u", "a1", AB, FOLLOW, T0 + 1),
            ("u", "a3", AB, PREVIEW, T0 + 5),
            ("u", "a2", AB, STREAM, T0 + 5),  # same ms as a3: a3 (larger id) first
            ("u", "a1", AB, STREAM, T0 + 7),  # a1 newest, its signal now "stream"
            ("u", "a4", AB, PREVIEW, T0 + 2),
        ]
    )
    row = build_frame(ev, END, partitions=1, cap=3).online("user_recent_items")["u"]
    assert row["recent_audiobooks"] == ["a1", "a3", "a2"]  # cap 3: a4 (t=2) left out
    assert row["recent_audiobook_signals"] == [STREAM, PREVIEW, STREAM]
    assert [t - T0 for t in row["recent_audiobook_ms"]] == [7, 5, 5]
    assert row["recent_podcasts"] == [] and row["last_event_ms"] == T0 + 7


def test_edges_count_distinct_users_in_the_window() -> None:
    w = 100
    ev = event_frame(
        [
            ("u", "p1", POD, STREAM, T0),
            ("u", "p2", POD, STREAM, T0 + 10),  # u: p1|p2 at 10
            ("u", "p1", POD, STREAM, T0 + 150),  # p1 expired at 100, p2 at 110: alone
            ("u", "p2", POD, STREAM, T0 + 160),  # u again: p1|p2 at 160
            ("v", "p2", POD, STREAM, T0 + 20),
            ("v", "p1", POD, STREAM, T0 + 30),  # v: p1|p2 at 30
        ]
    )
    views = build_frame(ev, T0 + 161, partitions=1, window_ms=w)
    edge = views.online("colisten_edges")["p1|p2"]
    # at 160: u's co-listen at 160 is in (60, 160]; v's at 30 is not
    assert (edge["n_users"], edge["first_colisten_ms"], edge["last_colisten_ms"]) == (
        1,
        T0 + 160,
        T0 + 160,
    )
    history = views.offline("colisten_edges").sort_values("ts")
    # versions: co-listens at 10 and 30, sweeps at 150 (10 and 30 leave at 110/130),
    # u's co-listen at 160
    assert list(history["ts"] - T0) == [10, 30, 150, 160]
    assert list(history["n_users"]) == [1, 2, 0, 1]


def test_popularity_counts_whole_days() -> None:
    day0 = (T0 // DAY + 1) * DAY  # a midnight
    ev = event_frame(
        [
            ("u1", "p1", POD, STREAM, day0 + 5),
            ("u1", "p1", POD, STREAM, day0 + 6),
            ("u2", "p1", POD, STREAM, day0 + 7),
            ("u1", "p1", POD, STREAM, day0 + 10 * DAY),
            ("u3", "p1", POD, STREAM, day0 + 20 * DAY + 1),
            ("u3", "a1", AB, FOLLOW, day0 + 20 * DAY + 2),  # not a stream: no count
        ]
    )
    views = build_frame(ev, day0 + 21 * DAY, partitions=1)
    row = views.online("item_popularity")["p1"]
    # day 20: the 14-day window is days 7..20 (streams on days 10 and 20; users u1, u3)
    assert row == {
        "item_type": POD,
        "users_90d": 3,
        "streams_90d": 5,
        "users_14d": 2,
        "streams_14d": 2,
    }
    assert set(views.online("item_popularity")) == {"p1"}
    hist = views.offline("item_popularity").sort_values("ts")
    # day 14 (day 0 leaves the 14-day window) is seen at the partition's next record
    # (day 20), which is also a stream: one version there
    assert list((hist["ts"] - day0) // DAY) == [0, 0, 0, 10, 20]
    assert list(hist["users_14d"]) == [1, 1, 2, 2, 2]  # day 10: u1 and u2 (day 0)
    assert list(hist["streams_14d"]) == [1, 2, 3, 4, 2]
    want = reference(ev, 1)["item_popularity"]
    assert diff(views.online("item_popularity"), want, "item_popularity") == []


def test_an_empty_log_gives_empty_views() -> None:
    ev = event_frame([("u", "p1", POD, "like", T0)])  # rejected: nothing is accepted
    views = build_frame(ev, END)
    assert views.built.rejected == {"unknown_event_type": 1}
    for view in ("user_weak_signals", "colisten_edges", "item_popularity"):
        assert views.offline(view).empty and views.online(view) == {}, view
    views = build_frame(ev.iloc[:0], END)
    assert views.built.events == 0 and views.offline("user_recent_items").empty


def test_hand_logs_equal_the_reference() -> None:
    ev = event_frame(
        [
            (
                f"u{n % 3}",
                f"{'a' if n % 4 == 0 else 'p'}{n % 5}",
                AB if n % 4 == 0 else POD,
                STREAM if n % 3 else FOLLOW,
                T0 + 37 * n,
            )
            for n in range(60)
        ]
    )
    for parts, w, cap in ((1, 300, 2), (4, 500, 1), (3, 10_000, 50)):
        views = build_frame(ev, T0 + 37 * 60, partitions=parts, window_ms=w, cap=cap)
        want = reference(ev, parts, window_ms=w, cap=cap)
        for view in want:
            assert diff(views.online(view), want[view], view) == [], (parts, w, view)
    assert isinstance(ev, pd.DataFrame)
