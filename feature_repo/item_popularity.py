"""item_popularity: per item, distinct users and streams over 90 and 14 days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import FeatureView, PushSource

from colisten import names
from feature_repo.entities import item
from feature_repo.schema import Column, arrow_schema
from feature_repo.sources import push_fed_view

VIEW = names.ITEM_POPULARITY_VIEW
WINDOW = timedelta(days=90)

COLUMNS = [
    Column("item_type", "string", "audiobook or podcast."),
    Column(
        "users_90d",
        "int64",
        "Distinct users who streamed the item in the last 90 days.",
    ),
    Column("streams_90d", "int64", "Streams of the item in the last 90 days."),
    Column(
        "users_14d",
        "int64",
        "Distinct users who streamed the item in the last 14 days.",
    ),
    Column("streams_14d", "int64", "Streams of the item in the last 14 days."),
]
ARROW_SCHEMA = arrow_schema(names.ITEM_ID, COLUMNS)


def build(data_dir: Path | None = None) -> tuple[PushSource, FeatureView]:
    """The push source and feature view, with offline rows under data_dir."""
    return push_fed_view(
        VIEW,
        item,
        COLUMNS,
        WINDOW,
        "Item popularity: the Popularity baseline and the cold-start fallback.",
        {"stage": "stream", "window": "90d,14d"},
        data_dir,
    )


item_popularity_push_source, item_popularity_fv = build()
