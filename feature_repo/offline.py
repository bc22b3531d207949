"""Write rows into a view's offline folder as one atomic parquet part (the batch source)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from feature_repo.sources import offline_path


def write_offline_part(
    view: str,
    rows: pd.DataFrame | pa.Table | list[dict[str, object]],
    schema: pa.Schema,
    part_name: str,
    data_dir: Path | None = None,
) -> Path:
    """Write rows (cast to schema) as <view folder>/<part_name>.parquet, atomically.

    Writing the same part name again replaces it, so a re-run of a batch job is harmless.
    """
    if isinstance(rows, pd.DataFrame):
        table = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
    elif isinstance(rows, pa.Table):
        table = rows.select(schema.names).cast(schema)
    else:
        table = pa.Table.from_pylist(rows, schema=schema)
    folder = offline_path(view, data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{part_name}.parquet"
    tmp = folder / f".{part_name}.parquet.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, final)
    return final
