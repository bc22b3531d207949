"""Bad logs: duplicates count once, rejected events count nowhere, order does not matter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from colisten.events import validate_event
from colisten.world import format as fmt
from tests.trainers.conftest import TinyWorld
from tests.trainers.materialize.frames import (
    VIEWS,
    Views,
    build_frame,
    build_world,
    event_frame,
)
from trainers.materialize.plan import VIEW_KEYS


def _write_log(root: Path, events: pd.DataFrame, parts: int = 1) -> Path:
    folder = root / fmt.EVENTS_DIR
    folder.mkdir(parents=True)
    for n, chunk in enumerate(np.array_split(np.arange(len(events)), parts)):
        table = pa.Table.from_pandas(
            events.iloc[chunk], schema=fmt.EVENTS_SCHEMA, preserve_index=False
        )
        pq.write_table(table, folder / f"part-{n:05d}.parquet")
    return root


def _same_rows(a: Views, b: Views) -> None:
    for view in VIEWS:
        key = VIEW_KEYS[view]
        left = a.offline(view).sort_values([key, "ts"]).reset_index(drop=True)
        right = b.offline(view).sort_values([key, "ts"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(left.map(_tup), right.map(_tup), obj=view)


def _tup(v: object) -> object:
    return tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v


def test_duplicate_ids_count_once(tiny: TinyWorld, tmp_path: Path) -> None:
    """A client's resend (same event id, same payload) changes nothing, as in stage 1."""
    cutoff = tiny.manifest.split_ms
    clean = build_world(tiny.path, cutoff, recent_items="all")
    ev = tiny.events
    again = ev[ev["ts"] < cutoff].sample(300, random_state=1)
    upper = again.assign(event_id=again["event_id"].str.upper())  # ids are lower-cased
    dirty = pd.concat([ev, again, upper.head(50)], ignore_index=True)
    views = build_world(_write_log(tmp_path, dirty), cutoff, recent_items="all")
    assert views.built.duplicates == 350
    _same_rows(views, clean)


def test_out_of_order_log_gives_the_same_rows(tiny: TinyWorld, tmp_path: Path) -> None:
    """Events are folded in (ts, event_id) order, wherever they sit in the log."""
    cutoff = tiny.manifest.split_ms
    clean = build_world(tiny.path, cutoff, recent_items="all")
    shuffled = tiny.events.sample(frac=1.0, random_state=2)
    views = build_world(
        _write_log(tmp_path, shuffled, parts=3), cutoff, recent_items="all"
    )
    _same_rows(views, clean)


def _bad_rows(good: pd.DataFrame) -> pd.DataFrame:
    """One row per rejection reason, each a copy of a good event with one fault."""
    base = good.iloc[0].to_dict()
    faults = [
        {"event_type": "like"},
        {"item_type": "movie"},
        {"event_id": "not-a-uuid"},
        {"user_id": "bad user"},
        {"item_id": "x" * 129},
        {"ts": 946_684_799_999},
        {"duration_ms": None, "event_type": "stream"},
        {"duration_ms": -5},
        {"country": "TOO-LONG-CC"},
        {"event_type": None},
    ]
    rows = []
    for n, fault in enumerate(faults):
        row = {**base, **fault}
        if "event_id" not in fault:
            row["event_id"] = f"00000000-0000-0000-0000-{n:012d}"
        rows.append(row)
    return pd.DataFrame(rows, columns=good.columns)


def test_rejected_events_count_nowhere(tiny: TinyWorld, tmp_path: Path) -> None:
    """What the contract rejects (the stream dead-letters it) reaches no row."""
    cutoff = tiny.manifest.split_ms
    clean = build_world(tiny.path, cutoff, recent_items="all")
    bad = _bad_rows(tiny.events)
    dirty = pd.concat([tiny.events, bad], ignore_index=True)
    views = build_world(_write_log(tmp_path, dirty), cutoff, recent_items="all")
    assert sum(views.built.rejected.values()) == len(bad)
    assert views.built.rejected["unknown_event_type"] == 2
    _same_rows(views, clean)


def _contract_ok(row: dict[str, object]) -> bool:
    payload = {
        k: (int(v) if isinstance(v, (np.integer, float)) and k != "country" else v)
        for k, v in row.items()
        if v is not None and not (isinstance(v, float) and np.isnan(v))
    }
    return validate_event(payload, now_ms=2_000_000_000_000).ok


def test_sql_checks_agree_with_the_contract(tiny: TinyWorld) -> None:
    """The SQL rejects exactly what validate_event rejects (the future check aside)."""
    good = tiny.events.head(5)
    rows = pd.concat([good, _bad_rows(tiny.events)], ignore_index=True)
    views = build_frame(rows, 2_000_000_000_000)
    checked = views.frame("m_checked").set_index("event_id")
    for row in rows.to_dict("records"):
        sql_ok = checked.loc[str(row["event_id"]).lower(), "rejected"] is None
        assert sql_ok == _contract_ok(row), row


def test_hand_built_duplicate_from_another_user_counts_once() -> None:
    """An id reused by another user: the contract's idempotency key, kept once (first)."""
    ev = event_frame(
        [("u", "p1", "podcast", "stream", 1_700_000_000_000)] * 1
        + [("v", "p2", "podcast", "stream", 1_700_000_000_500)]
    )
    ev.loc[1, "event_id"] = ev.loc[0, "event_id"]
    views = build_frame(ev, 1_800_000_000_000)
    assert set(views.online("user_weak_signals")) == {"u"}
    assert views.built.duplicates == 1
