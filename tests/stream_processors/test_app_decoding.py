"""Stage 2 decodes its internal records strictly: anything else is dead-lettered."""

from __future__ import annotations

import json

from stream_processors.app import dlq_record, stage2_records


def test_stage2_records_accepts_lists_of_known_records() -> None:
    recs = [
        {"k": "c", "s": "a1", "d": "p1", "r": "ap", "u": "u1", "ts": 5},
        {"k": "s", "i": "a1", "t": "audiobook", "u": "u1", "e": "x", "ts": 5},
    ]
    assert stage2_records(json.dumps(recs).encode()) == recs


def test_stage2_records_rejects_everything_else() -> None:
    for raw in (
        b"not json",
        b'{"k": "c"}',
        b'[{"k": "z", "ts": 1}]',
        b'[{"k": "s", "i": "a1"}]',
        b"[1, 2]",
        None,
    ):
        assert stage2_records(raw) is None


def test_dlq_record_keeps_reasons_source_and_payload() -> None:
    rec = json.loads(dlq_record(b"\xff{", [{"code": "invalid_json"}], "t/0/7"))
    assert rec["reasons"] == [{"code": "invalid_json"}]
    assert rec["source"] == "t/0/7" and rec["payload"] == "\ufffd{"
