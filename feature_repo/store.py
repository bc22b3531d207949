"""Open the Feast store for a FeatureStoreConfig and apply colisten's definitions to it."""

from __future__ import annotations

from typing import Any

from feast import FeatureStore, RepoConfig
from feast.infra.offline_stores.duckdb import DuckDBOfflineStoreConfig
from feast.infra.online_stores.redis import RedisOnlineStoreConfig
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig

from feature_repo.config import FEATURE_REPO_DIR, PROJECT, FeatureStoreConfig


def repo_config(cfg: FeatureStoreConfig) -> RepoConfig:
    """The Feast RepoConfig for cfg (what feature_store.yaml would say)."""
    online: Any
    if cfg.online == "redis":
        online = RedisOnlineStoreConfig(connection_string=cfg.redis_connection)
    else:
        online = SqliteOnlineStoreConfig(path=str(cfg.sqlite_path))
    return RepoConfig(
        project=PROJECT,
        provider="local",
        registry=str(cfg.registry_path),
        online_store=online,
        offline_store=DuckDBOfflineStoreConfig(),
        entity_key_serialization_version=3,
        repo_path=FEATURE_REPO_DIR,
    )


def open_store(cfg: FeatureStoreConfig | None = None) -> FeatureStore:
    """A FeatureStore for cfg (defaults from the environment); the data dir is created."""
    cfg = cfg or FeatureStoreConfig.from_env()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return FeatureStore(config=repo_config(cfg))


def apply_definitions(
    store: FeatureStore, cfg: FeatureStoreConfig | None = None
) -> None:
    """Register every entity, source, view and service, and prepare their offline folders."""
    from feature_repo import definitions
    from feature_repo.sources import ensure_offline_folder

    cfg = cfg or FeatureStoreConfig.from_env()
    for view, schema in definitions.OFFLINE_SCHEMAS.items():
        ensure_offline_folder(view, schema, cfg.data_dir)
    store.apply(definitions.objects(cfg.data_dir))
