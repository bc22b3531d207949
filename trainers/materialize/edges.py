"""Stage 2 in SQL: colisten_edges at every instant the stream rewrites an edge.

Input `rec`: distinct co-listen records (users.colisten_sql) with pair_id and `p`, the
pair's partition on colisten.pairs. An edge changes when a record arrives and when its
partition's watermark sweeps a co-listen out of the window (at the first stage-2 record
of that partition at or after the co-listen's time + window). Its value at time v counts
each user with a co-listen in (v - window, v]: a user adds +1 at a co-listen and -1 when
it leaves the window or at their next co-listen of the pair, whichever is first, so a
running sum counts distinct users.
"""

from __future__ import annotations

from colisten import names
from trainers.materialize.clock import at_or_after_sql


def edge_points_sql(
    rec: str, s2_times: str, window_ms: int, cutoff_ms: int, portable: bool = False
) -> str:
    """(pair_id, ts): record instants and sweep instants of each edge, before the cut-off."""
    pid, ts = names.PAIR_ID, names.TS
    probes = (
        f"SELECT p, {ts} + {window_ms} AS x, {pid} FROM {rec} "
        f"WHERE {ts} + {window_ms} < {cutoff_ms}"
    )
    sweeps = at_or_after_sql(probes, s2_times, pid, portable)
    return f"""
SELECT DISTINCT {pid}, {ts} FROM {rec}
UNION
SELECT {pid}, s AS {ts} FROM ({sweeps}) w WHERE s IS NOT NULL
"""


def edges_sql(rec: str, points: str, window_ms: int) -> str:
    """colisten_edges values at each point (n_users 0 and times 0 once all expired)."""
    pid, u, ts = names.PAIR_ID, names.USER_ID, names.TS
    return f"""
WITH deltas AS (
  SELECT {pid}, {ts} AS t, 1 AS d, {ts} AS rt, src_item, dst_item, relation, 0 AS pt
  FROM {rec}
  UNION ALL
  SELECT {pid}, LEAST({ts} + {window_ms}, COALESCE(nt, {ts} + {window_ms})) AS t,
    -1 AS d, NULL AS rt, NULL AS src_item, NULL AS dst_item, NULL AS relation, 0 AS pt
  FROM (SELECT *, LEAD({ts}) OVER (PARTITION BY {pid}, {u} ORDER BY {ts}) AS nt
        FROM {rec}) r
  UNION ALL
  SELECT {pid}, {ts} AS t, 0 AS d, NULL AS rt, NULL AS src_item, NULL AS dst_item,
    NULL AS relation, 1 AS pt
  FROM {points}
),
valued AS (
  SELECT {pid}, t, pt,
    SUM(d) OVER (PARTITION BY {pid} ORDER BY t
                 RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n_users,
    MIN(rt) OVER w AS first_colisten_ms,
    MAX(rt) OVER w AS last_colisten_ms,
    LAST_VALUE(src_item IGNORE NULLS) OVER o AS src_item,
    LAST_VALUE(dst_item IGNORE NULLS) OVER o AS dst_item,
    LAST_VALUE(relation IGNORE NULLS) OVER o AS relation
  FROM deltas
  WINDOW w AS (PARTITION BY {pid} ORDER BY t
               RANGE BETWEEN {window_ms - 1} PRECEDING AND CURRENT ROW),
         o AS (PARTITION BY {pid} ORDER BY t, pt
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT {pid}, t AS {ts}, src_item, dst_item, relation, n_users,
  COALESCE(first_colisten_ms, 0) AS first_colisten_ms,
  COALESCE(last_colisten_ms, 0) AS last_colisten_ms
FROM valued WHERE pt = 1
"""
