"""The Feast definitions use the shared names (colisten/names.py), the only place they are typed."""

from __future__ import annotations

from feast import FeatureService, FeatureView

from colisten import names
from feature_repo import user_weak_signals
from feature_repo.definitions import objects


def test_every_view_and_service_is_named_in_colisten_names() -> None:
    views = {
        names.USER_PROFILE_VIEW,
        names.USER_WEAK_SIGNALS_VIEW,
        names.USER_RECENT_ITEMS_VIEW,
        names.COLISTEN_EDGES_VIEW,
        names.ITEM_POPULARITY_VIEW,
        names.ITEM_CONTENT_VIEW,
        names.ITEM_HGNN_EMBEDDING_VIEW,
    }
    services = {names.TWO_TOWER_USER_SERVICE, names.POPULARITY_SERVICE}
    defined = objects()
    assert views == {o.name for o in defined if isinstance(o, FeatureView)}
    assert services == {o.name for o in defined if isinstance(o, FeatureService)}


def test_weak_signal_columns_are_the_shared_counts() -> None:
    columns = [c.name for c in user_weak_signals.COLUMNS]
    assert [*names.WEAK_SIGNAL_COUNTS, *names.STREAM_COUNTS] == [
        c for c in columns if c.endswith("_90d")
    ]
