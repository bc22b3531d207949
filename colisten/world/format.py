"""The on-disk world format: catalogue, users and events as parquet, plus a world.json manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

CATALOGUE_FILE = "catalogue.parquet"
USERS_FILE = "users.parquet"
EVENTS_DIR = "events"
"""Events live in EVENTS_DIR/part-NNNNN.parquet, globally sorted by (ts, event_id) across parts."""
MANIFEST_FILE = "world.json"

CATALOGUE_SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("item_type", pa.string()),
        ("title", pa.string()),
        ("description", pa.string()),
        ("language", pa.string()),
        ("genre", pa.string()),
        ("publisher", pa.string()),
        ("release_date", pa.timestamp("ms", tz="UTC")),
    ]
)
USERS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("age", pa.int32()),
        ("country", pa.string()),
        ("music_taste", pa.list_(pa.float32())),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("user_id", pa.string()),
        ("item_id", pa.string()),
        ("item_type", pa.string()),
        ("event_type", pa.string()),
        ("ts", pa.int64()),
        ("duration_ms", pa.int64()),
        ("country", pa.string()),
        ("platform", pa.string()),
    ]
)


@dataclass(frozen=True)
class WorldManifest:
    """What world.json says: where the world came from and where its time split lies."""

    source: str  # "synthetic" or "movielens"
    seed: int | None
    scale: str | None
    start_ms: int
    split_ms: int
    """Training cut-off: events with ts < split_ms are training, the rest hold-out."""
    end_ms: int
    counts: dict[str, int]
    params: dict[str, Any]

    def to_json(self) -> str:
        """Serialise deterministically."""
        return json.dumps(self.__dict__, indent=2, sort_keys=True)

    @classmethod
    def read(cls, world_dir: Path) -> WorldManifest:
        """Read world.json from a world directory."""
        return cls(**json.loads((Path(world_dir) / MANIFEST_FILE).read_text()))


def event_time(value: str, world_dir: Path) -> int:
    """An event time in ms from 'split', 'end' (just past the last event), ms or ISO.

    The one parser of every time option (cut-offs, replay bounds, simulated starts): an
    ISO time without a zone is UTC; the manifest is read only for 'split' and 'end'.
    """
    if value in ("split", "end"):
        manifest = WorldManifest.read(world_dir)
        return manifest.split_ms if value == "split" else manifest.end_ms + 1
    if value.isdigit():
        return int(value)
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


def read_catalogue(world_dir: Path) -> pd.DataFrame:
    """Load the catalogue of a world."""
    return pd.read_parquet(Path(world_dir) / CATALOGUE_FILE)


def read_users(world_dir: Path) -> pd.DataFrame:
    """Load the users of a world."""
    return pd.read_parquet(Path(world_dir) / USERS_FILE)


def events_dataset(world_dir: Path) -> ds.Dataset:
    """Open the events of a world as a pyarrow dataset (for chunked, bounded-memory scans)."""
    return ds.dataset(
        Path(world_dir) / EVENTS_DIR, format="parquet", schema=EVENTS_SCHEMA
    )


def read_events(world_dir: Path, until_ms: int | None = None) -> pd.DataFrame:
    """Load events (optionally only ts < until_ms) sorted by (ts, event_id)."""
    dset = events_dataset(world_dir)
    flt = ds.field("ts") < until_ms if until_ms is not None else None
    df = dset.to_table(filter=flt).to_pandas()
    return df.sort_values(["ts", "event_id"], kind="stable").reset_index(drop=True)
