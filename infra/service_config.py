"""Configuration of the local services (Kafka broker, Redis): one frozen object, env-overridable."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from colisten.settings import Settings, check_ports, settings

_DEFAULTS = Settings()
"""The services' defaults are the settings' (one source: colisten/settings.py)."""


@dataclass(frozen=True)
class ServicesConfig:
    """Where the local Kafka broker and Redis live and how they run.

    Each field but the timeouts is a `Settings` field of the same name, overridden by
    COLISTEN_<FIELD> (COLISTEN_HOME, COLISTEN_KAFKA_PORT, ...; see colisten/settings.py).
    """

    home: Path = _DEFAULTS.home
    """State directory: pid files, logs, Kafka log dirs."""
    kafka_port: int = _DEFAULTS.kafka_port
    kafka_controller_port: int = _DEFAULTS.kafka_controller_port
    kafka_heap: str = _DEFAULTS.kafka_heap
    kafka_jars: Path = _DEFAULTS.kafka_jars
    kafka_start_timeout_s: float = 90.0
    redis_port: int = _DEFAULTS.redis_port
    redis_server: str = _DEFAULTS.redis_server
    redis_start_timeout_s: float = 20.0

    def __post_init__(self) -> None:
        check_ports(self.kafka_port, self.kafka_controller_port, self.redis_port)

    @classmethod
    def from_env(cls, **overrides: object) -> ServicesConfig:
        """Build the config from defaults, then environment variables, then explicit overrides."""
        s = settings()
        values: dict[str, object] = {
            "home": s.home,
            "kafka_port": s.kafka_port,
            "kafka_controller_port": s.kafka_controller_port,
            "kafka_heap": s.kafka_heap,
            "kafka_jars": s.kafka_jars,
            "redis_port": s.redis_port,
            "redis_server": s.redis_server,
        }
        return replace(cls(), **(values | overrides))  # type: ignore[arg-type]

    @property
    def kafka_bootstrap(self) -> str:
        """The broker's bootstrap address for clients."""
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        """The Redis connection string (host:port) for Feast and clients."""
        return f"127.0.0.1:{self.redis_port}"
