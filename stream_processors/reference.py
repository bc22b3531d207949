"""Reference feature values computed directly from an event log with pandas (for checks)."""

from __future__ import annotations

import pandas as pd

from colisten import names
from stream_processors.user_signals import COUNTERS, WINDOW_MS


def user_weak_signals_reference(
    events: pd.DataFrame, window_ms: int = WINDOW_MS
) -> pd.DataFrame:
    """user_weak_signals per user as of that user's newest event, from the raw event log.

    Deduplicates by event_id (first occurrence wins), then counts each (item_type,
    event_type) in the window (last - window, last] of the user's newest event time.
    """
    ev = events.drop_duplicates(names.EVENT_ID, keep="first")
    last = ev.groupby(names.USER_ID)[names.TS].max().rename("last_event_ms")
    ev = ev.join(last, on=names.USER_ID)
    ev = ev[ev[names.TS] > ev["last_event_ms"] - window_ms]
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
