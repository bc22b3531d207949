"""Stage 2's pure cores: distinct-user edges and day-bucketed popularity."""

from __future__ import annotations

from colisten.timeunits import DAY_MS as DAY
from stream_processors.clock import PartitionClock
from stream_processors.pair_state import (
    ItemPopularity,
    ItemUser,
    PairState,
    edge_row,
    expire_pair,
    fold_colisten,
    fold_stream,
    holds_colisten,
    popularity_row,
    record_position,
)

T0 = 1_767_571_200_000  # 2026-01-05T00:00Z, a day boundary


def test_edge_counts_distinct_users_not_events() -> None:
    st = PairState()
    for _ in range(100):
        fold_colisten(st, "a1", "p1", "ap", "u1", T0, T0)
    fold_colisten(st, "a1", "p1", "ap", "u2", T0 + 5, T0 + 5)
    assert edge_row(st) == {
        "src_item": "a1",
        "dst_item": "p1",
        "relation": "ap",
        "n_users": 2,
        "first_colisten_ms": T0,
        "last_colisten_ms": T0 + 5,
    }
    assert not fold_colisten(st, "a1", "p1", "ap", "u2", T0 + 5, T0 + 5)  # idempotent


def test_edge_decays_when_colistens_leave_the_window() -> None:
    st = PairState()
    fold_colisten(st, "a1", "a2", "aa", "u1", T0, T0)
    fold_colisten(st, "a1", "a2", "aa", "u2", T0 + 10 * DAY, T0 + 10 * DAY)
    assert expire_pair(st, T0 + 90 * DAY)
    assert edge_row(st)["n_users"] == 1
    assert edge_row(st)["first_colisten_ms"] == T0 + 10 * DAY
    expire_pair(st, T0 + 100 * DAY)
    assert edge_row(st)["n_users"] == 0


def test_popularity_counts_streams_and_distinct_users_per_window() -> None:
    pop = ItemPopularity()
    ius = {u: ItemUser() for u in ("u1", "u2")}
    now = T0 + 20 * DAY
    fold_stream(pop, ius["u1"], "podcast", "e1", T0, now)  # 20 days ago
    fold_stream(pop, ius["u1"], "podcast", "e2", T0 + 19 * DAY, now)
    fold_stream(pop, ius["u2"], "podcast", "e3", T0 + 2 * DAY, now)
    assert not fold_stream(pop, ius["u2"], "podcast", "e3", T0 + 2 * DAY, now)  # replay
    assert popularity_row(pop, now) == {
        "item_type": "podcast",
        "users_90d": 2,
        "streams_90d": 3,
        "users_14d": 1,
        "streams_14d": 1,
    }
    later = T0 + 95 * DAY  # the first 5 days have left the 90-day window
    assert popularity_row(pop, later)["streams_90d"] == 1
    assert popularity_row(pop, later)["users_90d"] == 1


def test_round_trips() -> None:
    st = PairState()
    fold_colisten(st, "a1", "a2", "aa", "u1", T0, T0)
    assert PairState.from_json(st.to_json()) == st
    pop, iu = ItemPopularity(), ItemUser()
    fold_stream(pop, iu, "audiobook", "e1", T0, T0)
    assert ItemPopularity.from_json(pop.to_json()) == pop
    assert ItemUser.from_json(iu.to_json()) == iu


def test_clock_schedules_one_entry_per_key_and_pops_when_due() -> None:
    clock = PartitionClock()
    clock.schedule(0, "k", 100)
    clock.schedule(0, "k", 200)  # later: ignored, the earlier check re-schedules
    clock.schedule(0, "j", 150)
    assert clock.advance(0, 120) and clock.due(0) == ["k"]
    assert not clock.advance(0, 110)
    assert clock.due(0) == []
    clock.advance(0, 150)
    assert clock.due(0) == ["j"]


