"""Stage 1 in SQL: each user's timeline, co-listen records, weak signals and recent items.

Input `ev`: the accepted events (events.valid_sql) with `p` (the user's partition) and
`uix` (a dense user number). A user's timeline holds their events and the instants their
partition's watermark sweeps one of their entries out of the window (clock.py); its
global position `g` is uix * 2**32 + the row's rank within the user, so one user's rows
are contiguous and a range of positions never spans two users.

Each event k is an item entry: it is the item's newest touch for positions
[g_k, end_k), ending at the item's next touch or when it leaves the window, whichever
comes first. The user's items at any position q are the entries whose range contains q:
an interval join (an IEJoin in DuckDB), no per-user loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from colisten import names
from colisten.feature_rules import COUNTERS
from trainers.materialize.clock import at_or_after_sql

USER_SPAN = 4_294_967_296
"""Positions per user in `g` (2**32): more rows than any user can have."""


def touches_sql(ev: str, window_ms: int) -> str:
    """Accepted events with the previous and next touch time of the same (user, item)."""
    return f"""
SELECT *,
  LAG({names.TS}) OVER w AS prev_ts,
  LEAD({names.TS}) OVER w AS next_ts,
  CASE WHEN counter IS NOT NULL
         OR LEAD({names.TS}) OVER w IS NULL
         OR LEAD({names.TS}) OVER w >= {names.TS} + {window_ms}
       THEN 1 ELSE 0 END AS expires
FROM {ev}
WINDOW w AS (PARTITION BY uix, {names.ITEM_ID} ORDER BY eo)
"""


def sweeps_sql(
    touches: str, window_ms: int, cutoff_ms: int, portable: bool = False
) -> str:
    """Per event (eo) still holding an entry when it leaves the window: the sweep instant s."""
    probes = (
        f"SELECT p, {names.TS} + {window_ms} AS x, eo FROM {touches} "
        f"WHERE expires = 1 AND {names.TS} + {window_ms} < {cutoff_ms}"
    )
    times = f"SELECT p, {names.TS} AS t FROM {touches}"
    return at_or_after_sql(probes, times, "eo", portable)


def timeline_sql(touches: str, sweeps: str) -> str:
    """Events (kind 0) and distinct sweep instants (kind 1) per user, with position g."""
    cols = ["eo", names.ITEM_ID, names.ITEM_TYPE, names.EVENT_TYPE]
    null_cols = ", ".join(f"NULL AS {c}" for c in cols)
    ev_cols = ", ".join(cols)
    return f"""
SELECT {names.USER_ID}, uix, {names.TS}, kind, {ev_cols}, prev_ts, next_ts,
  uix * {USER_SPAN} + ROW_NUMBER() OVER (
    PARTITION BY uix ORDER BY {names.TS}, kind, eo) AS g
FROM (
  SELECT {names.USER_ID}, uix, {names.TS}, 0 AS kind, {ev_cols}, prev_ts, next_ts
  FROM {touches}
  UNION ALL
  SELECT DISTINCT t.{names.USER_ID}, t.uix, w.s AS {names.TS}, 1 AS kind, {null_cols},
    NULL AS prev_ts, NULL AS next_ts
  FROM {sweeps} w JOIN {touches} t ON t.eo = w.eo
  WHERE w.s IS NOT NULL
) u
"""


def entries_sql(timeline: str, sweeps: str, window_ms: int) -> str:
    """Each event's item entry: positions [g, end_g) where it is its item's newest touch."""
    u, i, ts = names.USER_ID, names.ITEM_ID, names.TS
    return f"""
WITH e AS (
  SELECT *, LEAD(g) OVER (PARTITION BY uix, {i} ORDER BY g) AS next_g
  FROM {timeline} WHERE kind = 0
),
at_ts AS (SELECT {u}, {ts}, MIN(g) AS g0 FROM {timeline} GROUP BY {u}, {ts}),
last_g AS (SELECT {u}, MAX(g) AS gz FROM {timeline} GROUP BY {u})
SELECT e.{u}, e.eo, e.{i}, e.{names.ITEM_TYPE}, e.{names.EVENT_TYPE},
  e.{ts}, e.g, e.prev_ts,
  CASE WHEN e.next_ts IS NOT NULL AND e.next_ts < e.{ts} + {window_ms} THEN e.next_g
       WHEN w.s IS NOT NULL THEN a.g0
       ELSE z.gz + 1 END AS end_g
