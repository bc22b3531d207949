"""The DLQ record keeps everything needed to find and replay a rejected message."""

from __future__ import annotations

import json

from stream_processors.app import dlq_record


def test_dlq_record_keeps_reasons_source_and_payload() -> None:
    rec = json.loads(dlq_record(b"\xff{", [{"code": "invalid_json"}], "t/0/7"))
    assert rec["reasons"] == [{"code": "invalid_json"}]
    assert rec["source"] == "t/0/7" and rec["payload"] == "\ufffd{"
