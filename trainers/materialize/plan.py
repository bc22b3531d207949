"""Run the SQL steps on a DuckDB connection: events in, one table of versions per view out.

`build_views` is the whole transformation; it touches nothing but the connection it is
given (temporary tables named `m_*`). The steps are the SQL of events.py, users.py,
edges.py and popularity.py, plus the Kafka partition of each key (partitions.py), the
one step SQL engines lack (Spark's hash() is murmur3, not Kafka's murmur2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import pyarrow as pa

from colisten import names
from feature_repo import colisten_edges, item_popularity, user_recent_items
from feature_repo import user_weak_signals as uws_view
from stream_processors.user_state import DAY_MS, WINDOW_MS
from trainers.materialize import edges, events, popularity, running, users
from trainers.materialize.partitions import partitions_of

VIEW_KEYS = {
    uws_view.VIEW: names.USER_ID,
    user_recent_items.VIEW: names.USER_ID,
    colisten_edges.VIEW: names.PAIR_ID,
    item_popularity.VIEW: names.ITEM_ID,
}
VIEW_COLUMNS = {
    m.VIEW: [c.name for c in m.COLUMNS]
    for m in (uws_view, user_recent_items, colisten_edges, item_popularity)
}
_SQL_TYPES = {"int64": "BIGINT", "string": "VARCHAR"}
_CASTS = {
    m.VIEW: [
        f"CAST({c.name} AS {_SQL_TYPES[c.kind]}) AS {c.name}"
        if c.kind in _SQL_TYPES
        else c.name
        for c in m.COLUMNS
    ]
    for m in (uws_view, user_recent_items, colisten_edges, item_popularity)
}


@dataclass(frozen=True)
class MaterializeConfig:
    """The stream's parameters, and which user_recent_items versions go offline."""

    partitions: int = 4
    """Partitions of `interactions` and `colisten.pairs` (COLISTEN_PARTITIONS)."""
    cap: int = 50
    """Recent items per type, and partners per type of a first touch."""
    window_ms: int = WINDOW_MS
    recent_items: Literal["labels", "all"] = "labels"
    """Offline user_recent_items rows: every version, or those a label read lands on."""


@dataclass
class Built:
    """Table names of the versions of each view in the connection, and what was dropped."""

    offline: dict[str, str]
    """view -> table: key, feature columns, ts (the version's event time, UTC ms)."""
    online: dict[str, str]
    """view -> table: the last version per key (the state at the cut-off)."""
    events: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    colistens: int = 0


Step = Callable[[str], None]


def _table(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> str:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    return name


def _running(
    con: duckdb.DuckDBPyConnection,
    name: str,
    deltas: str,
    key: str,
    sums: Sequence[str],
    fills: Sequence[str],
    extra: Sequence[str] = (),
) -> str:
    """A table of the point rows of `deltas` with running sums/fills (running.py)."""
    keep = [key, "t", *extra]
    rows = con.execute(running.sorted_sql(deltas, key, sums, fills, keep)).arrow()
    table = running.running_table(rows.read_all(), key, sums, fills, keep)
    con.register(f"{name}_arrow", table)
    _table(con, name, f"SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")
    return name


def _keyed(
    con: duckdb.DuckDBPyConnection, name: str, source_sql: str, column: str, parts: int
) -> str:
    """A table (key, p, ix) of the distinct keys of source_sql with their partition."""
    keys = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT {column} FROM ({source_sql}) s ORDER BY 1"
        ).fetchall()
    ]
    table = pa.table(
        {
            column: pa.array(keys, pa.string()),
            "p": pa.array(partitions_of(keys, parts), pa.int32()),
            "ix": pa.array(range(len(keys)), pa.int64()),
        }
    )
    con.register(f"{name}_arrow", table)
    return _table(con, name, f"SELECT * FROM {name}_arrow")


