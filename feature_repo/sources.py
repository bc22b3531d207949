"""Offline (batch) sources: one folder of parquet files per feature view, read by DuckDB."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from feast import Entity, FeatureView, FileSource, PushSource
from feast.data_format import ParquetFormat

from colisten import names
from feature_repo.config import default_data_dir
from feature_repo.schema import Column, feast_fields

EMPTY_PART = "part-empty.parquet"
"""An empty part with the schema, so a view with no rows yet still reads (and globs match)."""


def offline_path(view: str, data_dir: Path | None = None) -> Path:
    """The folder holding the parquet parts of one feature view's offline rows."""
    return (data_dir or default_data_dir()) / "offline" / view


def batch_source(view: str, data_dir: Path | None = None) -> FileSource:
    """A FileSource over every parquet part of a view, stamped by event_timestamp."""
    return FileSource(
        name=f"{view}_batch_source",
        path=str(offline_path(view, data_dir) / "*.parquet"),
        file_format=ParquetFormat(),
        timestamp_field=names.EVENT_TIMESTAMP,
        description=f"Offline rows of {view}, with their event timestamps.",
    )


def push_source(view: str, data_dir: Path | None = None) -> PushSource:
    """A PushSource for a view's fresh rows, backed by the view's batch source."""
    return PushSource(
        name=f"{view}_push_source",
        batch_source=batch_source(view, data_dir),
        description=f"Fresh rows of {view}, pushed by the stream worker.",
    )


def ensure_offline_folder(
    view: str, schema: pa.Schema, data_dir: Path | None = None
) -> Path:
    """Create a view's offline folder with an empty, typed part so DuckDB can read it."""
    folder = offline_path(view, data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / EMPTY_PART
    if not empty.exists():
        pq.write_table(schema.empty_table(), empty)
    return folder


def push_fed_view(
    view: str,
    entity: Entity,
    columns: list[Column],
    window: timedelta,
    description: str,
    tags: dict[str, str],
    data_dir: Path | None = None,
) -> tuple[PushSource, FeatureView]:
    """A view fed by its push source (fresh rows) over its batch source (history)."""
    source = push_source(view, data_dir)
    return source, FeatureView(
        name=view,
        entities=[entity],
        ttl=window,
        schema=feast_fields(columns),
        source=source,
        online=True,
        description=description,
        tags=tags,
    )
