"""Names shared by every stage: Kafka topics, entities, columns; defined once."""

from __future__ import annotations

from typing import Final

# Kafka topics ---------------------------------------------------------------
INTERACTIONS_TOPIC: Final = "interactions"
"""Client interaction events, JSON, keyed by user_id."""
INTERACTIONS_DLQ_TOPIC: Final = "interactions.dlq"
"""Rejected events: the raw payload plus every reason it was rejected."""
COLISTEN_PAIRS_TOPIC: Final = "colisten.pairs"
"""Internal: one record per (item pair, user) co-listen, keyed by the canonical pair."""

# Item types and event types -------------------------------------------------
AUDIOBOOK: Final = "audiobook"
PODCAST: Final = "podcast"
ITEM_TYPES: Final = (AUDIOBOOK, PODCAST)

STREAM: Final = "stream"
FOLLOW: Final = "follow"
PREVIEW: Final = "preview"
INTENT_TO_PAY: Final = "intent_to_pay"
EVENT_TYPES: Final = (STREAM, FOLLOW, PREVIEW, INTENT_TO_PAY)
WEAK_SIGNALS: Final = (FOLLOW, PREVIEW, INTENT_TO_PAY)

# Co-listening relations (canonical: audiobook before podcast) ----------------
REL_AA: Final = "aa"
REL_AP: Final = "ap"
REL_PP: Final = "pp"
RELATIONS: Final = (REL_AA, REL_AP, REL_PP)

# Entity join keys -------------------------------------------------------------
USER_ID: Final = "user_id"
ITEM_ID: Final = "item_id"
PAIR_ID: Final = "pair_id"
EVENT_TIMESTAMP: Final = "event_timestamp"

# Event fields ---------------------------------------------------------------
EVENT_ID: Final = "event_id"
ITEM_TYPE: Final = "item_type"
EVENT_TYPE: Final = "event_type"
TS: Final = "ts"
DURATION_MS: Final = "duration_ms"

# Feature views and services (the Feast definitions in feature_repo/ use these) --
USER_PROFILE_VIEW: Final = "user_profile"
"""Per user: age, country, music taste (batch: from the world's users table)."""
USER_WEAK_SIGNALS_VIEW: Final = "user_weak_signals"
"""Per user: 90-day counts of follows, previews, intents to pay and streams (stream-fed)."""
USER_RECENT_ITEMS_VIEW: Final = "user_recent_items"
"""Per user: the newest distinct audiobooks and podcasts with their signal (stream-fed)."""
COLISTEN_EDGES_VIEW: Final = "colisten_edges"
"""Per item pair: distinct co-listening users in 90 days (stream-fed)."""
ITEM_POPULARITY_VIEW: Final = "item_popularity"
"""Per item: streams and distinct users in 90 and 14 days (stream-fed)."""
ITEM_CONTENT_VIEW: Final = "item_content"
"""Per item: the sentence embedding of its text (batch: trainers/content.py)."""
ITEM_HGNN_EMBEDDING_VIEW: Final = "item_hgnn_embedding"
"""Per item: the HGNN embedding of the newest trained version (batch: the HGNN trainer)."""

TWO_TOWER_USER_SERVICE: Final = "two_tower_user_v1"
"""FeatureService of the user tower's inputs (profile, weak signals, recent items)."""
POPULARITY_SERVICE: Final = "item_popularity_v1"
"""FeatureService of the popularity baseline and the cold-start fallback."""

WEAK_SIGNAL_COUNTS: Final = (
    "follow_audiobook_90d",
    "preview_audiobook_90d",
    "intent_to_pay_audiobook_90d",
)
"""user_weak_signals columns counting audiobook weak signals."""
STREAM_COUNTS: Final = ("stream_audiobook_90d", "stream_podcast_90d")
"""user_weak_signals columns counting streams."""
