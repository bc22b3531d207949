"""When a partition's watermark first reaches a time: the stream's sweep instants, in SQL.

The stream applies an expiry at time x when its partition's watermark (the newest event
time applied there) first reaches x: at the first event of that partition with ts >= x.
For many (partition, x) probes that is an as-of join of the probes on the partition's
event times. DuckDB has one (ASOF JOIN, a sort-merge: 0.65 s for 1.1M probes here where
the portable form takes 3.5 s); Spark SQL does not, and takes the portable form: one
window over probes and times together. Tests hold the two equal.
"""

from __future__ import annotations


def _times_sql(times: str) -> str:
    return f"SELECT p, t FROM {times}" if " " not in times.strip() else times


def at_or_after_sql(probes: str, times: str, keys: str, portable: bool = False) -> str:
    """SELECT keys, x, s: s = the first time in `times` of the probe's partition >= x.

    `probes` is a query with columns p, x and `keys` (comma-separated); `times` a query
    or table with columns p, t. s is NULL when the partition has no time at or after x
    (the watermark never got there before the cut-off).
    """
    times = _times_sql(times)
    if not portable:
        cols = ", ".join(f"q.{k.strip()}" for k in keys.split(","))
        return f"""
SELECT {cols}, q.x, d.t AS s
FROM ({probes}) q
ASOF LEFT JOIN (SELECT DISTINCT p, t FROM ({times}) u) d ON q.p = d.p AND d.t >= q.x
"""
    nulls = ", ".join(f"NULL AS {k.strip()}" for k in keys.split(","))
    return f"""
SELECT {keys}, x, s FROM (
  SELECT {keys}, x, kind,
    MIN(CASE WHEN kind = 1 THEN x END) OVER (
      PARTITION BY p ORDER BY x, kind
      ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS s
  FROM (
    SELECT p, x, 0 AS kind, {keys} FROM ({probes}) q
    UNION ALL
    SELECT p, t AS x, 1 AS kind, {nulls} FROM (SELECT DISTINCT p, t FROM ({times}) u) d
  ) m
) a
WHERE kind = 0
"""
