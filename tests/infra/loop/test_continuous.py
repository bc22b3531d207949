"""`colisten run --simulate`: scheduled retraining registers versions the API hot-swaps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from colisten.model_store import ModelStore
from colisten.world.generator import generate_world
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from infra.processes import ManagedProcess, cli_command, wait_for
from tests.online.server import free_port
from trainers import registry

pytestmark = pytest.mark.integration


def test_simulated_days_retrain_on_cadence_and_the_api_swaps(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    world = tmp_path / "world"
    generate_world("tiny", 5, world, progress=False)
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path / "feast")
    apply_definitions(open_store(store_cfg), store_cfg)
    interactions = make_topic("in", 2)
    models = tmp_path / "models"
    port = free_port()
    env = {
        "COLISTEN_FEAST_DIR": str(store_cfg.data_dir),
        "COLISTEN_ONLINE_STORE": "sqlite",
        "COLISTEN_MODELS_DIR": str(models),
        "COLISTEN_CATALOGUE": str(world / "catalogue.parquet"),
        "COLISTEN_STREAM_APP_ID": f"run-{interactions}",
        "COLISTEN_STREAM_INTERACTIONS_TOPIC": interactions,
        "COLISTEN_STREAM_PAIRS_TOPIC": make_topic("pairs", 2),
        "COLISTEN_STREAM_DLQ_TOPIC": make_topic("dlq", 1),
        "COLISTEN_STREAM_PARTITIONS": "2",
        "COLISTEN_STREAM_DATA_DIR": str(tmp_path / "stream"),
        "COLISTEN_SERVE_EVENTS_TOPIC": interactions,
        "COLISTEN_SERVE_RELOAD_INTERVAL_S": "0.2",
        "COLISTEN_SERVE_FEATURE_TIMEOUT_MS": "2000",
    }
    # each 2 s tick is half a simulated day: the two-tower (every 0.5 day) retrains on
    # every tick, the HGNN (every 2 days) only at the start
    run = ManagedProcess(
        [
            *cli_command("run"), "--world", str(world),
            "--simulate", "--days-per-minute", "15", "--hgnn-days", "2",
            "--two-tower-days", "0.5", "--hgnn-epochs", "1", "--tt-epochs", "1",
            "--port", str(port), "--log-dir", str(tmp_path / "run"),
        ],
        tmp_path / "run.log",
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def served() -> str | None:
        try:
            got = httpx.get(f"{base}/v1/users/nobody/recommendations", timeout=5)
        except httpx.HTTPError:
            return None
        return str(got.json()["model_version"]) if got.status_code == 200 else None

    try:
        wait_for(
            lambda: len(registry.list_versions("two_tower", models)) >= 2,
            600,
            1.0,
            "two scheduled two-tower versions",
            context=lambda: run.tail(30),
        )
        assert run.alive(), run.tail(30)
        second = registry.list_versions("two_tower", models)[1]
        # the API hot-swapped to a version trained after the first
        wait_for(
            lambda: (v := served()) is not None and v >= second,
            60,
            0.2,
            "the API serving the retrained version",
            context=lambda: run.tail(30),
        )
        assert registry.list_versions("hgnn", models)[:1], "the HGNN trained first"
        hgnn_cutoffs = {
            r.cutoff_ms for r in ModelStore(models).describe() if r.kind == "hgnn"
        }
        tt_cutoffs = [
            r.cutoff_ms for r in ModelStore(models).describe() if r.kind == "two_tower"
        ]
        assert len(set(tt_cutoffs)) == len(tt_cutoffs)  # a new cut-off each time
        assert min(tt_cutoffs) in hgnn_cutoffs  # the first 2T used that first HGNN
    finally:
        assert run.stop() is not None
    assert "failed training runs" in run.tail(5)
