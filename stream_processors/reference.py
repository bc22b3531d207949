"""Reference feature values computed directly from an event log with pandas (for checks).

Independent of the stream code: each function reads the whole log and computes a view's
values as of a given event time, by the definitions in feature_repo/.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from colisten import names
from colisten.timeunits import DAY_MS
from stream_processors.user_state import COUNTERS, WINDOW_MS, canonical_pair

AsOf = int | Mapping[str, int] | None
"""One event time for every key, a time per key, or None (each key's own newest time)."""


def _valid_sorted(events: pd.DataFrame) -> pd.DataFrame:
    ev = events.drop_duplicates(names.EVENT_ID, keep="first")
    return ev.sort_values([names.TS, names.EVENT_ID], kind="stable").reset_index(
        drop=True
    )


def _as_of_series(keys: pd.Series, as_of: AsOf, own: pd.Series) -> pd.Series:
    if as_of is None:
        return own
    if isinstance(as_of, int):
        return pd.Series(as_of, index=own.index)
    return pd.Series({k: as_of[k] for k in own.index}, dtype="int64")


def user_weak_signals_reference(
    events: pd.DataFrame, as_of: AsOf = None, window_ms: int = WINDOW_MS
) -> pd.DataFrame:
    """user_weak_signals per user: counts of events in (as_of - window, as_of]."""
    ev = _valid_sorted(events)
    last = ev.groupby(names.USER_ID)[names.TS].max().rename("last_event_ms")
    now = _as_of_series(ev[names.USER_ID], as_of, last).rename("as_of")
    ev = ev.join(now, on=names.USER_ID)
    ev = ev[(ev[names.TS] > ev["as_of"] - window_ms) & (ev[names.TS] <= ev["as_of"])]
    keys = list(zip(ev[names.ITEM_TYPE], ev[names.EVENT_TYPE], strict=True))
    ev = ev.assign(counter=[COUNTERS.get(k) for k in keys]).dropna(subset=["counter"])
    table = ev.pivot_table(
        index=names.USER_ID,
        columns="counter",
        values=names.EVENT_ID,
        aggfunc="count",
        fill_value=0,
    )
    table = table.reindex(columns=list(COUNTERS.values()), fill_value=0)
    out = table.reindex(last.index, fill_value=0).astype("int64")
    out["last_event_ms"] = last.astype("int64")
    return out


def user_recent_items_reference(
    events: pd.DataFrame, as_of: AsOf = None, window_ms: int = WINDOW_MS, cap: int = 50
) -> dict[str, dict[str, list[object]]]:
    """user_recent_items per user: newest distinct items in the window, newest first."""
    ev = _valid_sorted(events)
    last = ev.groupby(names.USER_ID)[names.TS].max()
    now = _as_of_series(ev[names.USER_ID], as_of, last)
    out: dict[str, dict[str, list[object]]] = {}
    for user, grp in ev.groupby(names.USER_ID, sort=False):
        t = int(now[user])
        live = grp[(grp[names.TS] > t - window_ms) & (grp[names.TS] <= t)]
        newest = live.drop_duplicates(names.ITEM_ID, keep="last")
        newest = newest.sort_values(
            [names.TS, names.ITEM_ID], ascending=False, kind="stable"
        )
        row: dict[str, list[object]] = {}
        for itype, label in (
            (names.AUDIOBOOK, "audiobook"),
            (names.PODCAST, "podcast"),
        ):
            sel = newest[newest[names.ITEM_TYPE] == itype].head(cap)
            row[f"recent_{label}s"] = list(sel[names.ITEM_ID])
            row[f"recent_{label}_signals"] = list(sel[names.EVENT_TYPE])
            row[f"recent_{label}_ms"] = [int(x) for x in sel[names.TS]]
        out[str(user)] = row
    return out


def colisten_records_reference(
    events: pd.DataFrame, window_ms: int = WINDOW_MS, cap: int = 50
) -> pd.DataFrame:
    """Every co-listen (src_item, dst_item, relation, user_id, ts) the event log implies.

    A user co-listens a pair at time t when, at t, they touch one item for the first time
    in the window (no touch of it in the previous window_ms) while the other item is among
    their `cap` most recently touched distinct items of its type inside the window.
    """
    ev = _valid_sorted(events)
    out: list[tuple[str, str, str, str, int]] = []
    for user, grp in ev.groupby(names.USER_ID, sort=False):
        last: dict[str, tuple[int, str]] = {}  # item -> (newest touch, item_type)
        for item, itype, ts in zip(
            grp[names.ITEM_ID], grp[names.ITEM_TYPE], grp[names.TS], strict=True
        ):
            prev = last.get(item)
            if prev is None or prev[0] <= ts - window_ms:
                for ptype in names.ITEM_TYPES:
                    partners = sorted(
                        (
                            (v[0], i)
                            for i, v in last.items()
                            if v[1] == ptype and i != item and v[0] > ts - window_ms
                        ),
                        reverse=True,
                    )[:cap]
                    for _, other in partners:
                        out.append(
                            (
                                *canonical_pair(item, itype, other, ptype),
                                str(user),
                                int(ts),
                            )
                        )
            if prev is None or ts >= prev[0]:
                last[item] = (int(ts), itype)
    return pd.DataFrame(
        out, columns=["src_item", "dst_item", "relation", names.USER_ID, names.TS]
    )


def colisten_edges_reference(
    records: pd.DataFrame, as_of: AsOf, window_ms: int = WINDOW_MS
) -> pd.DataFrame:
    """colisten_edges from co-listen records: distinct users in (as_of - window, as_of]."""
    rec = records.assign(
        **{names.PAIR_ID: records["src_item"] + "|" + records["dst_item"]}
    )
    if isinstance(as_of, int) or as_of is None:
        t = rec[names.TS].max() if as_of is None else as_of
        now = pd.Series(t, index=rec.index)
    else:
        now = rec[names.PAIR_ID].map(as_of)
    rec = rec[(rec[names.TS] > now - window_ms) & (rec[names.TS] <= now)]
    edges = rec.groupby(names.PAIR_ID, sort=True).agg(
        src_item=("src_item", "first"),
        dst_item=("dst_item", "first"),
        relation=("relation", "first"),
        n_users=(names.USER_ID, "nunique"),
        first_colisten_ms=(names.TS, "min"),
        last_colisten_ms=(names.TS, "max"),
    )
    return edges


def item_popularity_reference(events: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """item_popularity per streamed item: whole UTC days, 90 and 14 ending at as_of's day."""
    ev = _valid_sorted(events)
    ev = ev[ev[names.EVENT_TYPE] == names.STREAM]
    items = ev[names.ITEM_ID]
    if isinstance(as_of, int):
        today = pd.Series(as_of // DAY_MS, index=ev.index)
    elif as_of is None:
        today = items.map(ev.groupby(names.ITEM_ID)[names.TS].max()) // DAY_MS
    else:
        today = items.map(as_of) // DAY_MS
    day = ev[names.TS] // DAY_MS
    rows = {}
    for days, label in ((90, "90d"), (14, "14d")):
        inside = ev[(day > today - days) & (day <= today)]
        grp = inside.groupby(names.ITEM_ID)
        rows[f"users_{label}"] = grp[names.USER_ID].nunique()
        rows[f"streams_{label}"] = grp.size()
    out = pd.DataFrame(rows).reindex(sorted(set(items))).fillna(0).astype("int64")
    out.insert(0, "item_type", ev.groupby(names.ITEM_ID)[names.ITEM_TYPE].first())
    return out[["item_type", "users_90d", "streams_90d", "users_14d", "streams_14d"]]


def partition_watermarks(
    keys: pd.Series, ts: pd.Series, partitions: int
) -> dict[int, int]:
    """Max event time per Kafka partition of the keys (murmur2, as producers route them)."""
    from stream_processors.clock import partition_of

    parts = keys.map(lambda k: partition_of(str(k), partitions))
    return {int(p): int(t) for p, t in ts.groupby(parts).max().items()}


def expected_views(
    events: pd.DataFrame, partitions: int, window_ms: int = WINDOW_MS, cap: int = 50
) -> dict[str, object]:
    """What the stream worker's four views must hold after consuming `events` completely.

    Each key is evaluated as of its partition's watermark (the newest event time in the
    Kafka partition its records are routed to): users on `interactions`, pairs and items
    on `colisten.pairs`, which carries both co-listen and stream records.
    """
    from stream_processors.clock import partition_of

    ev = _valid_sorted(events)
    wm1 = partition_watermarks(ev[names.USER_ID], ev[names.TS], partitions)
    user_as_of = {
        u: wm1[partition_of(u, partitions)] for u in ev[names.USER_ID].unique()
    }
    records = colisten_records_reference(ev, window_ms, cap)
    streams = ev[ev[names.EVENT_TYPE] == names.STREAM]
    keys = pd.concat(
        [records["src_item"] + "|" + records["dst_item"], streams[names.ITEM_ID]],
        ignore_index=True,
    )
    times = pd.concat([records[names.TS], streams[names.TS]], ignore_index=True)
    wm2 = partition_watermarks(keys, times, partitions)
    pair_ids = set(records["src_item"] + "|" + records["dst_item"])
    return {
        names.USER_WEAK_SIGNALS_VIEW: user_weak_signals_reference(
            ev, user_as_of, window_ms
        ),
        names.USER_RECENT_ITEMS_VIEW: user_recent_items_reference(
            ev, user_as_of, window_ms, cap
        ),
        names.COLISTEN_EDGES_VIEW: colisten_edges_reference(
            records, {p: wm2[partition_of(p, partitions)] for p in pair_ids}, window_ms
        ),
        names.ITEM_POPULARITY_VIEW: item_popularity_reference(
            ev,
            {i: wm2[partition_of(i, partitions)] for i in set(streams[names.ITEM_ID])},
        ),
    }
