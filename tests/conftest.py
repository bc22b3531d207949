"""Shared fixtures: the real local services, fresh topics, isolated Feast stores."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from feature_repo.config import FeatureStoreConfig  # noqa: E402
from infra.service_config import ServicesConfig  # noqa: E402

TEST_REDIS_DB = 3
"""Tests use their own Redis database, flushed per test, never the default db 0."""


@pytest.fixture(scope="session")
def services_cfg() -> ServicesConfig:
    """The configuration of the shared local services."""
    return ServicesConfig.from_env()


@pytest.fixture(scope="session")
def services(services_cfg: ServicesConfig) -> ServicesConfig:
    """Kafka and Redis up (started if needed; `make test` stops them afterwards)."""
    from infra import services as svc

    svc.all_up(services_cfg)
    return services_cfg


@pytest.fixture(scope="session")
def kafka_bootstrap(services: ServicesConfig) -> str:
    """Bootstrap address of the real broker."""
    return services.kafka_bootstrap


@pytest.fixture
def make_topic(kafka_bootstrap: str) -> Iterator[Callable[..., str]]:
    """Factory for fresh, uniquely named topics; deleted after the test."""
    from infra.topics import TopicSpec, delete_topics, ensure_topics

    created: list[str] = []

    def make(prefix: str = "t", partitions: int = 4) -> str:
        name = f"test.{prefix}.{uuid.uuid4().hex[:10]}"
        ensure_topics([TopicSpec(name, partitions, {})], kafka_bootstrap)
        created.append(name)
        return name

    yield make
    if created:
        delete_topics(created, kafka_bootstrap)


@pytest.fixture
def redis_url(services: ServicesConfig) -> str:
    """A flushed Redis database for this test, as a Feast connection string."""
    import redis

    redis.Redis(host="127.0.0.1", port=services.redis_port, db=TEST_REDIS_DB).flushdb()
    return f"127.0.0.1:{services.redis_port},db={TEST_REDIS_DB}"


@pytest.fixture(params=["sqlite", "redis"])
def store_cfg(request: pytest.FixtureRequest, tmp_path: Path) -> FeatureStoreConfig:
    """An isolated Feast store config, once per online backend."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return FeatureStoreConfig(
            online="redis", data_dir=tmp_path / "feast", redis_connection=url
        )
    return FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
