"""The interaction event contract (v1): pydantic model, JSON Schema, full validation."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from colisten import names
from colisten.timeunits import DAY_MS

SCHEMA_VERSION = 1
"""Version of this contract; bump when a field changes meaning."""
MAX_PAYLOAD_BYTES = 4096
"""Events larger than this (serialised) are rejected as oversized."""
MAX_FUTURE_SKEW_MS = DAY_MS
"""An event stamped more than this after `now` is rejected as from the future."""
MIN_TS_MS = 946_684_800_000
"""2000-01-01T00:00:00Z: anything earlier is rejected."""
ID_MAX_LEN = 128
_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
"""The one accepted event_id spelling: hyphenated, any case, lower-cased on return."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


ItemType = Literal["audiobook", "podcast"]
EventType = Literal["stream", "follow", "preview", "intent_to_pay"]


class InteractionEvent(BaseModel):
    """One client interaction (stream, follow, preview or intent to pay) on one item."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: str = Field(description="UUID chosen by the client; the idempotency key.")
    user_id: str = Field(
        min_length=1, max_length=ID_MAX_LEN, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )
    item_id: str = Field(
        min_length=1, max_length=ID_MAX_LEN, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )
    item_type: ItemType
    event_type: EventType
    ts: int = Field(description="Event time, UTC milliseconds since the epoch.")
    duration_ms: int | None = Field(
        default=None, ge=0, description="Listening time; required for streams."
    )
    country: str | None = Field(default=None, max_length=8)
    platform: str | None = Field(default=None, max_length=32)
    schema_version: int = Field(default=1, description="Contract version.")

    def to_json(self) -> bytes:
        """Serialise compactly (no nulls), as produced to Kafka."""
        return self.model_dump_json(exclude_none=True).encode()


@dataclass(frozen=True)
class Reason:
    """Why an event was rejected: a stable machine code, the field, a message."""

    code: str
    field: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        """Return the reason as a JSON-friendly dict."""
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one raw event: the event, or every reason it failed."""

    event: InteractionEvent | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the event is valid."""
        return self.event is not None


_PYDANTIC_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "literal_error": "invalid_value",
    "string_too_long": "invalid_value",
    "string_too_short": "invalid_value",
    "string_pattern_mismatch": "invalid_value",
    "greater_than_equal": "invalid_value",
}


def _field_codes(loc: tuple[Any, ...], typ: str) -> Reason:
    fld = str(loc[0]) if loc else None
    if typ == "literal_error" and fld == names.EVENT_TYPE:
        return Reason(
            "unknown_event_type",
            fld,
            "event_type must be one of " + ", ".join(names.EVENT_TYPES),
        )
    if typ == "literal_error" and fld == names.ITEM_TYPE:
        return Reason(
            "unknown_item_type",
            fld,
            "item_type must be one of " + ", ".join(names.ITEM_TYPES),
        )
    code = _PYDANTIC_CODES.get(typ, "wrong_type")
    return Reason(code, fld, f"{fld}: {typ.replace('_', ' ')}")


def validate_event(
    raw: bytes | str | Mapping[str, Any],
    *,
    catalogue: Container[str] | None = None,
    now_ms: int | None = None,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    max_future_skew_ms: int = MAX_FUTURE_SKEW_MS,
) -> Validated:
    """Validate a raw event; return it parsed, or every reason it must be rejected."""
    reasons: list[Reason] = []
    if isinstance(raw, (bytes, bytearray, memoryview, str)):
        raw = raw.encode() if isinstance(raw, str) else bytes(raw)
        size = len(raw)
        if size > max_payload_bytes:
            return Validated(
                None,
                [
                    Reason(
                        "payload_too_large",
                        None,
                        f"{size} bytes > limit {max_payload_bytes}",
                    )
                ],
            )
        try:
            obj = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return Validated(None, [Reason("invalid_json", None, f"not JSON: {exc}")])
    elif not isinstance(raw, Mapping):
        return Validated(
            None, [Reason("not_an_object", None, "event must be a JSON object")]
        )
    else:
        obj = dict(raw)
        size = len(
            json.dumps(
                obj, default=str, separators=(",", ":"), ensure_ascii=False
            ).encode()
        )
        if size > max_payload_bytes:
            reasons.append(
                Reason(
                    "payload_too_large",
                    None,
                    f"{size} bytes > limit {max_payload_bytes}",
                )
            )
    if not isinstance(obj, dict):
        return Validated(
            None, [Reason("not_an_object", None, "event must be a JSON object")]
        )

    event: InteractionEvent | None = None
    try:
        event = InteractionEvent.model_validate(obj)
    except ValidationError as exc:
        reasons.extend(_field_codes(tuple(e["loc"]), e["type"]) for e in exc.errors())

    ev_id = obj.get(names.EVENT_ID)
    if isinstance(ev_id, str) and not _UUID_RE.fullmatch(ev_id):
        reasons.append(
            Reason("invalid_uuid", names.EVENT_ID, "event_id is not a hyphenated UUID")
        )
    version = obj.get("schema_version", SCHEMA_VERSION)
    if (
        isinstance(version, int)
        and not isinstance(version, bool)
        and version != SCHEMA_VERSION
    ):
        reasons.append(
            Reason(
                "unsupported_schema_version",
                "schema_version",
                f"schema_version {version} != {SCHEMA_VERSION}",
            )
        )
    ts = obj.get(names.TS)
    if isinstance(ts, int) and not isinstance(ts, bool):
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if ts < MIN_TS_MS:
            reasons.append(
                Reason("ts_too_old", names.TS, "timestamp before 2000-01-01")
            )
        elif ts > now + max_future_skew_ms:
            reasons.append(
                Reason(
                    "ts_in_future",
                    names.TS,
                    f"timestamp {ts} is more than {max_future_skew_ms} ms ahead",
                )
            )
    if obj.get(names.EVENT_TYPE) == names.STREAM and obj.get(names.DURATION_MS) is None:
        reasons.append(
            Reason("missing_field", names.DURATION_MS, "streams need duration_ms")
        )
    item = obj.get(names.ITEM_ID)
    if catalogue is not None and isinstance(item, str) and item not in catalogue:
        reasons.append(
            Reason("unknown_item", names.ITEM_ID, f"item {item!r} not in catalogue")
        )
    if reasons or event is None:
        return Validated(None, reasons)
    if event.event_id != event.event_id.lower():
        event = event.model_copy(update={names.EVENT_ID: event.event_id.lower()})
    return Validated(event, [])


def event_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the event contract (committed file source)."""
    schema = InteractionEvent.model_json_schema()
    schema["$id"] = (
        f"https://colisten.dev/schemas/interaction_event.v{SCHEMA_VERSION}.json"
    )
    schema["title"] = f"InteractionEvent v{SCHEMA_VERSION}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    props[names.EVENT_ID]["pattern"] = _UUID_RE.pattern
    props[names.EVENT_ID]["format"] = "uuid"
    props[names.TS]["minimum"] = MIN_TS_MS
    props["schema_version"]["const"] = SCHEMA_VERSION
    schema["$comment"] = (
        f"validate_event also rejects payloads over {MAX_PAYLOAD_BYTES} bytes, ts "
        f"more than {MAX_FUTURE_SKEW_MS} ms ahead of now, and items missing from the "
        "catalogue."
    )
    schema["allOf"] = [
        {
            "if": {
                "properties": {names.EVENT_TYPE: {"const": names.STREAM}},
                "required": [names.EVENT_TYPE],
            },
            "then": {
                "required": [names.DURATION_MS],
                "properties": {names.DURATION_MS: {"type": "integer"}},
            },
        }
    ]
    return schema
