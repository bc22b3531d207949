"""Start, stop and inspect the local Kafka broker (KRaft, Maven Central jars) and Redis."""

from __future__ import annotations

import base64
import os
import signal
import socket
import string
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from colisten.settings import REPO_ROOT
from infra.service_config import ServicesConfig

KAFKA_DIR = REPO_ROOT / "infra" / "kafka"
KAFKA_MAIN = "kafka.Kafka"
KAFKA_STORAGE_TOOL = "kafka.tools.StorageTool"


class ServiceError(RuntimeError):
    """A service could not be started or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class ServiceStatus:
    """What we know about one service: whether it runs, its pid and where it listens."""

    name: str
    running: bool
    pid: int | None
    address: str
    log: Path


# -- process helpers -----------------------------------------------------------------


def _pid_alive(pid: int, marker: str) -> bool:
    """True when pid runs and its command line contains marker (guards against pid reuse)."""
    try:
        cmdline = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        )
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state != "Z" and marker in cmdline


def _pid_exists(pid: int) -> bool:
    """True when pid exists and is not a zombie (used while a child is still starting)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _read_pid(pid_file: Path, marker: str) -> int | None:
    """Return the live pid recorded in pid_file, removing the file if it is stale."""
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        pid_file.unlink(missing_ok=True)
        return None
    if _pid_alive(pid, marker):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop_pid(pid: int, marker: str, timeout_s: float = 15.0) -> None:
    """SIGTERM pid (its process group), wait, then SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not _pid_alive(pid, marker):
                return
            time.sleep(0.1)
    raise ServiceError(f"process {pid} ({marker}) would not stop")


def _tail(path: Path, n: int = 25) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


# -- Kafka -------------------------------------------------------------------------


def _kafka_paths(cfg: ServicesConfig) -> dict[str, Path]:
    base = cfg.home / "kafka"
    return {
        "base": base,
        "data": base / "data",
        "props": base / "server.properties",
        "pid": base / "kafka.pid",
        "log": base / "kafka.log",
    }


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, url-safe base64 without padding (22 chars).

    Like Kafka's own ``Uuid.randomUuid``, an id that starts with ``-`` is redrawn: the
    storage tool's argument parser would read it as an option (1 draw in 64).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _java_cmd(cfg: ServicesConfig, main: str, *args: str, heap: str = "") -> list[str]:
    jars = cfg.kafka_jars
    if not jars.is_dir() or not any(jars.glob("kafka_2.13-*.jar")):
        raise ServiceError(
            f"Kafka jars not found in {jars}. Run `make setup` (it resolves them from "
            "Maven Central with infra/kafka/pom.xml) or set COLISTEN_KAFKA_JARS."
        )
    log4j = (KAFKA_DIR / "log4j.properties").as_uri()
    return [
        "java",
        *heap.split(),
        f"-Dlog4j.configuration={log4j}",
        "-cp",
        f"{jars}/*",
        main,
        *args,
    ]


def _render_properties(cfg: ServicesConfig, paths: dict[str, Path]) -> None:
    template = string.Template((KAFKA_DIR / "server.properties.template").read_text())
    paths["props"].write_text(
        template.substitute(
            broker_port=cfg.kafka_port,
            controller_port=cfg.kafka_controller_port,
            log_dir=paths["data"],
        )
    )


def _format_storage(cfg: ServicesConfig, paths: dict[str, Path]) -> None:
    """Format KRaft storage once; a formatted log dir (meta.properties) is left alone."""
    if (paths["data"] / "meta.properties").exists():
        return
    paths["data"].mkdir(parents=True, exist_ok=True)
    cmd = _java_cmd(
        cfg,
        KAFKA_STORAGE_TOOL,
        "format",
        "-t",
        new_cluster_id(),
        "-c",
        str(paths["props"]),
        "--ignore-formatted",
        heap="-Xmx256m",
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise ServiceError(
            f"formatting Kafka storage failed:\n{proc.stdout}\n{proc.stderr}"
        )


def kafka_metadata_ok(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when the broker answers a metadata request (not merely accepts TCP)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout_s * 1000),
            client_id="colisten-health",
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        cluster = admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except (KafkaError, OSError, ValueError):
        return False
    finally:
        admin.close()


def kafka_up(cfg: ServicesConfig) -> ServiceStatus:
    """Start the broker if needed and wait until it serves metadata; idempotent."""
    paths = _kafka_paths(cfg)
    paths["base"].mkdir(parents=True, exist_ok=True)
    pid = _read_pid(paths["pid"], KAFKA_MAIN)
    if pid is not None:
        _wait_kafka(cfg, pid, paths["log"])
        return kafka_status(cfg)
    for port in (cfg.kafka_port, cfg.kafka_controller_port):
        if _port_in_use(port):
            raise ServiceError(
                f"port {port} is already in use by another process; stop it or set "
                "COLISTEN_KAFKA_PORT / COLISTEN_KAFKA_CONTROLLER_PORT"
            )
    _render_properties(cfg, paths)
    _format_storage(cfg, paths)
    cmd = _java_cmd(cfg, KAFKA_MAIN, str(paths["props"]), heap=cfg.kafka_heap)
    with paths["log"].open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    paths["pid"].write_text(str(proc.pid))
    _wait_kafka(cfg, proc.pid, paths["log"])
    return kafka_status(cfg)


def _wait_kafka(cfg: ServicesConfig, pid: int, log: Path) -> None:
    deadline = time.monotonic() + cfg.kafka_start_timeout_s
    while time.monotonic() < deadline:
        if not _pid_exists(pid):
            raise ServiceError(
                f"Kafka exited during start-up; last log lines:\n{_tail(log)}"
            )
        if kafka_metadata_ok(cfg.kafka_bootstrap):
            return
        time.sleep(0.25)
    raise ServiceError(
        f"Kafka did not answer metadata within {cfg.kafka_start_timeout_s}s:\n{_tail(log)}"
    )


def kafka_down(cfg: ServicesConfig) -> None:
    """Stop exactly the broker recorded in the pid file (no-op when none runs)."""
    paths = _kafka_paths(cfg)
    pid = _read_pid(paths["pid"], KAFKA_MAIN)
    if pid is not None:
        _stop_pid(pid, KAFKA_MAIN)
    paths["pid"].unlink(missing_ok=True)


def kafka_status(cfg: ServicesConfig) -> ServiceStatus:
    """Report whether the broker recorded in the pid file runs."""
    paths = _kafka_paths(cfg)
    pid = _read_pid(paths["pid"], KAFKA_MAIN)
    return ServiceStatus(
        "kafka", pid is not None, pid, cfg.kafka_bootstrap, paths["log"]
    )


# -- Redis -------------------------------------------------------------------------

REDIS_MARKER = "redis-server"


def _redis_paths(cfg: ServicesConfig) -> dict[str, Path]:
    base = cfg.home / "redis"
    return {"base": base, "pid": base / "redis.pid", "log": base / "redis.log"}


def redis_ping(port: int, timeout_s: float = 1.0) -> bool:
    """True when a Redis server on 127.0.0.1:port answers PING."""
    import redis

    try:
        return bool(
            redis.Redis(
                host="127.0.0.1",
                port=port,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
            ).ping()
        )
    except (redis.RedisError, OSError):
        return False


def redis_up(cfg: ServicesConfig) -> ServiceStatus:
    """Start redis-server (loopback, no persistence) if needed and wait for PING; idempotent."""
    import shutil

    paths = _redis_paths(cfg)
    paths["base"].mkdir(parents=True, exist_ok=True)
    pid = _read_pid(paths["pid"], REDIS_MARKER)
    if pid is None:
        binary = shutil.which(cfg.redis_server)
        if binary is None:
            raise ServiceError(
                f"{cfg.redis_server!r} not found. Run `make setup` (it installs Debian's "
                "redis-server package) or set COLISTEN_REDIS_SERVER."
            )
        if _port_in_use(cfg.redis_port):
            raise ServiceError(
                f"port {cfg.redis_port} is already in use; set "
                "COLISTEN_REDIS_PORT to a free port"
            )
        cmd = [
            binary,
            "--port",
            str(cfg.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(paths["base"]),
        ]
        with paths["log"].open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        pid = proc.pid
        paths["pid"].write_text(str(pid))
    deadline = time.monotonic() + cfg.redis_start_timeout_s
    while not redis_ping(cfg.redis_port):
        if not _pid_exists(pid):
            raise ServiceError(
                f"redis-server exited; last log lines:\n{_tail(paths['log'])}"
            )
        if time.monotonic() > deadline:
            raise ServiceError(
                f"redis-server did not answer PING:\n{_tail(paths['log'])}"
            )
        time.sleep(0.1)
    return redis_status(cfg)


def redis_down(cfg: ServicesConfig) -> None:
    """Stop exactly the redis-server recorded in the pid file (no-op when none runs)."""
    paths = _redis_paths(cfg)
    pid = _read_pid(paths["pid"], REDIS_MARKER)
    if pid is not None:
        _stop_pid(pid, REDIS_MARKER)
    paths["pid"].unlink(missing_ok=True)


def redis_status(cfg: ServicesConfig) -> ServiceStatus:
    """Report whether the redis-server recorded in the pid file runs."""
    paths = _redis_paths(cfg)
    pid = _read_pid(paths["pid"], REDIS_MARKER)
    return ServiceStatus("redis", pid is not None, pid, cfg.redis_url, paths["log"])


def all_up(cfg: ServicesConfig) -> list[ServiceStatus]:
    """Start Kafka and Redis (idempotent) and return their status."""
    return [kafka_up(cfg), redis_up(cfg)]


def all_down(cfg: ServicesConfig) -> None:
    """Stop Kafka and Redis if they run."""
    redis_down(cfg)
    kafka_down(cfg)


def all_status(cfg: ServicesConfig) -> list[ServiceStatus]:
    """Status of Kafka and Redis."""
    return [kafka_status(cfg), redis_status(cfg)]
