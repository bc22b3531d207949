"""The contract between stages: what the trainer exports is what the API loads and serves."""

from __future__ import annotations

from colisten import names
from online.config import ServeConfig
from online.features import FeatureClient
from online.metrics import Metrics
from online.models import load_bundle
from online.service import Recommender
from tests.trainers.conftest import TinyWorld
from tests.trainers.two_tower.conftest import TinyStore
from trainers.two_tower.pipeline import TwoTowerRun


def test_the_exported_version_is_served_with_the_real_encoder(
    tiny: TinyWorld, tiny_store: TinyStore, trained: TwoTowerRun
) -> None:
    assert trained.model_dir is not None
    cfg = ServeConfig(
        models_dir=tiny_store.models,
        catalogue=None,
        store=tiny_store.cfg,
        feature_timeout_ms=5000,
    )
    features = FeatureClient(cfg.store, cfg.feature_timeout_ms, 2)
    try:
        bundle = load_bundle(cfg, trained.model_dir.name, features)
        assert set(bundle.indexes) == set(names.ITEM_TYPES)
        assert bundle.similar, "HGNN neighbours come from the store's embeddings"
        recommender = Recommender(features, Metrics())
        user = str(tiny.events[names.USER_ID].iloc[0])
        for who in (user, "never-seen"):
            body, _ = recommender.recommend(bundle, who, 5, names.AUDIOBOOK, True)
            assert not body["degraded"] and len(body["items"]) == 5
            assert all(i["item_type"] == names.AUDIOBOOK for i in body["items"])
            assert all("because" in i for i in body["items"])  # explain=True
        assert body["features_as_of"] is None  # the unknown user is cold start
    finally:
        features.close()