FROM e
LEFT JOIN {sweeps} w ON w.eo = e.eo
LEFT JOIN at_ts a ON a.{u} = e.{u} AND a.{ts} = w.s
JOIN last_g z ON z.{u} = e.{u}
"""


def colisten_sql(entries: str, window_ms: int, cap: int) -> str:
    """Co-listen records (src_item, dst_item, relation, user_id, ts), canonical order.

    A first touch in the window (no touch of the item in the previous window_ms) pairs
    the item with the user's `cap` most recent other items of each type: the entries
    holding just before it, newest first, ties by larger item id.
    """
    ab, rel_aa, rel_ap, rel_pp = (
        names.AUDIOBOOK,
        names.REL_AA,
        names.REL_AP,
        names.REL_PP,
    )
    return f"""
SELECT
  CASE WHEN a_type <> b_type THEN CASE WHEN a_type = '{ab}' THEN a ELSE b END
       WHEN a < b THEN a ELSE b END AS src_item,
  CASE WHEN a_type <> b_type THEN CASE WHEN a_type = '{ab}' THEN b ELSE a END
       WHEN a < b THEN b ELSE a END AS dst_item,
  CASE WHEN a_type <> b_type THEN '{rel_ap}'
       WHEN a_type = '{ab}' THEN '{rel_aa}' ELSE '{rel_pp}' END AS relation,
  {names.USER_ID}, {names.TS}
FROM (
  SELECT f.{names.USER_ID}, f.{names.TS}, f.{names.ITEM_ID} AS a, f.{names.ITEM_TYPE} AS a_type,
    k.{names.ITEM_ID} AS b, k.{names.ITEM_TYPE} AS b_type,
    ROW_NUMBER() OVER (PARTITION BY f.g, k.{names.ITEM_TYPE}
                       ORDER BY k.{names.TS} DESC, k.{names.ITEM_ID} DESC) AS rk
  FROM (SELECT * FROM {entries}
        WHERE prev_ts IS NULL OR prev_ts <= {names.TS} - {window_ms}) f
  JOIN {entries} k ON k.g < f.g AND f.g < k.end_g
  WHERE k.{names.ITEM_ID} <> f.{names.ITEM_ID}
) r
WHERE rk <= {cap}
"""


def versions_sql(timeline: str) -> str:
    """One version per user and millisecond of their timeline, at its last position."""
    return (
        f"SELECT {names.USER_ID}, uix, {names.TS}, MAX(g) AS g FROM {timeline} "
        f"GROUP BY {names.USER_ID}, uix, {names.TS}"
    )


WEAK_COUNTERS = tuple(COUNTERS.values())


def weak_signal_deltas_sql(ev: str, versions: str, window_ms: int) -> str:
    """Rows whose running sums per user (uix) are user_weak_signals at each version.

    A version row (pt = 1) adds its millisecond's events to their counters; they are
    taken back at ts + window (an event counts in (ts - window, ts]). last_event_ms is
    the newest event time so far (filled forward).
    """
    u, ts = names.USER_ID, names.TS

    def counts(sign: str) -> str:
        return ", ".join(
            f"{sign}CAST(SUM(CASE WHEN counter = '{c}' THEN 1 ELSE 0 END) AS BIGINT)"
            f" AS {c}"
            for c in WEAK_COUNTERS
        )

    added = ", ".join(f"COALESCE(e.{c}, 0) AS {c}" for c in WEAK_COUNTERS)
    return f"""
SELECT v.uix, v.{u}, v.{ts} AS t, 1 AS pt, {added}, e.last_event_ms
FROM {versions} v
LEFT JOIN (
  SELECT uix, {ts}, {counts("")}, MAX({ts}) AS last_event_ms FROM {ev} GROUP BY uix, {ts}
) e ON e.uix = v.uix AND e.{ts} = v.{ts}
UNION ALL
SELECT uix, {u}, {ts} + {window_ms} AS t, 0 AS pt, {counts("-")}, NULL AS last_event_ms
FROM {ev} WHERE counter IS NOT NULL GROUP BY uix, {u}, {ts}
"""


def label_versions_sql(ev: str, versions: str) -> str:
    """The versions a two-tower read can land on, and each user's last version.

    Labels (trainers.two_tower.data.labels_from_events, either item type) are each
    (user, item)'s first stream; their user rows are read as of 1 ms before it.
    """
    u, ts = names.USER_ID, names.TS
    return f"""
