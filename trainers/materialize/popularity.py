"""Stage 2 in SQL: item_popularity at every instant the stream rewrites an item's row.

Input `streams`: accepted stream events with `eo` (event order), `p` (the item's
partition on colisten.pairs), `ix` (a dense item number) and `day` (UTC day number).
Windows are whole UTC days ending on the watermark's day, so a row changes at each
stream and when a day leaves a window: on day d + 14 or d + 90 for a stream on day d,
seen at the first stage-2 record of the item's partition from that day on (the stream
rewrites a row then only if it changed; so does this).

Values are running sums per item over rows in (t, pt) order: a stream counts toward an
N-day window from its time until midnight starting day d + N; a user counts from the
stream that starts a run of theirs (no stream of the item in the N days before its day)
until midnight N days after the day of the run's last stream, so the sums count
distinct users. Point rows (pt = 1) carry what their millisecond's streams add;
departures are grouped per (item, day): about 4 rows per item-day instead of 5 per
stream.
"""

from __future__ import annotations

from colisten import names
from colisten.feature_rules import POP_LONG_DAYS, POP_SHORT_DAYS
from colisten.timeunits import DAY_MS
from trainers.materialize.clock import at_or_after_sql

WINDOWS = ((POP_LONG_DAYS, "90d"), (POP_SHORT_DAYS, "14d"))
VALUE_COLUMNS = ("users_90d", "streams_90d", "users_14d", "streams_14d")
VALUE_SUMS = VALUE_COLUMNS


def runs_sql(streams: str) -> str:
    """Streams with the day of the (item, user)'s previous stream and next stream's time."""
    u, ts = names.USER_ID, names.TS
    return f"""
SELECT *,
  LAG(day) OVER (PARTITION BY ix, {u} ORDER BY eo) AS prev_day,
  LEAD({ts}) OVER (PARTITION BY ix, {u} ORDER BY eo) AS next_ts
FROM {streams}
"""


def popularity_deltas_sql(
    runs: str, s2_times: str, cutoff_ms: int, portable: bool = False
) -> str:
    """Rows whose running sums per item (ix) are item_popularity at each point (pt = 1).

    Points: each millisecond with streams of the item (is_stream 1), and each instant a
    day leaves one of its windows (is_stream 0, kept later only if the row changed).
    """
    i, ts = names.ITEM_ID, names.TS
    adds = ",\n    ".join(
        f"CAST(SUM(CASE WHEN prev_day IS NULL OR {ts} >= (prev_day + {days}) * "
        f"{DAY_MS} THEN 1 ELSE 0 END) AS BIGINT) AS users_{label},\n    COUNT(*) AS streams_{label}"
        for days, label in WINDOWS
    )
    leaving = "\nUNION ALL\n".join(
        f"SELECT ix, {i}, (day + {days}) * {DAY_MS} AS t, 0 AS pt, 0 AS is_stream, "
        f"NULL AS item_type, "
        + ", ".join(
            (
                f"-CAST(SUM(CASE WHEN next_ts IS NULL OR next_ts >= (day + {days}) * "
                f"{DAY_MS} THEN 1 ELSE 0 END) AS BIGINT) AS {c}"
                if c == f"users_{label}"
                else f"-COUNT(*) AS {c}"
                if c == f"streams_{label}"
                else f"0 AS {c}"
            )
            for c in VALUE_SUMS
        )
        + f" FROM {runs} GROUP BY ix, {i}, day"
        for days, label in WINDOWS
    )
    probes = " UNION ".join(
        f"SELECT DISTINCT p, (day + {days}) * {DAY_MS} AS x, ix, {i} FROM {runs} "
        f"WHERE (day + {days}) * {DAY_MS} < {cutoff_ms}"
        for days, _ in WINDOWS
    )
    sweeps = at_or_after_sql(probes, s2_times, f"ix, {i}", portable)
    zeros = ", ".join(f"0 AS {c}" for c in VALUE_SUMS)
    sums = ", ".join(f"CAST(SUM({c}) AS BIGINT) AS {c}" for c in VALUE_SUMS)
    return f"""
SELECT ix, {i}, t, 1 AS pt, MAX(is_stream) AS is_stream, MAX(item_type) AS item_type,
  {sums}
FROM (
  SELECT ix, {i}, {ts} AS t, 1 AS is_stream, MAX_BY({names.ITEM_TYPE}, eo) AS item_type,
    {adds}
  FROM {runs} GROUP BY ix, {i}, {ts}
  UNION ALL
  SELECT ix, {i}, s AS t, 0 AS is_stream, NULL AS item_type, {zeros}
  FROM ({sweeps}) w WHERE s IS NOT NULL
) a
GROUP BY ix, {i}, t
UNION ALL
{leaving}
"""


def popularity_sql(valued: str) -> str:
    """Rows at the points (running sums done), dropping day-change points that changed nothing."""
    i = names.ITEM_ID
    changed = " OR ".join(
        f"{c} <> LAG({c}) OVER (PARTITION BY ix ORDER BY t)" for c in VALUE_COLUMNS
    )
    return f"""
SELECT {i}, t AS {names.TS}, item_type, {", ".join(VALUE_COLUMNS)} FROM (
  SELECT *, CASE WHEN is_stream = 1 OR {changed} THEN 1 ELSE 0 END AS keep
  FROM {valued}
) k
WHERE keep = 1
"""
