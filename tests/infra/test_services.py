"""The service lifecycle against the real broker and redis-server, in an isolated home."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from colisten.settings import ConfigError
from infra import services
from infra.processes import cli_command
from infra.service_config import ServicesConfig


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def isolated(tmp_path: Path) -> ServicesConfig:
    """A second Kafka + Redis on free ports with their own state dir."""
    return ServicesConfig(
        home=tmp_path / "home",
        kafka_port=_free_port(),
        kafka_controller_port=_free_port(),
        redis_port=_free_port(),
    )


@pytest.mark.integration
def test_up_twice_down_up_again(isolated: ServicesConfig) -> None:
    try:
        first = services.all_up(isolated)
        assert all(s.running for s in first)
        assert services.kafka_metadata_ok(isolated.kafka_bootstrap)
        assert services.redis_ping(isolated.redis_port)
        second = services.all_up(isolated)
        assert [s.pid for s in second] == [s.pid for s in first], "up twice restarted"

        services.all_down(isolated)
        assert not any(s.running for s in services.all_status(isolated))
        assert not services.kafka_metadata_ok(isolated.kafka_bootstrap, timeout_s=1)
        assert not services.redis_ping(isolated.redis_port)

        again = services.all_up(isolated)
        assert all(s.running for s in again)
        assert services.kafka_metadata_ok(isolated.kafka_bootstrap)
    finally:
        services.all_down(isolated)


@pytest.mark.integration
def test_stale_pid_file_is_handled(isolated: ServicesConfig) -> None:
    pid_file = isolated.home / "redis" / "redis.pid"
    pid_file.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file.write_text(str(dead.pid))
    assert not services.redis_status(isolated).running
    assert not pid_file.exists()
    try:
        assert services.redis_up(isolated).running
        assert services.redis_ping(isolated.redis_port)
    finally:
        services.redis_down(isolated)


def test_wrong_port_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="kafka_port=70000 is not a TCP port"):
        ServicesConfig(kafka_port=70000)
    with pytest.raises(ConfigError, match="must differ"):
        ServicesConfig(kafka_port=9092, redis_port=9092)


def test_non_integer_env_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLISTEN_KAFKA_PORT", "ninety")
    with pytest.raises(
        ConfigError, match="COLISTEN_KAFKA_PORT='ninety' is not an integer"
    ):
        ServicesConfig.from_env()


def test_missing_kafka_jars_say_how_to_fix(
    isolated: ServicesConfig, tmp_path: Path
) -> None:
    cfg = ServicesConfig(
        home=isolated.home,
        kafka_port=isolated.kafka_port,
        kafka_controller_port=isolated.kafka_controller_port,
        redis_port=isolated.redis_port,
        kafka_jars=tmp_path / "nojars",
    )
    with pytest.raises(services.ServiceError, match="make setup"):
        services.kafka_up(cfg)


@pytest.mark.integration
def test_port_taken_by_a_stranger_is_a_clear_error(isolated: ServicesConfig) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", isolated.redis_port))
        sock.listen()
        with pytest.raises(services.ServiceError, match="already in use"):
            services.redis_up(isolated)


def test_cli_reports_wrong_config_without_traceback() -> None:
    env = {**os.environ, "COLISTEN_REDIS_PORT": "0"}
    proc = subprocess.run(
        cli_command("services", "status"),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "redis_port=0 is not a TCP port" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def _uuids_with_first_byte(*first: int) -> list[uuid.UUID]:
    return [uuid.UUID(bytes=bytes([b]) + bytes(range(1, 16))) for b in first]


def test_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # First byte 0xF8 encodes to '-' (base64url index 62); 0x00 encodes to 'A'.
    draws = iter(_uuids_with_first_byte(0xF8, 0xF9, 0x00))
    monkeypatch.setattr(services.uuid, "uuid4", lambda: next(draws))
    cluster_id = services.new_cluster_id()
    assert cluster_id.startswith("A")
    assert len(cluster_id) == 22


@pytest.mark.integration
def test_storage_formats_after_a_dash_id_was_drawn(
    isolated: ServicesConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CI failure this guards against: kafka-storage read '-…' as an option.
    draws = iter(_uuids_with_first_byte(0xFB, 0x42))
    monkeypatch.setattr(services.uuid, "uuid4", lambda: next(draws))
    paths = services._kafka_paths(isolated)
    paths["base"].mkdir(parents=True)
    services._render_properties(isolated, paths)
    services._format_storage(isolated, paths)
    meta = (paths["data"] / "meta.properties").read_text()
    assert "cluster.id=Q" in meta
