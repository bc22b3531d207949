"""WorkingSet: batch reads fall through, writes wait for commit and keep their partition."""

from __future__ import annotations

from typing import Any

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
