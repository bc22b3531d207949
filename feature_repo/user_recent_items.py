"""user_recent_items: per user, the N most recent distinct audiobooks and podcasts (90 days)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import FeatureView, PushSource

from colisten import names
from feature_repo.entities import user
from feature_repo.schema import Column, arrow_schema
from feature_repo.sources import push_fed_view

VIEW = names.USER_RECENT_ITEMS_VIEW
WINDOW = timedelta(days=90)

COLUMNS = [
    Column(
        "recent_audiobooks",
        "string[]",
        "Distinct audiobooks touched in the last 90 days, newest first, at most N.",
    ),
    Column(
        "recent_audiobook_signals",
        "string[]",
        "The newest signal (stream|follow|preview|intent_to_pay) per recent audiobook.",
    ),
    Column(
        "recent_audiobook_ms", "int64[]", "Event time (UTC ms) of that newest signal."
    ),
    Column(
        "recent_podcasts",
        "string[]",
        "Distinct podcasts touched in the last 90 days, newest first, at most N.",
    ),
    Column(
        "recent_podcast_signals", "string[]", "The newest signal per recent podcast."
    ),
    Column(
        "recent_podcast_ms", "int64[]", "Event time (UTC ms) of that newest signal."
    ),
    Column("last_event_ms", "int64", "Event time (UTC ms) of the user's newest event."),
]
ARROW_SCHEMA = arrow_schema(names.USER_ID, COLUMNS)


def build(data_dir: Path | None = None) -> tuple[PushSource, FeatureView]:
    """The push source and feature view, with offline rows under data_dir."""
    return push_fed_view(
        VIEW,
        user,
        COLUMNS,
        WINDOW,
        "The user's recent audiobooks and podcasts; the user tower's z̄_a, z̄_p.",
        {"stage": "stream", "window": "90d"},
        data_dir,
    )


user_recent_items_push_source, user_recent_items_fv = build()
