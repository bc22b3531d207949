"""Versioned FeatureServices: what each consumer reads, never an ad-hoc list of names."""

from __future__ import annotations

from feast import FeatureService, FeatureView

from colisten import names

TWO_TOWER_USER_V1 = names.TWO_TOWER_USER_SERVICE
POPULARITY_V1 = names.POPULARITY_SERVICE


def build(views: dict[str, FeatureView]) -> list[FeatureService]:
    """Feature services over the given views (by name)."""
    return [
        FeatureService(
            name=TWO_TOWER_USER_V1,
            features=[
                views[names.USER_PROFILE_VIEW],
                views[names.USER_WEAK_SIGNALS_VIEW],
                views[names.USER_RECENT_ITEMS_VIEW],
            ],
            description="User tower inputs: profile, weak-signal counts, recent items.",
            tags={"consumer": "two_tower", "version": "1"},
        ),
        FeatureService(
            name=POPULARITY_V1,
            features=[views[names.ITEM_POPULARITY_VIEW]],
            description="Popularity baseline and cold-start fallback.",
            tags={"consumer": "online", "version": "1"},
        ),
    ]
