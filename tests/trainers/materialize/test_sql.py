"""The SQL steps: Spark SQL accepts them; the window form of running sums equals numpy's."""

from __future__ import annotations

import random
import string

import pandas as pd
import pytest
import sqlglot

from colisten.feature_rules import WINDOW_MS
from stream_processors.clock import partition_of
from tests.trainers.conftest import TinyWorld
from tests.trainers.materialize.frames import Views, build_world
from trainers.materialize import popularity, running, users
from trainers.materialize.partitions import partitions_of


@pytest.fixture(scope="module")
def views(tiny: TinyWorld) -> Views:
    """The tiny world's views, from the whole log."""
    return build_world(tiny.path, tiny.manifest.end_ms + 1)


def test_every_sql_step_transpiles_to_spark(views: Views) -> None:
    assert len(views.built.sql) > 25
    for name, sql in views.built.sql:
        out = sqlglot.transpile(
            sql,
            read="duckdb",
            write="spark",
            unsupported_level=sqlglot.ErrorLevel.RAISE,
        )
        assert out and out[0].strip(), name


@pytest.mark.parametrize("table", ["m_uws_t", "m_pop_valued"])
def test_running_window_equals_numpy(views: Views, table: str) -> None:
    sql = dict(views.built.sql)[table]  # the window form, recorded for this step
    window = views.con.execute(sql).df()
    numpy_rows = views.frame(table)
    key = "user_id" if table == "m_uws_t" else "item_id"
    cols = list(numpy_rows.columns)
    a = window[cols].sort_values([key, "t"]).reset_index(drop=True)
    b = numpy_rows.sort_values([key, "t"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert running.running_sql and popularity.VALUE_SUMS and users.WEAK_COUNTERS


def test_running_sums_carry_keys_across_batches(views: Views) -> None:
    """Cut into batches anywhere (keys spanning them), the sums are the same."""
    sql = users.weak_signal_deltas_sql("m_ev", "m_uv", WINDOW_MS)
    keep = ["uix", "t", "user_id"]
    rows = (
        views.con.execute(
            running.sorted_sql(sql, "uix", users.WEAK_COUNTERS, ["last_event_ms"], keep)
        )
        .arrow()
        .read_all()
    )
    rows = rows.slice(0, 3000)  # a batch per row is slow; a few users suffice
    whole = running.running_table(
        rows, "uix", users.WEAK_COUNTERS, ["last_event_ms"], keep
    )
    for size in (1, 7, 1000):
        cut = running.running_table(
            rows, "uix", users.WEAK_COUNTERS, ["last_event_ms"], keep, batch_rows=size
        )
        assert cut.equals(whole), size


@pytest.mark.parametrize("table", ["m_valid", "m_sweep1", "m_edge_points"])
def test_portable_steps_equal_duckdbs(views: Views, table: str) -> None:
    """Steps run in a DuckDB-only form (ASOF JOIN, no dedupe) equal their Spark form."""
    portable = views.con.execute(dict(views.built.sql)[table]).df()
    ran = views.frame(table)
    cols = list(ran.columns)
    a = portable[cols].sort_values(cols).reset_index(drop=True)
    b = ran.sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_partitions_equal_kafkas_murmur2() -> None:
    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + "|-_é"
    keys = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 23)))
        for _ in range(3000)
    ]
    for parts in (1, 3, 4, 64):
        assert list(partitions_of(keys, parts)) == [
            partition_of(k, parts) for k in keys
        ]
