"""The stage-2 codec: records round-trip; anything else is refused (and dead-lettered)."""

from __future__ import annotations

import json

from stream_processors import stage2_records as codec
from stream_processors.stage2_records import StreamRecord
from stream_processors.user_state import CoListen


def test_records_round_trip_in_order() -> None:
    recs = [
        CoListen("a1", "p1", "ap", "u1", 5),
        StreamRecord("a1", "audiobook", "u1", "e-1", 5),
        CoListen("a1", "a2", "aa", "u2", 7),
    ]
    assert codec.decode(codec.encode(recs)) == recs


def test_wire_format_is_stable() -> None:
    """Messages already in Kafka must stay readable: the short keys are the contract."""
    raw = codec.encode(
        [
            CoListen("a1", "p1", "ap", "u1", 5),
            StreamRecord("a1", "audiobook", "u1", "x", 6),
        ]
    )
    assert json.loads(raw) == [
        {"k": "c", "s": "a1", "d": "p1", "r": "ap", "u": "u1", "ts": 5},
        {"k": "s", "i": "a1", "t": "audiobook", "u": "u1", "e": "x", "ts": 6},
    ]


def test_routing_keys() -> None:
    assert codec.routing_key(CoListen("a1", "p1", "ap", "u1", 5)) == "a1|p1"
    assert codec.routing_key(StreamRecord("a1", "audiobook", "u1", "x", 6)) == "a1"


def test_everything_else_is_refused() -> None:
    for raw in (
        b"not json",
        b'{"k": "c"}',
        b'[{"k": "z", "ts": 1}]',
        b'[{"k": "s", "i": "a1"}]',
        b'[{"k": "c", "s": "a", "d": "b", "r": "aa", "u": "u", "ts": "5"}]',
        b'[{"k": "s", "i": 1, "t": "podcast", "u": "u", "e": "x", "ts": 5}]',
        b"[1, 2]",
        None,
    ):
        assert codec.decode(raw) is None, raw
