"""Feast's SQLite online-row bytes for whole Arrow columns at once, for bulk loads.

`OnlineWriter.write` builds one `ValueProto` per feature value and serializes it: right
for a stream flush of a few thousand rows, ~50k values/s. A bulk load (the batch
materializer writes millions of edges) encodes the same bytes column by column here:

- entity keys: Feast's key serialization (version 3) for one string join key;
- int64 and float32 values: the protobuf wire form of `Value` (field 4 varint, field 6
  fixed32), with numpy; strings: field 2, length-delimited; lists go through ENCODERS,
  the per-value protobuf encoders OnlineWriter.write uses too;
- `value_text` as `extract_text_and_num` gives it (the string, `str` of the number).

Tests hold every byte equal to `ValueProto.SerializeToString` and `serialize_entity_key`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from feast.protos.feast.types.Value_pb2 import FloatList, Int64List, StringList
from feast.protos.feast.types.Value_pb2 import Value as ValueProto

_INT64_TAG, _FLOAT_TAG, _STRING_TAG = 0x20, 0x35, 0x12
"""Value's oneof fields: int64_val = 4 (varint), float_val = 6 (fixed32), string_val = 2."""
_STRING_TYPE = 2
"""feast ValueType.STRING, as serialize_entity_key writes it."""

ENCODERS: dict[str, Callable[[Any], ValueProto]] = {
    "int64": lambda v: ValueProto(int64_val=int(v)),
    "float32": lambda v: ValueProto(float_val=float(v)),
    "string": lambda v: ValueProto(string_val=str(v)),
    "string[]": lambda v: ValueProto(string_list_val=StringList(val=list(v))),
    "int64[]": lambda v: ValueProto(int64_list_val=Int64List(val=[int(x) for x in v])),
    "float32[]": lambda v: ValueProto(float_list_val=FloatList(val=list(v))),
}
"""Column kind (feature_repo.schema) -> ValueProto encoder; None becomes an empty value."""


def entity_keys(join_key: str, values: Sequence[str]) -> list[bytes]:
    """serialize_entity_key(version 3) of EntityKey(join_key = each string value)."""
    name = join_key.encode()
    head = struct.pack("<III", 1, _STRING_TYPE, len(name)) + name
    pack = struct.Struct("<II").pack
    out = []
    for v in values:
        raw = v.encode()
        out.append(b"".join((head, pack(_STRING_TYPE, len(raw)), raw)))
    return out


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints of int64s (two's complement, as protobuf): bytes, per-value ends."""
    u = values.astype(np.int64).view(np.uint64)
    groups = np.empty((len(u), 10), dtype=np.uint8)
    for i in range(10):
        groups[:, i] = ((u >> np.uint64(7 * i)) & np.uint64(0x7F)).astype(np.uint8)
    # length: index of the highest non-zero group + 1 (at least 1)
    nonzero = groups != 0
    lengths = np.where(nonzero.any(axis=1), 10 - np.argmax(nonzero[:, ::-1], axis=1), 1)
    cont = np.arange(10)[None, :] < (lengths[:, None] - 1)
    groups = groups | (cont.astype(np.uint8) << 7)
    keep = np.arange(10)[None, :] < lengths[:, None]
    return groups[keep], np.cumsum(lengths)


def _split(flat: bytes, ends: np.ndarray, prefix: bytes) -> list[bytes]:
    starts = np.concatenate(([0], ends[:-1])).tolist()
    return [prefix + flat[a:b] for a, b in zip(starts, ends.tolist(), strict=True)]


def value_bytes(column: pa.Array | pa.ChunkedArray, kind: str) -> list[bytes]:
    """Serialized ValueProto of each value (b'' for nulls, as an empty Value)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    valid = np.asarray(column.is_valid())
    if kind == "int64":
        data = np.asarray(column.fill_null(0), dtype=np.int64)
        flat, ends = _varints(data)
        out = _split(flat.tobytes(), ends, bytes((_INT64_TAG,)))
    elif kind == "float32":
        data = np.asarray(column.fill_null(0), dtype="<f4").tobytes()
        tag = bytes((_FLOAT_TAG,))
        out = [tag + data[4 * i : 4 * i + 4] for i in range(len(column))]
    elif kind == "string":
        out = []
        for s in column.fill_null("").to_pylist():
            raw = s.encode()
            n = len(raw)
            head = bytes((_STRING_TAG, n)) if n < 128 else _string_head(n)
            out.append(head + raw)
    else:
        return [
            b"" if v is None else ENCODERS[kind](v).SerializeToString()
            for v in column.to_pylist()
        ]
    if not valid.all():
        out = [b if ok else b"" for b, ok in zip(out, valid.tolist(), strict=True)]
    return out


def _string_head(n: int) -> bytes:
    flat, _ = _varints(np.array([n]))
    return bytes((_STRING_TAG,)) + flat.tobytes()


def value_texts(column: pa.Array | pa.ChunkedArray, kind: str) -> list[str | None]:
    """value_text as Feast's extract_text_and_num gives it (None for lists and nulls)."""
    if kind == "string":
        return column.to_pylist()
    if kind == "int64":
        return pc.cast(column, pa.string()).to_pylist()
    if kind == "float32":
        return [None if v is None else str(v) for v in column.to_pylist()]
    return [None] * len(column)
