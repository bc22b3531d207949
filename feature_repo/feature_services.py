"""Versioned FeatureServices: what each consumer reads, never an ad-hoc list of names."""

from __future__ import annotations

from feast import FeatureService, FeatureView

TWO_TOWER_USER_V1 = "two_tower_user_v1"
POPULARITY_V1 = "item_popularity_v1"


def build(views: dict[str, FeatureView]) -> list[FeatureService]:
    """Feature services over the given views (by name)."""
    return [
        FeatureService(
            name=TWO_TOWER_USER_V1,
            features=[
                views["user_profile"],
                views["user_weak_signals"],
                views["user_recent_items"],
            ],
            description="User tower inputs: profile, weak-signal counts, recent items.",
            tags={"consumer": "two_tower", "version": "1"},
        ),
        FeatureService(
            name=POPULARITY_V1,
            features=[views["item_popularity"]],
            description="Popularity baseline and cold-start fallback.",
            tags={"consumer": "online", "version": "1"},
        ),
    ]
