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
