"""The background online load: views written in the order handed over, errors raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa
import pytest

from colisten import names
from trainers.materialize import online_load
from trainers.materialize.online_load import BackgroundOnlineLoad

SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("n", pa.int64()),
        (names.EVENT_TIMESTAMP, pa.timestamp("us", tz="UTC")),
    ]
)


def _rows(n: int) -> pa.Table:
    """n rows in the materializer's form (key, columns, ts in UTC ms)."""
    return pa.table(
        {
            "item_id": [f"i{k}" for k in range(n)],
            "n": list(range(n)),
            names.TS: [1_775_000_000_000 + k for k in range(n)],
        }
    )


@dataclass
class RecordingWriter:
    """Records what a real OnlineWriter would be asked to do, and in which thread."""

    fail_on: str | None = None
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    @contextmanager
    def bulk_load(self, view: str) -> Iterator[None]:
        self.calls.append(("begin", view, 0))
        try:
            yield
        finally:
            self.calls.append(("end", view, 0))

    def write_table(self, view: str, table: pa.Table) -> int:
        self.threads.add(threading.current_thread().name)
        if view == self.fail_on:
            raise ValueError(f"cannot write {view}")
        assert table.schema == SCHEMA  # stamped: ts became event_timestamp
        self.calls.append(("write", view, table.num_rows))
        return table.num_rows


def test_views_are_written_in_order_in_chunks_off_the_main_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(online_load, "ONLINE_CHUNK", 4)
    writer = RecordingWriter()
    load = BackgroundOnlineLoad(writer, {"a": SCHEMA, "b": SCHEMA})
    load.put("a", _rows(10))
    load.put("b", _rows(3))
    load.finish()
    assert writer.calls == [
        ("begin", "a", 0),
        ("write", "a", 4),
        ("write", "a", 4),
        ("write", "a", 2),
        ("end", "a", 0),
        ("begin", "b", 0),
        ("write", "b", 3),
        ("end", "b", 0),
    ]
    assert load.rows == {"a": 10, "b": 3}
    assert writer.threads == {"online-load"}


def test_an_error_is_raised_by_finish_and_nothing_after_it_is_written() -> None:
    writer = RecordingWriter(fail_on="a")
    load = BackgroundOnlineLoad(writer, {"a": SCHEMA, "b": SCHEMA})
    load.put("a", _rows(5))
    load.put("b", _rows(5))
    with pytest.raises(ValueError, match="cannot write a"):
        load.finish()
    assert ("begin", "b", 0) not in writer.calls
    assert writer.calls[-1] == ("end", "a", 0)  # bulk_load closed (Feast's index back)
    assert load.rows == {}


def test_a_failed_load_raises_at_the_next_hand_over() -> None:
    writer = RecordingWriter(fail_on="a")
    load = BackgroundOnlineLoad(writer, {"a": SCHEMA, "b": SCHEMA})
    load.put("a", _rows(5))
    deadline = time.monotonic() + 10
    while not load.failed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert load.failed
    with pytest.raises(ValueError, match="cannot write a"):
        load.check()
    with pytest.raises(ValueError, match="cannot write a"):
        load.put("b", _rows(5))  # the caller stops before computing more views
    with pytest.raises(ValueError, match="cannot write a"):
        load.finish()
    assert all(view == "a" for _, view, _ in writer.calls)
