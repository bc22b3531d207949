"""The events a materialization folds: before the cut-off, valid, each event id once.

As the stream does: an event the contract rejects (colisten.events.validate_event) is
dead-lettered and counts toward nothing; a repeated event id counts once. The checks here
are the contract's, written as SQL over the parquet columns (tests hold them equal to
validate_event); the contract's "ts in the future" check depends on the wall clock when an
event arrives and is left out (every event here is before the cut-off).
"""

from __future__ import annotations

from colisten import names
from colisten.events import ID_MAX_LEN, MIN_TS_MS
from colisten.feature_rules import COUNTERS

UUID_PATTERN = (
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
ID_PATTERN = "^[A-Za-z0-9_.:\\-]+$"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _id_bad(col: str) -> str:
    return (
        f"{col} IS NULL OR length({col}) > {ID_MAX_LEN} "
        f"OR NOT regexp_matches({col}, '{ID_PATTERN}')"
    )


def checked_sql(raw: str, cutoff_ms: int) -> str:
    """Events of `raw` with ts < cutoff, event_id lower-cased, and `rejected`: a reason or NULL.

    The reasons are validate_event's codes, first failing check only.
    """
    rules = [
        (
            f"{names.EVENT_ID} IS NULL "
            f"OR NOT regexp_matches({names.EVENT_ID}, '{UUID_PATTERN}')",
            "invalid_uuid",
        ),
        (_id_bad(names.USER_ID), "invalid_value"),
        (_id_bad(names.ITEM_ID), "invalid_value"),
        (
            f"{names.ITEM_TYPE} IS NULL OR {names.ITEM_TYPE} NOT IN {_in(names.ITEM_TYPES)}",
            "unknown_item_type",
        ),
        (
            f"{names.EVENT_TYPE} IS NULL "
            f"OR {names.EVENT_TYPE} NOT IN {_in(names.EVENT_TYPES)}",
            "unknown_event_type",
        ),
        (f"{names.TS} < {MIN_TS_MS}", "ts_too_old"),
        (
            f"{names.EVENT_TYPE} = '{names.STREAM}' AND {names.DURATION_MS} IS NULL",
            "missing_field",
        ),
        (f"{names.DURATION_MS} < 0", "invalid_value"),
        ("length(country) > 8 OR length(platform) > 32", "invalid_value"),
    ]
    cases = "\n".join(f"    WHEN {cond} THEN '{code}'" for cond, code in rules)
    return f"""
SELECT lower({names.EVENT_ID}) AS {names.EVENT_ID}, {names.USER_ID}, {names.ITEM_ID},
  {names.ITEM_TYPE}, {names.EVENT_TYPE}, {names.TS},
  CASE
{cases}
  END AS rejected
FROM {raw}
WHERE {names.TS} < {cutoff_ms}
"""


def counter_sql() -> str:
    """The user_weak_signals column an event counts toward (NULL: none), as a CASE."""
    whens = "\n".join(
        f"    WHEN {names.ITEM_TYPE} = '{it}' AND {names.EVENT_TYPE} = '{et}' "
        f"THEN '{col}'"
        for (it, et), col in COUNTERS.items()
    )
    return f"CASE\n{whens}\n  END"


def valid_sql(checked: str, dedupe: bool = True) -> str:
    """Accepted events, one per event id (the first in (ts, ...) order), with `counter`.

    `eo` numbers them in (ts, event_id) order, the order the stream folds a user's
    events in. Without `dedupe` the ids must already be distinct.
    """
    order = ", ".join(
        [names.TS, names.USER_ID, names.ITEM_ID, names.ITEM_TYPE, names.EVENT_TYPE]
    )
    accepted = f"SELECT * FROM {checked} WHERE rejected IS NULL"
    if dedupe:
        accepted = f"""
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY {names.EVENT_ID} ORDER BY {order}) AS nth
  FROM {checked} WHERE rejected IS NULL
) c
WHERE nth = 1"""
    return f"""
SELECT {names.EVENT_ID}, {names.USER_ID}, {names.ITEM_ID}, {names.ITEM_TYPE},
  {names.EVENT_TYPE}, {names.TS}, {counter_sql()} AS counter,
  ROW_NUMBER() OVER (ORDER BY {names.TS}, {names.EVENT_ID}) AS eo
FROM ({accepted}) a
"""
