"""Every `COLISTEN_*` environment variable, read one way, typed; unknown names rejected.

The ground floor of configuration: every stage may import it, it imports no stage. Two
kinds of variable exist:

- the fixed ones, one field of `Settings` each (`COLISTEN_<FIELD>`): the state dir and
  the dirs under it, the service ports and addresses, the partition count...;
- the stage families `COLISTEN_STREAM_<FIELD>` and `COLISTEN_SERVE_<FIELD>`, one per
  field of the stream worker's and the API's config, read by `env_overrides` when that
  stage loads its config (a name in a family that is no field is rejected there).

Any other `COLISTEN_*` name is a typo or a stale setting: `check_environment` rejects it
with the list of valid names, and every read of the environment checks first.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The repository root (colisten/ lives directly under it)."""

PREFIX = "COLISTEN_"
DEFAULT_PARTITIONS = 4
"""Partitions of the keyed topics unless COLISTEN_PARTITIONS says otherwise."""
STAGE_PREFIXES = ("COLISTEN_STREAM_", "COLISTEN_SERVE_")
"""Families of variables owned by a stage config (stream worker, API), one per field."""


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """The fixed `COLISTEN_<FIELD>` variables; None: unset, the documented default applies."""

    home: Path = REPO_ROOT / "var"
    """State dir: services' pid files, logs and Kafka log dirs; the dirs below default
    under it."""
    feast_dir: Path | None = None
    """Feast registry, SQLite online store and offline parquet (default <home>/feast)."""
    models_dir: Path | None = None
    """The model registry (default <home>/models)."""
    cache_dir: Path | None = None
    """Cached item text embeddings (default <home>/cache/text)."""
    catalogue: Path | None = None
    """catalogue.parquet the API takes titles and genres from (None: ids only)."""
    text_model: str | None = None
    """Sentence model for item text (None: the packaged all-MiniLM-L6-v2)."""
    online_store: str | None = None
    """Feast online store: sqlite or redis (None: FeatureStoreConfig's default)."""
    kafka_bootstrap: str | None = None
    """Kafka bootstrap servers (None: the local broker on kafka_port)."""
    redis_url: str | None = None
    """Redis host:port[,db=N] for Feast (None: the local Redis on redis_port)."""
    partitions: int = DEFAULT_PARTITIONS
    """Partitions of the keyed topics (interactions, colisten.pairs): the stream worker,
    the topics and the batch materialisation all follow it."""
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "-Xms256m -Xmx768m"
    kafka_jars: Path = REPO_ROOT / "infra" / "kafka" / "lib"
    redis_port: int = 6379
    redis_server: str = "redis-server"
    shared_dir: Path | None = None
    """Shared read-only data (datasets) for the tests (None: <repo>/../shared)."""

    def __post_init__(self) -> None:
        check_ports(self.kafka_port, self.kafka_controller_port, self.redis_port)
        if self.partitions < 1:
            raise ConfigError(f"partitions={self.partitions} must be >= 1")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the COLISTEN_<FIELD> environment variables, then overrides."""
        check_environment()
        values = _parse_fields(cls, PREFIX, os.environ) | overrides
        return replace(cls(), **values)  # type: ignore[arg-type]


def check_ports(kafka: int, controller: int, redis: int) -> None:
    """Each port a TCP port, no two the same; else a ConfigError naming them."""
    ports = {
        "kafka_port": kafka,
        "kafka_controller_port": controller,
        "redis_port": redis,
    }
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            raise ConfigError(f"{name}={port} is not a TCP port (1-65535)")
    if len(set(ports.values())) != len(ports):
        raise ConfigError(
            "kafka_port, kafka_controller_port and redis_port must differ, "
            f"got {list(ports.values())}"
        )


def fixed_names() -> list[str]:
    """The fixed variable names, one per Settings field."""
    return [f"{PREFIX}{f.name.upper()}" for f in fields(Settings)]


def valid_names() -> list[str]:
    """Every valid name: the fixed ones, then the stage families as `<PREFIX><FIELD>`."""
    return [*fixed_names(), *(f"{p}<FIELD>" for p in STAGE_PREFIXES)]


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Reject any COLISTEN_* name that is neither fixed nor in a stage family."""
    env = os.environ if environ is None else environ
    known = set(fixed_names())
    unknown = sorted(
        name
        for name in env
        if name.startswith(PREFIX)
        and name not in known
        and not name.startswith(STAGE_PREFIXES)
    )
    _reject(unknown, valid_names(), "names")


