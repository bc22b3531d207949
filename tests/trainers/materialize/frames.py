"""Helpers: build the views from a frame or a world on DuckDB; rows as plain records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from colisten import names
from colisten.world import format as fmt
from stream_processors.reference import expected_views
from trainers.materialize.plan import VIEW_KEYS, Built, MaterializeConfig, build_views
from trainers.materialize.run import events_view

T0 = 1_700_000_000_000
"""A base event time (2023-11-14), after the contract's oldest accepted time."""
VIEWS = tuple(VIEW_KEYS)


@dataclass
class Views:
    """Built views on a connection."""

    con: duckdb.DuckDBPyConnection
    built: Built

    def online(self, view: str) -> dict[str, dict[str, Any]]:
        """A view's online rows: key -> {column: plain value} (without ts)."""
        return records(self.frame(self.built.online[view]), VIEW_KEYS[view])

    def offline(self, view: str) -> pd.DataFrame:
        """A view's versions (key, columns, ts)."""
        return self.frame(self.built.offline[view])

    def frame(self, table: str) -> pd.DataFrame:
        """Any table of the connection as a frame."""
        return self.con.execute(f"SELECT * FROM {table}").df()


def event_frame(rows: Iterable[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """Events from (user, item, item_type, event_type, ts) tuples, ids in row order."""
    out = []
    for n, (user, item, itype, etype, ts) in enumerate(rows):
        out.append(
            {
                names.EVENT_ID: str(uuid.UUID(int=n + 1)),
                names.USER_ID: user,
                names.ITEM_ID: item,
                names.ITEM_TYPE: itype,
                names.EVENT_TYPE: etype,
                names.TS: int(ts),
                names.DURATION_MS: 60_000,
                "country": "SE",
                "platform": "ios",
            }
        )
    return pd.DataFrame(out, columns=fmt.EVENTS_SCHEMA.names)


def build_frame(events: pd.DataFrame, cutoff_ms: int, **cfg: Any) -> Views:
    """Build the views of an events frame (world event columns)."""
    con = duckdb.connect()
    con.register("raw_events", events)
    built = build_views(
        con, "raw_events", cutoff_ms, MaterializeConfig(**cfg), keep_steps=True
    )
    return Views(con, built)


def build_world(world: Path, cutoff_ms: int, **cfg: Any) -> Views:
    """Build the views of a world's event log."""
    con = duckdb.connect()
    built = build_views(
        con,
        events_view(con, world),
        cutoff_ms,
        MaterializeConfig(**cfg),
        keep_steps=True,
    )
    return Views(con, built)


def plain(value: Any) -> Any:
    """Lists as Python lists of plain values, numpy scalars as Python ones."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def cell(value: object) -> object:
    """A frame cell comparable with == (lists and arrays as tuples)."""
    if hasattr(value, "__len__") and not isinstance(value, str):
        return tuple(value)
    return value


def records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    """key -> {column: plain value}, without the version time."""
    frame = frame.drop(columns=[names.TS], errors="ignore")
    return {
        str(row[key]): {c: plain(v) for c, v in row.items() if c != key}
        for row in frame.to_dict("records")
    }


def reference(
    events: pd.DataFrame, partitions: int = 4, **kw: Any
) -> dict[str, dict[str, dict[str, Any]]]:
    """expected_views as key -> record, per view (recent items with last_event_ms)."""
    exp = expected_views(events, partitions, **kw)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for view, want in exp.items():
        if isinstance(want, pd.DataFrame):
            out[view] = {
                str(k): {c: plain(v) for c, v in row.items()}
                for k, row in want.to_dict("index").items()
            }
        else:
            out[view] = {
                str(k): {c: plain(v) for c, v in r.items()} for k, r in want.items()
            }
    last = exp["user_weak_signals"]["last_event_ms"]
    for user, row in out["user_recent_items"].items():
        row["last_event_ms"] = int(last[user])
    return out


def diff(
    got: Mapping[str, Mapping[str, Any]],
    want: Mapping[str, Mapping[str, Any]],
    view: str,
) -> list[str]:
    """Keys whose rows differ (an edge with n_users 0 may be missing from `want`)."""
    out = []
    for key in sorted(set(got) | set(want)):
        g, w = got.get(key), want.get(key)
        if w is None and view == "colisten_edges" and g and g["n_users"] == 0:
            continue
        if g != w:
            out.append(f"{view}[{key}]: {g} != {w}")
    return out
