"""Feature store configuration: online backend (SQLite default, Redis), paths; env-overridable."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from colisten.settings import ConfigError, feast_dir, redis_connection, settings

PROJECT = "colisten"
FEATURE_REPO_DIR = Path(__file__).resolve().parent


def default_data_dir() -> Path:
    """Where the registry, SQLite online store and offline parquet live: COLISTEN_FEAST_DIR."""
    return feast_dir()


@dataclass(frozen=True)
class FeatureStoreConfig:
    """How to reach the feature store: which online backend, where its files are."""

    online: Literal["sqlite", "redis"] = "sqlite"
    data_dir: Path = field(default_factory=default_data_dir)
    redis_connection: str = field(default_factory=redis_connection)
    """host:port[,db=N] for the Redis online store."""

    def __post_init__(self) -> None:
        if self.online not in ("sqlite", "redis"):
            raise ConfigError(
                f"online store {self.online!r} is not supported; use 'sqlite' or 'redis' "
                "(COLISTEN_ONLINE_STORE)"
            )

    @classmethod
    def from_env(cls, **overrides: object) -> FeatureStoreConfig:
        """Defaults, then COLISTEN_ONLINE_STORE / COLISTEN_FEAST_DIR / COLISTEN_REDIS_URL."""
        values: dict[str, object] = {}
        if online := settings().online_store:
            values["online"] = online
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def registry_path(self) -> Path:
        """The Feast registry file."""
        return self.data_dir / "registry.db"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite online store file."""
        return self.data_dir / "online.db"

    @property
    def offline_dir(self) -> Path:
        """Root of the offline store: one folder of parquet files per feature view."""
        return self.data_dir / "offline"
