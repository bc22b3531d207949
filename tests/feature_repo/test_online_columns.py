"""Column-wise online bytes equal Feast's per-value protobuf, and write_table equals write."""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import extract_text_and_num
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto

from colisten import names
from feature_repo import online_columns
from feature_repo.config import FeatureStoreConfig
from feature_repo.definitions import OFFLINE_SCHEMAS, PUSH_FED_LAYOUTS
from feature_repo.online_columns import ENCODERS
from feature_repo.online_write import OnlineWriter
from feature_repo.store import apply_definitions, open_store

INTS = [0, 1, 127, 128, 300, 16_383, 16_384, 2**31, 1_776_357_274_422, 2**63 - 1]
INTS += [-1, -128, -(2**63)]
FLOATS = [0.0, 0.1, -2.5, 1e-30, 3.4e38, 123.456]
STRINGS = ["", "a", "a000002|p000399", "é" * 70, "x" * 300]


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("int64", INTS),
        ("int64", [5, None, 7]),
        ("float32", FLOATS),
        ("string", STRINGS),
        ("string", ["a", None]),
        ("string[]", [["a", "b"], [], None]),
        ("int64[]", [[1, -2, 2**40], []]),
        ("float32[]", [[0.5, 0.25], []]),
    ],
)
def test_value_bytes_and_texts_equal_protobufs(kind: str, values: list[Any]) -> None:
    arrow_type = {
        "int64": pa.int64(),
        "float32": pa.float32(),
        "string": pa.string(),
        "string[]": pa.list_(pa.string()),
        "int64[]": pa.list_(pa.int64()),
        "float32[]": pa.list_(pa.float32()),
    }[kind]
    column = pa.chunked_array(
        [pa.array(values[:1], arrow_type), pa.array(values[1:], arrow_type)]
    )
    protos = [ValueProto() if v is None else ENCODERS[kind](v) for v in values]
    assert online_columns.value_bytes(column, kind) == [
        p.SerializeToString() for p in protos
    ]
    assert online_columns.value_texts(column, kind) == [
        extract_text_and_num(p, False)[0] for p in protos
    ]


def test_entity_keys_equal_feasts_serialization() -> None:
    ids = ["u1", "", "a000002|p000399", "ü" * 200]
    want = [
        serialize_entity_key(
            EntityKeyProto(
                join_keys=["pair_id"], entity_values=[ValueProto(string_val=i)]
            ),
            entity_key_serialization_version=3,
        )
        for i in ids
    ]
    assert online_columns.entity_keys("pair_id", ids) == want


def test_random_ints_round_trip() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(-(2**63), 2**63 - 1, size=2_000, dtype=np.int64)
    values[::3] = rng.integers(0, 300, size=len(values[::3]))
    got = online_columns.value_bytes(pa.array(values), "int64")
    want = [ValueProto(int64_val=int(v)).SerializeToString() for v in values]
    assert got == want


def _rows(view: str, n: int) -> pa.Table:
    """n rows of a push-fed view with varied values, nulls where the schema allows."""
    schema = OFFLINE_SCHEMAS[view]
    stamp = pd.Timestamp("2026-03-01T12:00:00.123456Z")
    cols: dict[str, list[Any]] = {}
    for field in schema:
        t = field.type
        if field.name == names.EVENT_TIMESTAMP:
            cols[field.name] = [stamp + pd.Timedelta(seconds=i) for i in range(n)]
        elif pa.types.is_list(t):
            inner = t.value_type
            item = "s" if pa.types.is_string(inner) else 7
            cols[field.name] = [[item] * (i % 3) for i in range(n)]
        elif pa.types.is_string(t):
            cols[field.name] = [f"{field.name}-{i}" for i in range(n)]
        elif pa.types.is_floating(t):
            cols[field.name] = [i / 7 for i in range(n)]
        else:
            cols[field.name] = [i * 1_000_003 - 5 for i in range(n)]
    return pa.Table.from_pydict(cols, schema=schema)


