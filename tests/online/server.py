"""Start the real API (`colisten serve` under uvicorn) as a child process, for tests and benches."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx

from colisten.settings import REPO_ROOT
from feature_repo.config import FeatureStoreConfig
from infra.processes import ManagedProcess, cli_command, wait_for
from tests.online.tower import ENCODER_SPEC


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_env(
    models_dir: Path,
    store_cfg: FeatureStoreConfig,
    catalogue: Path | None,
    bootstrap: str,
    topic: str,
    **serve: str,
) -> dict[str, str]:
    """Environment of an API process serving models_dir from store_cfg."""
    env = {
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
        ),
        "COLISTEN_SERVE_MODELS_DIR": str(models_dir),
        "COLISTEN_SERVE_INDEX_DIR": str(models_dir.parent / "serving"),
        "COLISTEN_SERVE_ENCODER": ENCODER_SPEC,
        "COLISTEN_SERVE_EVENTS_TOPIC": topic,
        "COLISTEN_KAFKA_BOOTSTRAP": bootstrap,
        "COLISTEN_FEAST_DIR": str(store_cfg.data_dir),
        "COLISTEN_ONLINE_STORE": store_cfg.online,
        "COLISTEN_REDIS_URL": store_cfg.redis_connection,
        "COLISTEN_SERVE_RELOAD_INTERVAL_S": "0.2",
        "COLISTEN_SERVE_FEATURE_TIMEOUT_MS": "1000",
    }
    if catalogue is not None:
        env["COLISTEN_CATALOGUE"] = str(catalogue)
    env.update({f"COLISTEN_SERVE_{k.upper()}": v for k, v in serve.items()})
    return env


def start_api(
    env: dict[str, str], log: Path, port: int | None = None, timeout_s: float = 90.0
) -> tuple[ManagedProcess, str]:
    """Run `colisten serve` with env; return the process and its base URL once ready."""
    port = port or free_port()
    proc = ManagedProcess(cli_command("serve", "--port", str(port)), log, env=env)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if not proc.alive():
            raise AssertionError(f"API exited {proc.proc.returncode}:\n{proc.tail(40)}")
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, timeout_s, 0.2, "API ready")
    except BaseException:
        print(proc.tail(40))
        proc.stop()
        raise
    return proc, base
