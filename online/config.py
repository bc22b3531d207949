"""Configuration of the serving API: one frozen object, every field overridable by env."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from colisten import names
from colisten.model_store import ModelStore
from colisten.retrieval import DEFAULT_THRESHOLD
from colisten.settings import ConfigError, env_overrides, kafka_bootstrap, settings
from colisten.settings import models_dir as default_models_dir
from feature_repo.config import FeatureStoreConfig

ENV_PREFIX = "COLISTEN_SERVE_"


def _default_catalogue() -> Path | None:
    return settings().catalogue


def _default_index_dir() -> Path:
    return settings().home / "serving"


@dataclass(frozen=True)
class ServeConfig:
    """How the API serves; env var COLISTEN_SERVE_<FIELD> overrides each scalar field.

    The feature store comes from FeatureStoreConfig.from_env (COLISTEN_ONLINE_STORE, ...),
    Kafka from COLISTEN_KAFKA_BOOTSTRAP, the model registry from COLISTEN_MODELS_DIR.
    """

    models_dir: Path = field(default_factory=default_models_dir)
    """Model store root: <models_dir>/two_tower/<version>/ and a `latest` pointer."""
    index_dir: Path = field(default_factory=_default_index_dir)
    """Where the API keeps the indexes it builds itself (<index_dir>/two_tower/<version>/):
    kept out of the model store, which only trainers write (default <home>/serving)."""
    catalogue: Path | None = field(default_factory=_default_catalogue)
    """catalogue.parquet giving titles and genres (COLISTEN_CATALOGUE); None: ids only."""
    encoder: str = "colisten.user_encoder:UserEncoder"
    """module:Class of the user tower; it must offer load(model_dir) and encode(rows)."""
    store: FeatureStoreConfig = field(default_factory=FeatureStoreConfig.from_env)
    bootstrap: str = field(default_factory=kafka_bootstrap)
    events_topic: str = names.INTERACTIONS_TOPIC
    feature_timeout_ms: int = 50
    """Slower feature fetches are abandoned: popularity fallback, degraded=true."""
    feature_threads: int = 8
    kafka_timeout_ms: int = 5000
    """How long POST /v1/events waits for the broker's acknowledgement."""
    exact_threshold: int = DEFAULT_THRESHOLD
    """Catalogues smaller than this are searched exactly, larger ones with Annoy."""
    annoy_trees: int = 50
    annoy_search_k: int = 0
    """0: the index manifest's search_k (chosen at build time for recall@10 >= 0.95)."""
    k_default: int = 10
    k_max: int = 100
    max_body_bytes: int = 16 * 1024
    reload_interval_s: float = 2.0
    """How often the watcher polls `latest` for a new model version."""
    sample_users: str = ""
    """Comma-separated user ids the web page offers to pick from (typing works too)."""
    event_time_offset_ms: int = 0
    """Added to the wall clock by GET /v1/clock, which clients (the web page) use to stamp
    events; non-zero only for simulated worlds whose timeline is not today's."""

    def __post_init__(self) -> None:
        if not 1 <= self.k_default <= self.k_max:
            raise ConfigError("need 1 <= k_default <= k_max")
        if self.feature_timeout_ms <= 0 or self.kafka_timeout_ms <= 0:
            raise ConfigError("timeouts must be > 0 ms")
        if self.max_body_bytes < 256:
            raise ConfigError("max_body_bytes must be >= 256")
        if self.reload_interval_s <= 0:
            raise ConfigError("reload_interval_s must be > 0")
        if ":" not in self.encoder:
            raise ConfigError(f"encoder {self.encoder!r} must be 'module:Class'")

    @property
    def model_store(self) -> ModelStore:
        """The model store the API serves from (read only)."""
        return ModelStore(self.models_dir)

    @classmethod
    def from_env(cls, **overrides: object) -> ServeConfig:
        """Defaults, then COLISTEN_SERVE_* environment variables, then overrides."""
        values = env_overrides(cls, ENV_PREFIX, skip=("store",)) | overrides
        return replace(cls(), **values)  # type: ignore[arg-type]
