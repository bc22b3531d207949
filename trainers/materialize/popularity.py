"""Stage 2 in SQL: item_popularity at every instant the stream rewrites an item's row.

Input `streams`: accepted stream events with `p`, the item's partition on colisten.pairs,
and `day` (UTC day number). Windows are whole UTC days ending on the watermark's day, so
a row changes at each stream and when a day leaves a window: on day d + 14 or d + 90 for
a stream on day d, seen at the first stage-2 record of the item's partition from that
day on (the stream rewrites a row then only if it changed; so does this). A stream counts
toward an N-day window until midnight of day d + N; a user counts from each stream until
then or their next stream of the item, whichever is first, so running sums give
distinct users.
"""

from __future__ import annotations

from colisten import names
from stream_processors.pair_state import POP_LONG_DAYS, POP_SHORT_DAYS
from stream_processors.user_state import DAY_MS
from trainers.materialize.clock import at_or_after_sql

WINDOWS = ((POP_LONG_DAYS, "90d"), (POP_SHORT_DAYS, "14d"))
VALUE_COLUMNS = ("users_90d", "streams_90d", "users_14d", "streams_14d")


def popularity_points_sql(streams: str, s2_times: str, cutoff_ms: int) -> str:
    """(item_id, ts, is_stream): stream instants, and the day-change instants to check."""
    i, ts = names.ITEM_ID, names.TS
    probes = " UNION ".join(
        f"SELECT p, (day + {days}) * {DAY_MS} AS x, {i} FROM {streams} "
        f"WHERE (day + {days}) * {DAY_MS} < {cutoff_ms}"
        for days, _ in WINDOWS
    )
    sweeps = at_or_after_sql(probes, s2_times, i)
    return f"""
SELECT {i}, {ts}, MAX(is_stream) AS is_stream FROM (
  SELECT {i}, {ts}, 1 AS is_stream FROM {streams}
  UNION ALL
  SELECT {i}, s AS {ts}, 0 AS is_stream FROM ({sweeps}) w WHERE s IS NOT NULL
) a
GROUP BY {i}, {ts}
"""


VALUE_SUMS = tuple(
    f"{kind}_{label}" for _, label in WINDOWS for kind in ("users", "streams")
)


def popularity_deltas_sql(streams: str, points: str) -> str:
    """Rows whose running sums per item are item_popularity at each point (pt = 1)."""
    i, u, ts = names.ITEM_ID, names.USER_ID, names.TS
    with_next = (
        f"(SELECT *, LEAD({ts}) OVER (PARTITION BY {i}, {u} ORDER BY {ts}) AS nt "
        f"FROM {streams}) n"
    )
    rows = [_delta(streams, ts, dict.fromkeys(VALUE_SUMS, 1), names.ITEM_TYPE)]
    for days, label in WINDOWS:
        end = f"(day + {days}) * {DAY_MS}"
        rows.append(_delta(streams, end, {f"streams_{label}": -1}))
        rows.append(
            _delta(
                with_next, f"LEAST({end}, COALESCE(nt, {end}))", {f"users_{label}": -1}
            )
        )
    zeros = ", ".join(f"0 AS {c}" for c in VALUE_SUMS)
    rows.append(
        f"SELECT {i}, {ts} AS t, 1 AS pt, is_stream, NULL AS item_type, {zeros} "
        f"FROM {points}"
    )
    return "\nUNION ALL\n".join(rows)


def popularity_sql(valued: str) -> str:
    """Rows at the points (running sums done), dropping day-change points that changed nothing."""
    i = names.ITEM_ID
    changed = " OR ".join(
        f"{c} <> LAG({c}) OVER (PARTITION BY {i} ORDER BY t)" for c in VALUE_COLUMNS
    )
    return f"""
SELECT {i}, t AS {names.TS}, item_type, {", ".join(VALUE_COLUMNS)} FROM (
  SELECT *, CASE WHEN is_stream = 1 OR {changed} THEN 1 ELSE 0 END AS keep
  FROM {valued}
) k
WHERE keep = 1
"""


def _delta(
    source: str, at: str, values: dict[str, int], item_type: str = "NULL"
) -> str:
    """One row per stream of `source`: +/-1 in some value columns at time `at`."""
    vals = ", ".join(f"{values.get(c, 0)} AS {c}" for c in VALUE_SUMS)
    return (
        f"SELECT {names.ITEM_ID}, {at} AS t, 0 AS pt, 0 AS is_stream, "
        f"{item_type} AS item_type, {vals} FROM {source}"
    )
