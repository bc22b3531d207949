"""Write absolute rows to Feast online stores without the per-push DataFrame→Arrow→proto path.

`FeatureStore.push` turns every batch into a DataFrame, an Arrow table and then protobuf
values through Feast's generic type map, and looks the view up in the registry on every
call; on a stream worker's hot path that costs more than the write itself. `OnlineWriter`
builds the same `(EntityKeyProto, {feature: ValueProto}, event_ts, None)` tuples straight
from row dicts, with one encoder per column kind, and hands them to the store:

- SQLite: one transaction for all views of a flush, `executemany` into the very table and
  row format Feast's `SqliteOnlineStore` uses (checked byte for byte against `push` in
  tests), with the file in WAL mode so readers never block the writer;
- any other online store (Redis): the provider's own `online_write_batch`.

`write_table` takes an Arrow table instead of row dicts; into SQLite it encodes the same
bytes column by column (feature_repo.online_columns), for bulk loads such as the batch
materializer's.

Reads are unchanged: `get_online_features` sees exactly what a push would have written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import pyarrow as pa
from feast import FeatureStore, FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import compute_table_id, extract_text_and_num
from feast.infra.online_stores.sqlite import SqliteOnlineStore, adapt_datetime_epoch
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import (
    Value as ValueProto,
)
from feast.utils import to_naive_utc

from colisten import names
from feature_repo import online_columns
from feature_repo.online_columns import ENCODERS
from feature_repo.schema import Column

Row = Mapping[str, Any]
WriteTuple = tuple[EntityKeyProto, dict[str, ValueProto], datetime, None]

_SQLITE_COLUMNS = ("entity_key", "feature_name", "value", "value_text")


def naive_utc(stamp: Any) -> datetime:
    """A row's event timestamp (datetime or pandas Timestamp) as naive UTC, as Feast stores it."""
    return to_naive_utc(
        stamp.to_pydatetime() if hasattr(stamp, "to_pydatetime") else stamp
    )


@dataclass(frozen=True)
class ViewLayout:
    """How one push-fed view's rows are keyed and typed."""

    view: str
    join_key: str
    columns: Sequence[Column]

    def to_write_tuples(self, rows: Sequence[Row]) -> list[WriteTuple]:
        """Feast's online write tuples for rows (join key, features, event timestamp)."""
        coders = [(c.name, ENCODERS[c.kind]) for c in self.columns]
        empty = ValueProto
        out: list[WriteTuple] = []
        for row in rows:
            key = EntityKeyProto(
                join_keys=[self.join_key],
                entity_values=[ValueProto(string_val=str(row[self.join_key]))],
            )
            values = {
                name: empty() if (v := row.get(name)) is None else code(v)
                for name, code in coders
            }
            out.append((key, values, naive_utc(row[names.EVENT_TIMESTAMP]), None))
        return out