def test_popularity_written_but_item_user_lost_is_repaired_on_replay() -> None:
    # the worker writes popularity, then item-user entries; a crash between the two
    # leaves the popularity counting offsets 10 and 11 while both entries are lost
    pop, iu_a, iu_b = ItemPopularity(), ItemUser(), ItemUser()
    fold_stream(pop, iu_a, "podcast", "e1", T0, T0, offset=10)
    fold_stream(pop, iu_b, "podcast", "e2", T0 + DAY, T0 + DAY, offset=11)
    want = popularity_row(pop, T0 + DAY)
    lost_a, lost_b = ItemUser(), ItemUser()  # what the restored table holds
    assert fold_stream(pop, lost_a, "podcast", "e1", T0, T0 + DAY, offset=10)
    assert fold_stream(pop, lost_b, "podcast", "e2", T0 + DAY, T0 + DAY, offset=11)
    assert popularity_row(pop, T0 + DAY) == want  # nothing counted twice
    assert (lost_a, lost_b) == (iu_a, iu_b)  # entries rebuilt exactly
    # stage 1 repeating a record after its own crash: a new offset, a known event id
    assert not fold_stream(pop, iu_a, "podcast", "e1", T0, T0 + DAY, offset=12)
    assert popularity_row(pop, T0 + DAY) == want


def test_records_of_one_message_are_distinct_positions() -> None:
    pop = ItemPopularity()
    for index, event_id in enumerate(["e1", "e2", "e3"]):
        pos = record_position(5, index)
        assert fold_stream(pop, ItemUser(), "podcast", event_id, T0, T0, offset=pos)
    assert popularity_row(pop, T0)["streams_90d"] == 3
    assert record_position(5, 999_999) < record_position(6, 0)


def test_holds_colisten_recognises_a_replayed_record() -> None:
    st = PairState()
    assert not holds_colisten(st, "u1", T0)
    fold_colisten(st, "a1", "a2", "aa", "u1", T0, T0)
    assert holds_colisten(st, "u1", T0)
    assert not holds_colisten(st, "u1", T0 + 1)  # a later co-listen is new
    assert not holds_colisten(st, "u2", T0)  # so is another user's


def _naive_edge(st: PairState) -> tuple[int, int, int]:
    times = [t for ts in st.users.values() for t in ts]
    return len(st.users), min(times, default=0), max(times, default=0)


def test_cached_span_matches_a_full_scan_through_folds_expiry_and_restarts() -> None:
    import random

    rng = random.Random(5)
    st, now = PairState(), T0
    for step in range(3000):
        now += rng.randrange(0, 3 * DAY)
        ts = now - rng.randrange(0, 120 * DAY)
        user = f"u{rng.randrange(40)}"
        fold_colisten(st, "a1", "a2", "aa", user, ts, now, window_ms=60 * DAY)
        if rng.random() < 0.1:
            expire_pair(st, now + rng.randrange(0, 90 * DAY), window_ms=60 * DAY)
        if step % 97 == 0:  # a decoded state starts without the cache
            st = PairState.from_json(st.to_json())
        row = edge_row(st)
        want = _naive_edge(st)
        assert (
            row["n_users"],
            row["first_colisten_ms"],
            row["last_colisten_ms"],
        ) == want
        assert st.oldest_ms() == (want[1] if st.users else None)


def test_item_user_keeps_exactly_the_window_of_stream_ids() -> None:
    pop, iu = ItemPopularity(), ItemUser()
    for k in range(200):  # one stream a day for 200 days, as of each day
        assert fold_stream(pop, iu, "podcast", f"e{k}", T0 + k * DAY, T0 + k * DAY)
        assert min(iu.ids.values()) == max(0, k - 89) + T0 // DAY
        assert len(iu.ids) == min(k + 1, 90)
    assert not fold_stream(pop, iu, "podcast", "e199", T0 + 199 * DAY, T0 + 199 * DAY)
    assert ItemUser.from_json(iu.to_json()) == iu


def test_item_user_written_with_plain_ids_still_reads() -> None:
    pop, iu = ItemPopularity(), ItemUser()
    for k in range(3):
        fold_stream(pop, iu, "podcast", f"e{k}", T0 + k * DAY, T0 + 2 * DAY)
    day = T0 // DAY
    old = {"d": day + 2, "i": [[day + k, f"e{k}"] for k in range(3)]}  # before digests
    assert ItemUser.from_json(old) == iu
    packed = iu.to_json()["j"]
    assert set(packed) == {str(day + k) for k in range(3)}  # one packed string a day
    again = ItemUser.from_json(old)
    assert not fold_stream(pop, again, "podcast", "e1", T0 + DAY, T0 + 2 * DAY)
