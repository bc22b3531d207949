"""Configuration of the local services (Kafka broker, Redis): one frozen object, env-overridable."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The repository root (infra/ lives directly under it)."""


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message says which and how to fix it."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc


def env_overrides(
    cls: type, prefix: str, skip: Collection[str] = ()
) -> dict[str, object]:
    """Values of a config dataclass's fields from `<prefix><FIELD>` environment variables.

    Each is parsed by its default's type: bool from 1/true/yes; a Path field as a Path (an
    empty value is None where the field allows None); anything else as type(default)(raw).
    A value that does not parse is a ConfigError naming the variable.
    """
    base = cls()
    values: dict[str, object] = {}
    for f in fields(cls):
        name = f"{prefix}{f.name.upper()}"
        raw = os.environ.get(name)
        if raw is None or f.name in skip:
            continue
        current, annotation = getattr(base, f.name), str(f.type)
        try:
            if isinstance(current, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes")
            elif "Path" in annotation:
                values[f.name] = None if not raw and "None" in annotation else Path(raw)
            else:
                values[f.name] = type(current)(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r}: {exc}") from exc
    return values


@dataclass(frozen=True)
class ServicesConfig:
    """Where the local Kafka broker and Redis live and how they run.

    Every field can be overridden by an environment variable (named in `ENV`).
    """

    home: Path = field(default_factory=lambda: REPO_ROOT / "var")
    """State directory: pid files, logs, Kafka log dirs."""
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "-Xms256m -Xmx768m"
    kafka_jars: Path = field(
        default_factory=lambda: REPO_ROOT / "infra" / "kafka" / "lib"
    )
    kafka_start_timeout_s: float = 90.0
    redis_port: int = 6379
    redis_server: str = "redis-server"
    redis_start_timeout_s: float = 20.0

    ENV = {
        "home": "COLISTEN_HOME",
        "kafka_port": "COLISTEN_KAFKA_PORT",
        "kafka_controller_port": "COLISTEN_KAFKA_CONTROLLER_PORT",
        "kafka_heap": "COLISTEN_KAFKA_HEAP",
        "kafka_jars": "COLISTEN_KAFKA_JARS",
        "redis_port": "COLISTEN_REDIS_PORT",
        "redis_server": "COLISTEN_REDIS_SERVER",
    }

    def __post_init__(self) -> None:
        for name in ("kafka_port", "kafka_controller_port", "redis_port"):
            port = getattr(self, name)
            if not 1 <= port <= 65535:
                raise ConfigError(f"{name}={port} is not a TCP port (1-65535)")
        ports = [self.kafka_port, self.kafka_controller_port, self.redis_port]
        if len(set(ports)) != len(ports):
            raise ConfigError(
                f"kafka_port, kafka_controller_port and redis_port must differ, got {ports}"
            )

    @classmethod
    def from_env(cls, **overrides: object) -> ServicesConfig:
        """Build the config from defaults, then environment variables, then explicit overrides."""
        base = cls()
        values: dict[str, object] = {}
        for f in fields(cls):
            env = cls.ENV.get(f.name)
            if env is None or env not in os.environ:
                continue
            default = getattr(base, f.name)
            if isinstance(default, int):
                values[f.name] = _env_int(env, default)
            elif isinstance(default, Path):
                values[f.name] = Path(os.environ[env])
            else:
                values[f.name] = os.environ[env]
        values.update(overrides)
        return replace(base, **values)  # type: ignore[arg-type]

    @property
    def kafka_bootstrap(self) -> str:
        """The broker's bootstrap address for clients."""
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        """The Redis connection string (host:port) for Feast and clients."""
        return f"127.0.0.1:{self.redis_port}"


def kafka_bootstrap() -> str:
    """Kafka bootstrap servers for every client: COLISTEN_KAFKA_BOOTSTRAP, else local."""
    return (
        os.environ.get("COLISTEN_KAFKA_BOOTSTRAP")
        or ServicesConfig.from_env().kafka_bootstrap
    )


def redis_connection() -> str:
    """The Redis host:port Feast uses: COLISTEN_REDIS_URL, else the local Redis."""
    return os.environ.get("COLISTEN_REDIS_URL") or ServicesConfig.from_env().redis_url