def _sqlite_store(tmp_path: Any) -> tuple[FeatureStoreConfig, Any]:
    """An applied feature store on SQLite under tmp_path."""
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    store = open_store(cfg)
    apply_definitions(store, cfg)
    return cfg, store


@pytest.mark.parametrize("view", [lay.view for lay in PUSH_FED_LAYOUTS])
def test_write_table_writes_the_rows_write_writes(view: str, tmp_path: Any) -> None:
    cfg, store = _sqlite_store(tmp_path)
    table = _rows(view, 40)
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    query = f"SELECT * FROM colisten_{view} ORDER BY entity_key, feature_name"
    writer.write({view: table.to_pylist()})
    with sqlite3.connect(cfg.sqlite_path) as conn:
        by_rows = conn.execute(query).fetchall()
        conn.execute(f"DELETE FROM colisten_{view}")
    assert writer.write_table(view, table) == 40
    with sqlite3.connect(cfg.sqlite_path) as conn:
        by_table = conn.execute(query).fetchall()
    assert len(by_rows) == 40 * len(writer.layouts[view].columns)
    assert by_table == by_rows


def _schema(path: Any, table: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY name",
            (table,),
        ).fetchall()


def test_a_bulk_load_writes_the_same_rows_and_keeps_feasts_schema(
    tmp_path: Any,
) -> None:
    cfg, store = _sqlite_store(tmp_path)
    view = PUSH_FED_LAYOUTS[2].view
    name = f"colisten_{view}"
    before = _schema(cfg.sqlite_path, name)
    assert any(kind == "index" and sql for kind, _, sql in before)  # Feast's _ek index
    table = _rows(view, 40)
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    query = f"SELECT * FROM {name} ORDER BY entity_key, feature_name"
    writer.write_table(view, table)
    with sqlite3.connect(cfg.sqlite_path) as conn:
        plain = conn.execute(query).fetchall()
        conn.execute(f"DELETE FROM {name}")
    with writer.bulk_load(view):
        assert all(kind != "index" or not sql for kind, _, sql in _schema(
            cfg.sqlite_path, name
        ))  # fmt: skip
        writer.write_table(view, table.slice(0, 25))
        writer.write_table(view, table.slice(25))
    with sqlite3.connect(cfg.sqlite_path) as conn:
        assert conn.execute(query).fetchall() == plain
    assert _schema(cfg.sqlite_path, name) == before
    with pytest.raises(RuntimeError), writer.bulk_load(view):  # rebuilt on failure too
        raise RuntimeError("load failed")
    assert _schema(cfg.sqlite_path, name) == before


def _with(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


def test_write_table_never_replaces_a_newer_row_with_an_older_one(
    tmp_path: Any,
) -> None:
    cfg, store = _sqlite_store(tmp_path)
    view = PUSH_FED_LAYOUTS[2].view  # colisten_edges
    rows = _rows(view, 4)
    hour = pa.scalar(pd.Timedelta(hours=1))
    later = _with(
        rows, names.EVENT_TIMESTAMP, pc.add(rows[names.EVENT_TIMESTAMP], hour)
    )
    writer = OnlineWriter(store, PUSH_FED_LAYOUTS)
    query = f"SELECT * FROM colisten_{view} ORDER BY entity_key, feature_name"
    writer.write_table(view, later)
    with sqlite3.connect(cfg.sqlite_path) as conn:
        newest = conn.execute(query).fetchall()
    writer.write_table(view, _with(rows, "n_users", pa.array([-1] * 4, pa.int64())))
    with sqlite3.connect(cfg.sqlite_path) as conn:  # an hour older: ignored
        assert conn.execute(query).fetchall() == newest
    writer.write_table(
        view, _with(later.slice(0, 1), "n_users", pa.array([99], pa.int64()))
    )  # as new: replaces
    with sqlite3.connect(cfg.sqlite_path) as conn:
        got = conn.execute(
            f"SELECT value_text FROM colisten_{view} WHERE feature_name = 'n_users'"
        ).fetchall()
    want = ["99", *(str(v) for v in later["n_users"].to_pylist()[1:])]
    assert sorted(t for (t,) in got) == sorted(want)
