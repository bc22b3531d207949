"""Tests of the interaction event contract: one per rejection reason, round trips."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from colisten import names
from colisten.events import (
    MAX_PAYLOAD_BYTES,
    MIN_TS_MS,
    SCHEMA_VERSION,
    InteractionEvent,
    Validated,
    event_json_schema,
    validate_event,
)
from colisten.timeunits import DAY_MS
from colisten.world.schema_file import (
    SCHEMA_PATH,
    render_event_schema,
    write_event_schema,
)

NOW_MS = 1_700_000_000_000
_DROP = object()


def _event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "0a32e32d-0a0b-5b0f-a16f-03659ea73c13",
        "user_id": "u-1",
        "item_id": "ml-1",
        "item_type": names.AUDIOBOOK,
        "event_type": names.STREAM,
        "ts": NOW_MS - DAY_MS,
        "duration_ms": 60_000,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not _DROP}


def _check(raw: Any, **kwargs: Any) -> Validated:
    kwargs.setdefault("now_ms", NOW_MS)
    return validate_event(raw, **kwargs)


def _codes(result: Validated) -> list[tuple[str, str | None]]:
    assert not result.ok and result.event is None
    return [(r.code, r.field) for r in result.reasons]


def test_valid_event_round_trips() -> None:
    result = _check(_event())
    assert result.ok and result.reasons == []
    assert result.event is not None
    wire = result.event.to_json()
    again = _check(wire)
    assert again.ok and again.event == result.event
    assert json.loads(wire) == {**_event(), "schema_version": SCHEMA_VERSION}


def test_valid_event_from_str_and_bytearray() -> None:
    wire = json.dumps(_event())
    assert _check(wire).ok
    assert _check(bytearray(wire.encode())).ok


def test_missing_field() -> None:
    assert _codes(_check(_event(user_id=_DROP))) == [("missing_field", "user_id")]


@pytest.mark.parametrize(
    ("fld", "value"),
    [("ts", "1700000000000"), ("ts", 1.7e12), ("user_id", 5), ("duration_ms", "1")],
)
def test_wrong_type(fld: str, value: Any) -> None:
    assert _codes(_check(_event(**{fld: value}))) == [("wrong_type", fld)]


@pytest.mark.parametrize("fld", ["ts", "duration_ms", "schema_version"])
def test_bools_are_not_ints(fld: str) -> None:
    assert ("wrong_type", fld) in _codes(_check(_event(**{fld: True})))


def test_unknown_event_type() -> None:
    codes = _codes(_check(_event(event_type="like")))
    assert codes == [("unknown_event_type", "event_type")]


def test_unknown_item_type() -> None:
    codes = _codes(_check(_event(item_type="movie")))
    assert codes == [("unknown_item_type", "item_type")]


def test_ts_before_2000() -> None:
    assert _codes(_check(_event(ts=MIN_TS_MS - 1))) == [("ts_too_old", "ts")]
    assert _check(_event(ts=MIN_TS_MS)).ok


def test_ts_far_in_future() -> None:
    assert _codes(_check(_event(ts=NOW_MS + 2 * DAY_MS))) == [("ts_in_future", "ts")]
    assert _check(_event(ts=NOW_MS + DAY_MS)).ok  # within the allowed skew


def test_oversized_payload() -> None:
    big = _event(platform="x" * 32, user_id="u" * 128)
    wire = json.dumps(big) + " " * MAX_PAYLOAD_BYTES
    assert _codes(_check(wire)) == [("payload_too_large", None)]
    assert _codes(_check(json.dumps(big), max_payload_bytes=100)) == [
        ("payload_too_large", None)
    ]


def test_oversized_mapping_reports_all_reasons() -> None:
    codes = _codes(_check(_event(user_id="u" * 5000)))
    assert codes == [("payload_too_large", None), ("invalid_value", "user_id")]


@pytest.mark.parametrize(
    "raw", [b"{not json", b"\xff\xfe", '{"ts": NaN}', "[" * 3000, ""]
)
def test_invalid_json(raw: str | bytes) -> None:
    assert _codes(_check(raw)) == [("invalid_json", None)]


@pytest.mark.parametrize("raw", ["[1, 2]", '"event"', "42", "null"])
def test_not_an_object(raw: str) -> None:
    assert _codes(_check(raw)) == [("not_an_object", None)]


@pytest.mark.parametrize(
    "event_id",
    [
        "not-a-uuid",
        "0a32e32d0a0b5b0fa16f03659ea73c13",
        "urn:uuid:0a32e32d-0a0b-5b0f-a16f-03659ea73c13",
        "{0a32e32d-0a0b-5b0f-a16f-03659ea73c13}",
        "0a32e32d-0a0b-5b0f-a16f-03659ea73c13\n",
    ],
)
def test_invalid_uuid(event_id: str) -> None:
    assert _codes(_check(_event(event_id=event_id))) == [("invalid_uuid", "event_id")]


def test_uuid_is_lower_cased() -> None:
    upper = str(uuid.uuid4()).upper()
    result = _check(_event(event_id=upper))
    assert result.ok and result.event is not None
    assert result.event.event_id == upper.lower()


@pytest.mark.parametrize("duration", [_DROP, None])
def test_stream_without_duration(duration: Any) -> None:
    codes = _codes(_check(_event(duration_ms=duration)))
    assert codes == [("missing_field", "duration_ms")]
    assert _check(_event(event_type=names.FOLLOW, duration_ms=duration)).ok


def test_unknown_item_with_catalogue() -> None:
    assert _check(_event(), catalogue={"ml-1"}).ok
    codes = _codes(_check(_event(), catalogue={"ml-2"}))
    assert codes == [("unknown_item", "item_id")]


def test_unknown_extra_field() -> None:
    assert _codes(_check(_event(rating=4.5))) == [("unknown_field", "rating")]


def test_unsupported_schema_version() -> None:
    codes = _codes(_check(_event(schema_version=2)))
    assert codes == [("unsupported_schema_version", "schema_version")]


def test_invalid_value() -> None:
    assert _codes(_check(_event(duration_ms=-1))) == [("invalid_value", "duration_ms")]
    assert _codes(_check(_event(user_id="a b"))) == [("invalid_value", "user_id")]


def test_all_reasons_returned_at_once() -> None:
    raw = _event(user_id=_DROP, event_type="like", ts=NOW_MS + 30 * DAY_MS)
    codes = _codes(_check(raw))
    assert sorted(codes) == sorted(
        [
            ("missing_field", "user_id"),
            ("unknown_event_type", "event_type"),
            ("ts_in_future", "ts"),
        ]
    )


def test_many_reasons_from_wire() -> None:
    raw = _event(event_id="x", item_type="movie", duration_ms=_DROP, extra=1)
    codes = _codes(_check(json.dumps(raw), catalogue={"ml-2"}))
    assert sorted(codes) == sorted(
        [
            ("invalid_uuid", "event_id"),
            ("unknown_item_type", "item_type"),
            ("missing_field", "duration_ms"),
            ("unknown_field", "extra"),
            ("unknown_item", "item_id"),
        ]
    )


def test_reason_as_dict() -> None:
    reason = _check(_event(user_id=_DROP)).reasons[0]
    assert reason.as_dict()["code"] == "missing_field"


def test_model_is_frozen_and_strict() -> None:
    event = InteractionEvent.model_validate(_event())
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        event.ts = 0  # type: ignore[misc]


def test_committed_schema_matches_generated() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_event_schema()


def test_write_event_schema(tmp_path: Path) -> None:
    path = write_event_schema(tmp_path / "s.json")
    assert json.loads(path.read_text()) == event_json_schema()
    assert path.read_text().endswith("}\n")
    schema = event_json_schema()
    assert set(schema["required"]) == {
        "event_id",
        "user_id",
        "item_id",
        "item_type",
        "event_type",
        "ts",
    }
    assert schema["additionalProperties"] is False
