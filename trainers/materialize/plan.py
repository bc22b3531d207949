"""Run the SQL steps on a DuckDB connection: events in, one table of versions per view out.

`build_views` is the whole transformation; it touches nothing but the connection it is
given (temporary tables named `m_*`). The steps are the SQL of events.py, users.py,
edges.py and popularity.py (each recorded in `Built.sql`, which tests transpile to Spark
SQL), and three steps in Python over Arrow: the Kafka partition of each key
(partitions.py; Spark's hash() is murmur3, not Kafka's murmur2), running sums
(running.py) and cutting recent items into lists (users.recent_items_table).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from colisten import names
from colisten.feature_rules import WINDOW_MS
from colisten.settings import DEFAULT_PARTITIONS
from colisten.timeunits import DAY_MS
from feature_repo import colisten_edges, item_popularity, user_recent_items
from feature_repo import user_weak_signals as uws_view
from trainers.materialize import edges, events, popularity, running, users
from trainers.materialize.partitions import partitions_of

VIEW_MODULES = (uws_view, user_recent_items, colisten_edges, item_popularity)
VIEW_KEYS = {
    uws_view.VIEW: names.USER_ID,
    user_recent_items.VIEW: names.USER_ID,
    colisten_edges.VIEW: names.PAIR_ID,
    item_popularity.VIEW: names.ITEM_ID,
}
VIEW_COLUMNS = {m.VIEW: [c.name for c in m.COLUMNS] for m in VIEW_MODULES}
_SQL_TYPES = {"int64": "BIGINT", "string": "VARCHAR"}
BATCH_ROWS = 1_000_000
"""Sorted rows per batch of a running sum (running.py)."""


@dataclass(frozen=True)
class MaterializeConfig:
    """The stream's parameters, and which user_recent_items versions go offline."""

    partitions: int = DEFAULT_PARTITIONS
    """Partitions of `interactions` and `colisten.pairs` (COLISTEN_PARTITIONS)."""
    cap: int = 50
    """Recent items per type, and partners per type of a first touch."""
    window_ms: int = WINDOW_MS
    recent_items: Literal["labels", "all"] = "labels"
    """Offline user_recent_items rows: every version, or those a label read lands on."""


@dataclass
class Built:
    """Table names of the versions of each view in the connection, and what was dropped."""

    offline: dict[str, str] = field(default_factory=dict)
    """view -> table: key, feature columns, ts (the version's event time, UTC ms)."""
    online: dict[str, str] = field(default_factory=dict)
    """view -> table: the last version per key (the state at the cut-off)."""
    events: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    colistens: int = 0
    sql: list[tuple[str, str]] = field(default_factory=list)
    """(table, SELECT) of every SQL step, in order."""


class _Runner:
    """Creates the step tables on one connection and records their SQL."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, built: Built, keep: bool
    ) -> None:
        self.con, self.built, self.keep = con, built, keep

    def table(self, name: str, sql: str, portable: str | None = None) -> str:
        """CREATE TEMP TABLE name AS sql; record `portable` (Spark's form) if given."""
        self.built.sql.append((name, portable or sql))
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return name

    def view(self, name: str, sql: str) -> str:
        self.built.sql.append((name, sql))
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        return name

    def drop(self, *tables: str) -> None:
        """Free step tables no later step reads (unless keeping them to look at)."""
        for name in () if self.keep else tables:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def count(self, sql: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM ({sql}) c").fetchone()
        return int(row[0]) if row else 0

    def arrow(self, sql: str) -> pa.Table:
        return self.con.execute(sql).arrow().read_all()

    def from_arrow(self, name: str, table: pa.Table) -> str:
        self.con.register(f"{name}_arrow", table)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS FROM {name}_arrow")
        self.con.unregister(f"{name}_arrow")
        return name

    def running(
        self,
        name: str,
        deltas: str,
        key: str,
        sums: Sequence[str],
        fills: Sequence[str],
        extra: Sequence[str] = (),
        portable_deltas: str | None = None,
    ) -> str:
        """Point rows of `deltas` with running sums and fills (running.py)."""
        keep = [key, "t", *extra]
        portable = running.running_sql(
            portable_deltas or deltas, key, sums, fills, keep
        )
        self.built.sql.append((name, portable))
        reader = self.con.execute(
            running.sorted_sql(deltas, key, sums, fills, keep)
        ).arrow(BATCH_ROWS)
        parts = running.running_batches(reader, key, sums, fills, keep)
        # Bounded memory: one batch of sorted rows at a time, the point rows spilled to
        # a parquet file. Nothing else may run on the connection until the reader is
        # spent: a query there ends DuckDB's pending result, and the reader with it.
        with tempfile.TemporaryDirectory(prefix="colisten-running-") as tmp:
            spill = Path(tmp) / f"{name}.parquet"
            writer: pq.ParquetWriter | None = None
            for part in parts:
                if writer is None:
                    writer = pq.ParquetWriter(spill, part.schema)
                writer.write_table(part)
            if writer is None:  # no rows at all
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {name} AS {portable} LIMIT 0"
                )
                return name
            writer.close()
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS "
                f"FROM read_parquet('{spill.as_posix()}')"
            )
        return name

    def keyed(self, name: str, source: str, column: str, parts: int) -> str:
        """A table (key, p, ix): distinct keys of `source`, partition and dense number."""
        keys = self.arrow(f"SELECT DISTINCT {column} FROM ({source}) s ORDER BY 1")
        values = keys[column].to_pylist()
        return self.from_arrow(
            name,
            pa.table(
                {
                    column: pa.array(values, pa.string()),
                    "p": pa.array(partitions_of(values, parts), pa.int32()),
                    "ix": pa.array(range(len(values)), pa.int64()),
                }
            ),
        )


