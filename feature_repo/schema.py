"""One column list per feature view, turned into both a Feast schema and a pyarrow schema."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from feast import Field
from feast.types import Array, Float32, Int64, PrimitiveFeastType, String

from colisten import names

_FEAST = {
    "int64": Int64,
    "float32": Float32,
    "string": String,
    "string[]": Array(String),
    "float32[]": Array(Float32),
    "int64[]": Array(Int64),
}
_ARROW = {
    "int64": pa.int64(),
    "float32": pa.float32(),
    "string": pa.string(),
    "string[]": pa.list_(pa.string()),
    "float32[]": pa.list_(pa.float32()),
    "int64[]": pa.list_(pa.int64()),
}


@dataclass(frozen=True)
class Column:
    """A feature column: name, kind (a key of the type tables) and a description."""

    name: str
    kind: str
    description: str


def feast_fields(columns: list[Column]) -> list[Field]:
    """Feast Fields for a view's feature columns."""
    return [
        Field(name=c.name, dtype=_feast_type(c.kind), description=c.description)
        for c in columns
    ]


def _feast_type(kind: str) -> PrimitiveFeastType | Array:
    return _FEAST[kind]


def arrow_schema(join_key: str, columns: list[Column]) -> pa.Schema:
    """The pyarrow schema of a view's offline rows: join key, features, event timestamp."""
    return pa.schema(
        [(join_key, pa.string())]
        + [(c.name, _ARROW[c.kind]) for c in columns]
        + [(names.EVENT_TIMESTAMP, pa.timestamp("us", tz="UTC"))]
    )