def build_views(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    cutoff_ms: int,
    cfg: MaterializeConfig = MaterializeConfig(),
    step: Step | None = None,
) -> Built:
    """Every version of the four stream-fed views from the events in `raw` before cutoff.

    `raw` is a table or view with the world's event columns (colisten.world.format).
    `step(name)` is called as each step starts (a progress bar).
    """
    say = step or (lambda _name: None)
    w, cap, parts = cfg.window_ms, cfg.cap, cfg.partitions
    u, ts = names.USER_ID, names.TS

    say("check events")
    _table(con, "m_checked", events.checked_sql(raw, cutoff_ms))
    rejected = dict(
        con.execute(
            "SELECT rejected, count(*) FROM m_checked WHERE rejected IS NOT NULL "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    _table(con, "m_valid", events.valid_sql("m_checked"))
    n_ok = con.execute(
        "SELECT count(*) FROM m_checked WHERE rejected IS NULL"
    ).fetchone()
    n_valid = con.execute("SELECT count(*) FROM m_valid").fetchone()
    assert n_ok is not None and n_valid is not None

    say("users")
    _keyed(con, "m_user_part", "SELECT user_id FROM m_valid", u, parts)
    _table(
        con,
        "m_ev",
        f"SELECT v.*, k.p, k.ix AS uix FROM m_valid v JOIN m_user_part k USING ({u})",
    )
    _table(con, "m_touch", users.touches_sql("m_ev", w))
    _table(con, "m_sweep1", users.sweeps_sql("m_touch", w, cutoff_ms))
    _table(con, "m_timeline", users.timeline_sql("m_touch", "m_sweep1"))
    _table(con, "m_entries", users.entries_sql("m_timeline", "m_sweep1", w))

    say("co-listens")
    _table(con, "m_colisten", users.colisten_sql("m_entries", w, cap))

    say("user rows")
    _table(con, "m_uv", users.versions_sql("m_timeline"))
    _running(
        con,
        "m_uws_t",
        users.weak_signal_deltas_sql("m_ev", "m_uv", w),
        u,
        users.WEAK_COUNTERS,
        ["last_event_ms"],
    )
    _table(con, "m_uws", f"SELECT * EXCLUDE (t), t AS {ts} FROM m_uws_t")
    points = "m_uv"
    if cfg.recent_items == "labels":
        points = _table(con, "m_uri_wanted", users.label_versions_sql("m_ev", "m_uv"))
    _table(con, "m_uri_points", users.indexed_points_sql(points, "m_uws"))
    uri = users.recent_items_table(
        con.execute("SELECT * FROM m_uri_points").arrow().read_all(),
        con.execute(users.recent_entries_sql("m_uri_points", "m_entries", cap))
        .arrow()
        .read_all(),
    )
    con.register("m_uri_arrow", uri)
    _table(con, "m_uri", "SELECT * FROM m_uri_arrow")
    con.unregister("m_uri_arrow")

    say("edges")
    _table(
        con,
        "m_colisten_keyed",
        f"SELECT DISTINCT src_item || '|' || dst_item AS {names.PAIR_ID}, * "
        "FROM m_colisten",
    )
    _keyed(
        con, "m_pair_part", "SELECT pair_id FROM m_colisten_keyed", names.PAIR_ID, parts
    )
    _table(
        con,
        "m_rec",
        "SELECT c.*, k.p FROM m_colisten_keyed c JOIN m_pair_part k USING (pair_id)",
    )
    _keyed(
        con,
        "m_item_part",
        f"SELECT item_id FROM m_ev WHERE event_type = '{names.STREAM}'",
        names.ITEM_ID,
        parts,
    )
    _table(
        con,
        "m_streams",
        f"SELECT e.{names.ITEM_ID}, e.{names.ITEM_TYPE}, e.{u}, e.{ts}, "
        f"e.{ts} // {DAY_MS} AS day, k.p "
        f"FROM m_ev e JOIN m_item_part k USING ({names.ITEM_ID}) "
        f"WHERE e.{names.EVENT_TYPE} = '{names.STREAM}'",
    )
    _table(
        con,
        "m_s2_times",
        f"SELECT p, {ts} AS t FROM m_rec UNION ALL SELECT p, {ts} AS t FROM m_streams",
    )
    _table(
        con, "m_edge_points", edges.edge_points_sql("m_rec", "m_s2_times", w, cutoff_ms)
    )
    _table(con, "m_edges", edges.edges_sql("m_rec", "m_edge_points", w))

    say("popularity")
    _table(
        con,
        "m_pop_points",
        popularity.popularity_points_sql("m_streams", "m_s2_times", cutoff_ms),
    )
    _running(
        con,
        "m_pop_valued",
        popularity.popularity_deltas_sql("m_streams", "m_pop_points"),
        names.ITEM_ID,
        popularity.VALUE_SUMS,
        [names.ITEM_TYPE],
        ["is_stream"],
    )
    _table(con, "m_pop", popularity.popularity_sql("m_pop_valued"))

    say("online rows")
    sources = {
        uws_view.VIEW: "m_uws",
        user_recent_items.VIEW: "m_uri",
        colisten_edges.VIEW: "m_edges",
        item_popularity.VIEW: "m_pop",
    }
    offline, online = {}, {}
    for view, table in sources.items():
        key = VIEW_KEYS[view]
        cols = ", ".join([key, *_CASTS[view], f"CAST({ts} AS BIGINT) AS {ts}"])
        offline[view] = _table(con, f"m_off_{view}", f"SELECT {cols} FROM {table}")
        online[view] = _table(
            con,
            f"m_on_{view}",
            f"SELECT * EXCLUDE (nth) FROM (SELECT *, ROW_NUMBER() OVER "
            f"(PARTITION BY {key} ORDER BY {ts} DESC) AS nth FROM {offline[view]}) x "
            "WHERE nth = 1",
        )
    colistens = con.execute("SELECT count(*) FROM m_colisten").fetchone()
    return Built(
        offline=offline,
        online=online,
        events=int(n_valid[0]),
        rejected={str(k): int(v) for k, v in rejected.items()},
        duplicates=int(n_ok[0]) - int(n_valid[0]),
        colistens=int(colistens[0]) if colistens else 0,
    )