WITH labels AS (
  SELECT {u}, {ts} - 1 AS t FROM (
    SELECT {u}, {ts}, ROW_NUMBER() OVER (
      PARTITION BY uix, {names.ITEM_ID} ORDER BY eo) AS nth
    FROM {ev} WHERE {names.EVENT_TYPE} = '{names.STREAM}') f
  WHERE nth = 1
),
marks AS (
  SELECT {u}, t, kind,
    MAX(CASE WHEN kind = 0 THEN t END) OVER (
      PARTITION BY {u} ORDER BY t, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS v
  FROM (SELECT {u}, {ts} AS t, 0 AS kind FROM {versions}
        UNION ALL SELECT {u}, t, 1 AS kind FROM labels) m
),
wanted AS (
  SELECT DISTINCT {u}, v AS {ts} FROM marks WHERE kind = 1 AND v IS NOT NULL
  UNION
  SELECT {u}, MAX({ts}) AS {ts} FROM {versions} GROUP BY {u}
)
SELECT v.* FROM {versions} v JOIN wanted w ON w.{u} = v.{u} AND w.{ts} = v.{ts}
"""


def recent_entries_sql(points: str, entries: str, cap: int) -> str:
    """The `cap` newest items of each type at each point (pix), in list order.

    `points` has a dense index pix; rows come sorted by (pix, item type, rank), ready to
    cut into lists (recent_items_table).
    """
    it = names.ITEM_TYPE
    return f"""
SELECT pix, CASE WHEN {it} = '{names.AUDIOBOOK}' THEN 0 ELSE 1 END AS tflag,
  {names.ITEM_ID}, {names.EVENT_TYPE}, {names.TS}
FROM (
  SELECT q.pix, k.{it}, k.{names.ITEM_ID}, k.{names.EVENT_TYPE}, k.{names.TS},
    ROW_NUMBER() OVER (PARTITION BY q.pix, k.{it}
                       ORDER BY k.{names.TS} DESC, k.{names.ITEM_ID} DESC) AS rk
  FROM {points} q JOIN {entries} k ON k.g <= q.g AND q.g < k.end_g
) r
WHERE rk <= {cap}
ORDER BY pix, tflag, rk
"""


def indexed_points_sql(points: str, weak: str) -> str:
    """Points with a dense index pix (in (user, ts) order) and their last_event_ms."""
    u, ts = names.USER_ID, names.TS
    return f"""
SELECT q.{u}, q.{ts}, q.g, w.last_event_ms,
  ROW_NUMBER() OVER (ORDER BY q.{u}, q.{ts}) - 1 AS pix
FROM {points} q JOIN {weak} w ON w.{u} = q.{u} AND w.{ts} = q.{ts}
"""


def recent_items_table(points: pa.Table, ranked: pa.Table) -> pa.Table:
    """user_recent_items rows: points (by pix) with their ranked entries cut into lists.

    SQL engines differ in ordered list aggregation (DuckDB: list(x ORDER BY rk); Spark:
    array_sort over collect_list of structs), and DuckDB's is slow: the rows come
    sorted, and each list is a slice of them (Arrow offsets).
    """
    points = points.sort_by("pix")
    n = points.num_rows
    cols: dict[str, pa.Array] = {
        names.USER_ID: points[names.USER_ID],
        names.TS: points[names.TS],
    }
    pix = ranked["pix"].to_numpy()
    tflag = ranked["tflag"].to_numpy()
    for flag, label in ((0, "audiobook"), (1, "podcast")):
        rows = np.flatnonzero(tflag == flag)
        offsets = pa.array(np.searchsorted(pix[rows], np.arange(n + 1)), pa.int32())
        take = pa.array(rows)
        for col, out in (
            (names.ITEM_ID, f"recent_{label}s"),
            (names.EVENT_TYPE, f"recent_{label}_signals"),
            (names.TS, f"recent_{label}_ms"),
        ):
            values = ranked[col].take(take).combine_chunks()
            cols[out] = pa.ListArray.from_arrays(offsets, values)
    cols["last_event_ms"] = points["last_event_ms"]
    return pa.table(cols)
