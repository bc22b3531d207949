"""When a partition's watermark first reaches a time: the stream's sweep instants, in SQL.

The stream applies an expiry at time x when its partition's watermark (the newest event
time applied there) first reaches x: at the first event of that partition with ts >= x.
`at_or_after_sql` finds that event time for many (partition, x) probes with one window
over probes and partition times together (Spark SQL accepts it; DuckDB's ASOF JOIN
would do the same).
"""

from __future__ import annotations


def at_or_after_sql(probes: str, times: str, keys: str) -> str:
    """SELECT keys, x, s: s = the first time in `times` of the probe's partition >= x.

    `probes` is a query with columns p, x and `keys`; `times` a query or table with
    columns p, t. s is NULL when the partition has no time at or after x (the watermark
    never got there before the cut-off).
    """
    if " " not in times.strip():
        times = f"SELECT p, t FROM {times}"
    return f"""
SELECT {keys}, x, s FROM (
  SELECT {keys}, x, kind,
    MIN(CASE WHEN kind = 1 THEN x END) OVER (
      PARTITION BY p ORDER BY x, kind
      ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS s
  FROM (
    SELECT p, x, 0 AS kind, {keys} FROM ({probes}) q
    UNION ALL
    SELECT p, t AS x, 1 AS kind, {_nulls(keys)} FROM (SELECT DISTINCT p, t FROM ({times}) u) d
  ) m
) a
WHERE kind = 0
"""


def _nulls(keys: str) -> str:
    return ", ".join(f"NULL AS {k.strip()}" for k in keys.split(","))
