"""user_weak_signals: per-user event counts over the last 90 days (event time), push-fed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import FeatureView, PushSource

from colisten import names
from feature_repo.entities import user
from feature_repo.schema import Column, arrow_schema
from feature_repo.sources import push_fed_view

VIEW = names.USER_WEAK_SIGNALS_VIEW
WINDOW = timedelta(days=90)

COLUMNS = [
    Column(
        "follow_audiobook_90d", "int64", "Follows of audiobooks in the last 90 days."
    ),
    Column(
        "preview_audiobook_90d", "int64", "Previews of audiobooks in the last 90 days."
    ),
    Column(
        "intent_to_pay_audiobook_90d",
        "int64",
        "Abandoned purchases (intent to pay) of audiobooks in the last 90 days.",
    ),
    Column("stream_audiobook_90d", "int64", "Audiobook streams in the last 90 days."),
    Column("stream_podcast_90d", "int64", "Podcast streams in the last 90 days."),
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
        "Per-user weak-signal and stream counts over a 90-day event-time window.",
        {"stage": "stream", "window": "90d"},
        data_dir,
    )


user_weak_signals_push_source, user_weak_signals_fv = build()