def _views_sql(view: str, source: str) -> str:
    """A view's versions: join key, its columns typed as declared, ts."""
    module = next(m for m in VIEW_MODULES if m.VIEW == view)
    cols = [
        f"CAST({c.name} AS {_SQL_TYPES[c.kind]}) AS {c.name}"
        if c.kind in _SQL_TYPES
        else c.name
        for c in module.COLUMNS
    ]
    key, ts = VIEW_KEYS[view], names.TS
    return f"SELECT {', '.join([key, *cols, f'CAST({ts} AS BIGINT) AS {ts}'])} FROM {source}"


def _last_sql(view: str, versions: str) -> str:
    """Each key's last version (the online row)."""
    key, ts = VIEW_KEYS[view], names.TS
    cols = ", ".join([key, *VIEW_COLUMNS[view], ts])
    return (
        f"SELECT {cols} FROM (SELECT *, ROW_NUMBER() OVER "
        f"(PARTITION BY {key} ORDER BY {ts} DESC) AS nth FROM {versions}) x "
        "WHERE nth = 1"
    )


def build_views(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    cutoff_ms: int,
    cfg: MaterializeConfig = MaterializeConfig(),
    step: Callable[[str], None] | None = None,
    keep_steps: bool = False,
    on_ready: Callable[[str, str], None] | None = None,
) -> Built:
    """Every version of the four stream-fed views from the events in `raw` before cutoff.

    `raw` is a table or view with the world's event columns (colisten.world.format).
    `step(name)` is called as each step starts (a progress bar). Step tables are
    dropped once no later step reads them, unless keep_steps. `on_ready(view, online)`
    is called as soon as a view's tables exist (before the next step), so its online
    rows can be loaded while the later steps run.
    """
    say = step or (lambda _name: None)
    built = Built()
    run = _Runner(con, built, keep_steps)

    def done(view: str, source: str) -> None:
        built.offline[view] = run.view(f"m_off_{view}", _views_sql(view, source))
        built.online[view] = run.view(
            f"m_on_{view}", _last_sql(view, built.offline[view])
        )
        if on_ready is not None:
            on_ready(view, built.online[view])

    w, cap, parts = cfg.window_ms, cfg.cap, cfg.partitions
    u, i, ts = names.USER_ID, names.ITEM_ID, names.TS

    say("check events")
    run.table("m_checked", events.checked_sql(raw, cutoff_ms))
    built.rejected = {
        str(k): int(v)
        for k, v in con.execute(
            "SELECT rejected, count(*) FROM m_checked WHERE rejected IS NOT NULL "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    }
    row = con.execute(
        f"SELECT count(*), count(DISTINCT {names.EVENT_ID}) FROM m_checked "
        "WHERE rejected IS NULL"
    ).fetchone()
    accepted, distinct = (int(row[0]), int(row[1])) if row else (0, 0)
    built.duplicates = accepted - distinct
    run.table(
        "m_valid",
        events.valid_sql("m_checked", dedupe=built.duplicates > 0),
        events.valid_sql("m_checked"),
    )
    built.events = distinct
    run.drop("m_checked")

    say("users")
    run.keyed("m_user_part", "SELECT user_id FROM m_valid", u, parts)
    run.table(
        "m_ev",
        f"SELECT v.*, k.p, k.ix AS uix FROM m_valid v JOIN m_user_part k ON k.{u} = v.{u}",
    )
    run.drop("m_valid")
    run.table("m_touch", users.touches_sql("m_ev", w))
    run.table(
        "m_sweep1",
        users.sweeps_sql("m_touch", w, cutoff_ms),
        users.sweeps_sql("m_touch", w, cutoff_ms, portable=True),
    )
    run.table("m_timeline", users.timeline_sql("m_touch", "m_sweep1"))
    run.drop("m_touch")
    run.table("m_entries", users.entries_sql("m_timeline", "m_sweep1", w))
    run.drop("m_sweep1")

    say("co-listens")
    run.table("m_colisten", users.colisten_sql("m_entries", w, cap))
    built.colistens = run.count("SELECT * FROM m_colisten")

    say("edges")
    run.table(
        "m_colisten_keyed",
        f"SELECT DISTINCT src_item || '|' || dst_item AS {names.PAIR_ID}, src_item, "
        f"dst_item, relation, {u}, {ts} FROM m_colisten",
    )
    run.keyed(
        "m_pair_part", "SELECT pair_id FROM m_colisten_keyed", names.PAIR_ID, parts
    )
    run.table(
        "m_rec",
        "SELECT c.*, k.p FROM m_colisten_keyed c "
        "JOIN m_pair_part k ON k.pair_id = c.pair_id",
    )
    run.drop("m_colisten", "m_colisten_keyed", "m_pair_part")
    stream = f"{names.EVENT_TYPE} = '{names.STREAM}'"
    run.keyed("m_item_part", f"SELECT {i} FROM m_ev WHERE {stream}", i, parts)
    run.table(
        "m_streams",
        f"SELECT e.{i}, e.{names.ITEM_TYPE}, e.{u}, e.{ts}, e.eo, "
        f"e.{ts} // {DAY_MS} AS day, k.p, k.ix "
        f"FROM m_ev e JOIN m_item_part k ON k.{i} = e.{i} WHERE e.{stream}",
    )
    run.drop("m_item_part")
    run.table(
        "m_s2_times",
        f"SELECT p, {ts} AS t FROM m_rec UNION ALL SELECT p, {ts} AS t FROM m_streams",
    )
    run.table(
        "m_edge_points",
        edges.edge_points_sql("m_rec", "m_s2_times", w, cutoff_ms),
        edges.edge_points_sql("m_rec", "m_s2_times", w, cutoff_ms, portable=True),
    )
    run.table("m_edges", edges.edges_sql("m_rec", "m_edge_points", w))
    run.drop("m_rec", "m_edge_points")
    done(colisten_edges.VIEW, "m_edges")

    say("popularity")
    run.table("m_runs", popularity.runs_sql("m_streams"))
    run.running(
        "m_pop_valued",
        popularity.popularity_deltas_sql("m_runs", "m_s2_times", cutoff_ms),
        "ix",
        popularity.VALUE_SUMS,
        [names.ITEM_TYPE],
        [i, "is_stream"],
        popularity.popularity_deltas_sql(
            "m_runs", "m_s2_times", cutoff_ms, portable=True
        ),
    )
    run.table("m_pop", popularity.popularity_sql("m_pop_valued"))
    run.drop("m_streams", "m_s2_times", "m_runs", "m_pop_valued")
    done(item_popularity.VIEW, "m_pop")

    say("user rows")
    run.table("m_uv", users.versions_sql("m_timeline"))
    run.drop("m_timeline")
    run.running(
        "m_uws_t",
        users.weak_signal_deltas_sql("m_ev", "m_uv", w),
        "uix",
        users.WEAK_COUNTERS,
        ["last_event_ms"],
        [u],
    )
    counters = ", ".join(users.WEAK_COUNTERS)
    run.table("m_uws", f"SELECT {u}, t AS {ts}, {counters}, last_event_ms FROM m_uws_t")
    run.drop("m_uws_t")
    points = "m_uv"
    if cfg.recent_items == "labels":
        points = run.table("m_uri_wanted", users.label_versions_sql("m_ev", "m_uv"))
    run.table("m_uri_points", users.indexed_points_sql(points, "m_uws"))
    ranked = users.recent_entries_sql("m_uri_points", "m_entries", cap)
    built.sql.append(("m_uri_ranked", ranked))
    run.from_arrow(
        "m_uri",
        users.recent_items_table(
            run.arrow("SELECT * FROM m_uri_points"), run.arrow(ranked)
        ),
    )
    run.drop("m_ev", "m_entries", "m_uri_points", "m_uri_wanted", "m_uv")
    done(uws_view.VIEW, "m_uws")
    done(user_recent_items.VIEW, "m_uri")
    return built