def _reject(unknown: list[str], valid: list[str], what: str) -> None:
    """A ConfigError naming the unknown variables and the valid ones, if any is unknown."""
    if unknown:
        raise ConfigError(
            f"unknown environment variable{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; the valid {what} are: {', '.join(valid)}"
        )


def env_overrides(
    cls: type, prefix: str, skip: Collection[str] = ()
) -> dict[str, object]:
    """Values of a config dataclass's fields from `<prefix><FIELD>` environment variables.

    Each is parsed by its default's type: bool from 1/true/yes; a Path field as a Path (an
    empty value is None where the field allows None); anything else as type(default)(raw).
    Fields in skip are not read. A value that does not parse, or a `<prefix>` name that
    is no field of cls, is a ConfigError naming the variable.
    """
    check_environment()
    allowed = {f"{prefix}{f.name.upper()}" for f in fields(cls)}
    unknown = sorted(n for n in os.environ if n.startswith(prefix) and n not in allowed)
    _reject(unknown, sorted(allowed), f"{prefix}* names")
    return _parse_fields(cls, prefix, os.environ, skip, empty_is_unset=False)


def _parse_fields(
    cls: type,
    prefix: str,
    environ: Mapping[str, str],
    skip: Collection[str] = (),
    empty_is_unset: bool = True,
) -> dict[str, object]:
    """The set `<prefix><FIELD>` variables of cls's fields, each parsed by its type."""
    base = cls()
    values: dict[str, object] = {}
    for f in fields(cls):
        name = f"{prefix}{f.name.upper()}"
        raw = environ.get(name)
        if raw is None or f.name in skip or (empty_is_unset and raw == ""):
            continue
        values[f.name] = _parse(name, raw, getattr(base, f.name), str(f.type))
    return values


def _parse(name: str, raw: str, current: Any, annotation: str) -> object:
    """One variable's value, by the field's default and annotation."""
    if isinstance(current, bool):
        return raw.lower() in ("1", "true", "yes")
    if "Path" in annotation:
        # absolute now: Feast resolves a relative store path against the feature repo,
        # not the directory the command was started in
        return None if not raw and "None" in annotation else Path(raw).resolve()
    kind = type(current) if current is not None else str
    try:
        return kind(raw)
    except ValueError as exc:
        what = {int: "an integer", float: "a number"}.get(kind, repr(kind.__name__))
        raise ConfigError(f"{name}={raw!r} is not {what}") from exc


def settings() -> Settings:
    """The fixed settings as the environment has them now (read afresh each call)."""
    return Settings.from_env()


def feast_dir() -> Path:
    """Where the Feast registry, SQLite online store and offline parquet live."""
    s = settings()
    return s.feast_dir or s.home / "feast"


def models_dir() -> Path:
    """The model registry's root."""
    s = settings()
    return s.models_dir or s.home / "models"


def cache_dir() -> Path:
    """Where item text embeddings are cached."""
    s = settings()
    return s.cache_dir or s.home / "cache" / "text"


def stream_dir() -> Path:
    """The stream worker's local state (on-disk tables, expiry schedules)."""
    return settings().home / "stream"


def kafka_bootstrap() -> str:
    """Kafka bootstrap servers for every client: COLISTEN_KAFKA_BOOTSTRAP, else local."""
    s = settings()
    return s.kafka_bootstrap or f"127.0.0.1:{s.kafka_port}"


def redis_connection() -> str:
    """The Redis host:port Feast uses: COLISTEN_REDIS_URL, else the local Redis."""
    s = settings()
    return s.redis_url or f"127.0.0.1:{s.redis_port}"