class OnlineWriter:
    """Writes the latest absolute rows of several views to the store's online store."""

    def __init__(
        self,
        store: FeatureStore,
        layouts: Sequence[ViewLayout],
        sqlite_cache_mb: int = 128,
    ) -> None:
        """Write layouts' views into store; SQLite keeps up to sqlite_cache_mb of pages
        (bulk loads want many; a stream writer's small upserts do with few)."""
        self.store = store
        self.sqlite_cache_mb = sqlite_cache_mb
        self.layouts = {lay.view: lay for lay in layouts}
        self._views: dict[str, FeatureView] = {
            v: store.get_feature_view(v) for v in self.layouts
        }
        config = store.config
        self._sqlite_path = (
            SqliteOnlineStore._get_db_path(config)  # noqa: SLF001 - Feast's own path rule
            if config.online_store.type == "sqlite"
            else None
        )
        self._conn: sqlite3.Connection | None = None
        self._checked: set[str] = set()
        """SQLite tables whose columns were checked (once per table, not per flush)."""

    def write(self, batches: Mapping[str, Sequence[Row]]) -> int:
        """Write every view's rows (absolute values, latest per key); return rows written."""
        tuples = {
            v: self.layouts[v].to_write_tuples(rows)
            for v, rows in batches.items()
            if rows
        }
        if self._sqlite_path is not None:
            self._write_sqlite(tuples)
        else:
            provider = self.store._get_provider()  # noqa: SLF001 - Feast's write entry point
            for view, data in tuples.items():
                provider.online_write_batch(
                    self.store.config, self._views[view], data, progress=None
                )
        return sum(len(t) for t in tuples.values())

    def write_table(self, view: str, table: pa.Table) -> int:
        """Write one view's rows from an Arrow table (join key, features, event_timestamp).

        The same rows as `write(view: table.to_pylist())`; into SQLite the bytes are
        encoded column by column (feature_repo.online_columns), for bulk loads.
        """
        if self._sqlite_path is None or not table.num_rows:
            return self.write({view: table.to_pylist()})
        layout = self.layouts[view]
        keys = online_columns.entity_keys(
            layout.join_key, table[layout.join_key].to_pylist()
        )
        # event_ts as Feast's own adapter stores it (whole seconds), once per key rather
        # than once per feature row inside executemany
        stamps = [
            adapt_datetime_epoch(t)
            for t in table[names.EVENT_TIMESTAMP].cast(pa.timestamp("us")).to_pylist()
        ]
        # one statement call per key, binding each value once (the key and stamp once
        # per key, not once per feature): pysqlite's per-parameter binding, not
        # SQLite, was most of a narrow executemany's time
        columns = sorted(layout.columns, key=lambda c: c.name)
        encoded = [
            x
            for col in columns
            for x in (
                online_columns.value_bytes(table[col.name], col.kind),
                online_columns.value_texts(table[col.name], col.kind),
            )
        ]
        params = sorted(zip(keys, *encoded, stamps, strict=True), key=itemgetter(0))
        conn = self._connection()
        sql = self._upsert_sql(conn, view, [c.name for c in columns])
        with conn:
            conn.executemany(sql, params)  # in primary-key order: B-tree appends
        return table.num_rows

    @contextmanager
    def bulk_load(self, view: str) -> Iterator[None]:
        """Around a bulk load of one view: its secondary indexes dropped, rebuilt after.

        Feast's SQLite table keeps three B-trees (the rows, the primary key and an index
        on entity_key); a bulk load that maintains only two and then builds the third
        from the finished table in one sorted pass is faster. Rebuilt from the very SQL
        that created them (so the schema stays Feast's), also when the load fails. A
        no-op for other online stores.
        """
        if self._sqlite_path is None:
            yield
            return
        conn = self._connection()
        table = compute_table_id(self.store.project, self._views[view])
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        ).fetchall()
        with conn:
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
        try:
            yield
        finally:
            with conn:
                for _, sql in indexes:
                    conn.execute(sql)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self._sqlite_path is not None
            conn = sqlite3.connect(
                self._sqlite_path, timeout=30, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA cache_size=-{self.sqlite_cache_mb * 1024}")  # KiB
            self._conn = conn
        return self._conn

    def _check_table(self, conn: sqlite3.Connection, table: str) -> None:
        """Fail clearly, once per table, if Feast's online table is missing or differs."""
        if table in self._checked:
            return
        have = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        missing = {*_SQLITE_COLUMNS, "event_ts", "created_ts"} - have
        if missing:
            raise RuntimeError(
                f"online table {table} lacks {sorted(missing)}: run apply first"
            )
        self._checked.add(table)

    def _upsert_sql(
        self,
        conn: sqlite3.Connection,
        view: str,
        features: Sequence[str] | None = None,
    ) -> str:
        """Feast's upsert of one (key, feature) row per call, or of a key's `features`.

        With `features` (sorted names), one call binds the key, then each feature's
        value and value_text, then the stamp, and writes one row per feature in
        primary-key order.
        """
        table = compute_table_id(self.store.project, self._views[view])
        self._check_table(conn, table)
        if features is None:
            rows = "VALUES (?, ?, ?, ?, ?, ?)"
        else:
            for name in features:
                if "'" in name:
                    raise ValueError(f"feature name {name!r} cannot be a SQL literal")
            stamp = 2 + 2 * len(features)
            values = ", ".join(
                f"(?1, '{name}', ?{2 + 2 * i}, ?{3 + 2 * i}, ?{stamp}, NULL)"
                for i, name in enumerate(features)
            )
            # WHERE true: an upsert after SELECT needs it to parse
            rows = f"SELECT * FROM (VALUES {values}) WHERE true"
        return (
            f'INSERT INTO "{table}" (entity_key, feature_name, value, value_text, '
            f"event_ts, created_ts) {rows} "
            "ON CONFLICT(entity_key, feature_name) DO UPDATE SET value = excluded.value, "
            "value_text = excluded.value_text, event_ts = excluded.event_ts, "
            "created_ts = excluded.created_ts "
            # an older row never replaces a newer one (as Feast's Redis store does):
            # after a rebalance the worker that lost a partition may still flush
            # rows its successor has already superseded. Feast keeps event_ts in
            # whole seconds here, so within one second the later write still wins.
            f'WHERE excluded.event_ts >= "{table}".event_ts'
        )

    def _write_sqlite(self, tuples: Mapping[str, list[WriteTuple]]) -> None:
        conn = self._connection()
        version = self.store.config.entity_key_serialization_version
        statements = []
        for view, data in tuples.items():
            sql = self._upsert_sql(conn, view)
            params = []
            for key, values, ts, _ in data:
                key_bin = serialize_entity_key(
                    key, entity_key_serialization_version=version
                )
                params.extend(
                    (
                        key_bin,
                        feature,
                        value.SerializeToString(),
                        extract_text_and_num(value, False)[0],
                        ts,
                        None,
                    )
                    for feature, value in values.items()
                )
            statements.append((sql, params))
        with conn:
            for sql, params in statements:
                conn.executemany(sql, params)
