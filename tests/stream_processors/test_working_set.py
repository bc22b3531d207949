"""WorkingSet: batch reads fall through, writes wait for commit and keep their partition."""

from __future__ import annotations

import sys
from collections import deque
from typing import Any

from stream_processors.pair_state import ItemPopularity, ItemUser, PairState
from stream_processors.user_state import UserState
from stream_processors.working_set import WorkingSet, chunked


class FakeTable(dict[str, Any]):
    """A dict with the table's `put(key, value, partition)` and a write log."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, int]] = []

    def __missing__(self, key: str) -> dict[str, Any]:
        return {}

    def put(self, key: str, value: Any, partition: int) -> None:
        self[key] = value
        self.writes.append((key, partition))


def test_writes_wait_for_commit_and_go_to_their_partition() -> None:
    table = FakeTable()
    ws = WorkingSet(table, UserState.from_json)
    st = ws.get("u1", 0)
    st.offset = 7
    ws.put("u1", st, 3)
    assert (
        ws.get("u1", 0) is st and "u1" not in table
    )  # the batch sees it, the table not
    ws.put("u2", ws.get("u2", 0), 1)
    assert ws.pending() == 2
    assert ws.commit() == 2 and table.writes == [("u1", 3), ("u2", 1)]  # in order
    assert table["u1"]["o"] == 7 and ws.pending() == 0
    ws.reset()
    assert ws.get("u1", 0).offset == 7  # decoded afresh from the table


def test_chunked_keeps_order_and_bounds_size() -> None:
    assert list(chunked(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []


def test_kept_states_skip_the_decode_and_stay_equal_to_the_table() -> None:
    table = FakeTable()
    ws = WorkingSet(table, UserState.from_json, keep=2)
    st = ws.get("u1", 0)
    st.signals["follow_audiobook_90d"] = [5]
    ws.put("u1", st, 0)
    ws.commit()
    ws.reset()
    assert ws.get("u1", 0) is st and ws.decodes == 1  # kept, not decoded again
    st.signals["follow_audiobook_90d"].append(6)  # the next batch changes it...
    assert table["u1"]["s"] == {"follow_audiobook_90d": [5]}  # ...not the table's copy
    ws.put("u1", st, 0)
    ws.commit()
    ws.reset()
    for key in ("u2", "u3"):  # least recently used goes first
        ws.get(key, 0)
    ws.reset()
    assert list(ws.cache) == ["u2", "u3"]
    assert ws.get("u1", 0).signals == {"follow_audiobook_90d": [5, 6]}  # decoded
    assert ws.decodes == 4


def test_abandoned_batch_and_forget_drop_kept_states() -> None:
    table = FakeTable()
    ws = WorkingSet(table, UserState.from_json, keep=10)
    ws.put("u1", ws.get("u1", 0), 0)
    ws.commit()
    ws.reset()
    changed = ws.get("u1", 0)
    changed.offset = 99
    ws.put("u1", changed, 0)
    ws.reset()  # no commit: the batch is abandoned
    assert not ws.cache and ws.get("u1", 0).offset == -1
    ws.reset()
    table["u1"] = {**table["u1"], "o": 41}  # another worker wrote it (a rebalance)
    ws.forget()
    assert ws.get("u1", 0).offset == 41


def _user(times: int, items: int) -> UserState:
    st = UserState()
    st.signals["stream_podcast_90d"] = [1_700_000_000_000 + t for t in range(times)]
    for i in range(items):
        st.touch(f"pod-{i:06d}", 1_700_000_000_000 + i, "podcast", "stream")
    return st


def test_a_byte_budget_evicts_the_least_recent_states_past_it() -> None:
    big, small = _user(200, 50), _user(1, 1)
    budget = big.approx_bytes() + 2 * small.approx_bytes()
    ws = WorkingSet(FakeTable(), UserState.from_json, keep=100, budget_bytes=budget)
    for key, st in (("big", big), ("s1", small), ("s2", _user(1, 1))):
        ws.get(key, 0)
        ws.states[key] = st  # as a batch that read and folded them leaves them
    ws.reset()  # all three fit
    assert list(ws.cache) == ["big", "s1", "s2"] and ws.cache_bytes == budget
    ws.get("s3", 0)
    ws.states["s3"] = _user(1, 1)
    ws.reset()  # one more small one: the oldest (the big one) goes
    assert list(ws.cache) == ["s1", "s2", "s3"]
    assert ws.cache_bytes == 3 * small.approx_bytes()
    assert ws.get("s1", 0) is small and ws.cache_bytes == 2 * small.approx_bytes()
    ws.reset()
    assert list(ws.cache) == ["s2", "s3", "s1"]  # taken and kept again: most recent
    ws.forget()
    assert not ws.cache and ws.cache_bytes == 0


def _deep_size(obj: object, seen: set[int]) -> int:
    """Bytes of obj and everything it references (once each)."""
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | deque):
        size += sum(_deep_size(x, seen) for x in obj)
    elif hasattr(obj, "__dict__"):
        size += _deep_size(vars(obj), seen)
    return size


def test_approx_bytes_is_within_a_factor_of_two_of_the_deep_size() -> None:
    pair = PairState("ab-1", "pod-2", "ab_pod")
    for u in range(300):
        pair.users[f"user-{u:08d}"] = [1_700_000_000_000 + u, 1_700_000_100_000 + u]
    pop = ItemPopularity(
        "podcast", {d: 3 for d in range(90)}, {d: 2 for d in range(90)}
    )
    item_user = ItemUser(20_000, {2**60 + i: 20_000 + i % 90 for i in range(200)})
    user = _user(500, 120)
    user.ordered("podcast")  # as after a fold: the order is built
    empty = (UserState(), PairState(), ItemPopularity(), ItemUser())
    for st in (pair, pop, item_user, user, *empty):
        ratio = st.approx_bytes() / _deep_size(st, set())
        assert 0.5 <= ratio <= 2.0, (type(st).__name__, ratio)
