"""The stage-2 record codec: what stage 1 sends stage 2 on `colisten.pairs`, one format.

A `colisten.pairs` message is a JSON list of records, all routed to the message's
partition: co-listens (`k: "c"`, keyed by their pair) and streams (`k: "s"`, keyed by
their item). Short field names keep messages small; this module is the only place that
knows them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stream_processors.user_state import CoListen


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """A stream for stage 2's popularity: one user streamed one item at ts."""

    item_id: str
    item_type: str
    user_id: str
    event_id: str
    ts: int


Stage2Record = CoListen | StreamRecord
"""Either record kind; stage 2 keys a CoListen by its pair, a StreamRecord by its item."""

BAD_INTERNAL_RECORD = {
    "code": "bad_internal_record",
    "field": None,
    "message": "not a list of stage-2 records",
}
"""The dead-letter reason for a `colisten.pairs` message this codec cannot decode."""

_FIELDS = {"c": ("s", "d", "r", "u", "ts"), "s": ("i", "t", "u", "e", "ts")}


def routing_key(record: Stage2Record) -> str:
    """The key whose partition the record must reach (a pair, or an item)."""
    return record.pair_id if isinstance(record, CoListen) else record.item_id


def to_wire(record: Stage2Record) -> dict[str, Any]:
    """The record's JSON object."""
    if isinstance(record, CoListen):
        return {
            "k": "c",
            "s": record.src_item,
            "d": record.dst_item,
            "r": record.relation,
            "u": record.user_id,
            "ts": record.ts,
        }
    return {
        "k": "s",
        "i": record.item_id,
        "t": record.item_type,
        "u": record.user_id,
        "e": record.event_id,
        "ts": record.ts,
    }


def encode(records: Sequence[Stage2Record]) -> bytes:
    """One `colisten.pairs` message value holding the records, in order."""
    return json.dumps([to_wire(r) for r in records]).encode()


def _from_wire(obj: Any) -> Stage2Record | None:
    if not isinstance(obj, dict):
        return None
    fields = _FIELDS.get(obj.get("k"))  # type: ignore[arg-type]
    if fields is None or not set(fields) <= obj.keys():
        return None
    a, b, c, d, ts = (obj[f] for f in fields)
    if not all(isinstance(v, str) for v in (a, b, c, d)) or type(ts) is not int:
        return None
    if obj["k"] == "c":
        return CoListen(a, b, c, d, ts)
    return StreamRecord(a, b, c, d, ts)


def decode(raw: bytes | None) -> list[Stage2Record] | None:
    """The records of a message value, or None if it is not a list of valid records."""
    try:
        objs = json.loads(raw or b"")
    except ValueError:
        return None
    if not isinstance(objs, list):
        return None
    records = [_from_wire(o) for o in objs]
    if any(r is None for r in records):
        return None
    return records  # type: ignore[return-value]
