"""`colisten store materialize` fills a Redis online store equal to the reference."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from feature_repo.config import FeatureStoreConfig
from feature_repo.sources import offline_path
from feature_repo.store import open_store
from infra.cli import app
from stream_processors.reference import expected_views
from stream_processors.verify import diff_view
from tests.trainers.conftest import TinyWorld

pytestmark = pytest.mark.integration


def test_materialize_command_fills_redis(
    tiny: TinyWorld, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "feast"
    monkeypatch.setenv("COLISTEN_ONLINE_STORE", "redis")
    monkeypatch.setenv("COLISTEN_FEAST_DIR", str(data_dir))
    monkeypatch.setenv("COLISTEN_REDIS_URL", redis_url)
    out = CliRunner().invoke(
        app, ["store", "materialize", "--world", str(tiny.path), "--cutoff", "split"]
    )
    assert out.exit_code == 0, out.output
    split = tiny.manifest.split_ms
    n_events = int((tiny.events["ts"] < split).sum())
    assert f"{n_events:,} events before {split}" in out.output
    assert "redis online store" in out.output

    cfg = FeatureStoreConfig(
        online="redis", data_dir=data_dir, redis_connection=redis_url
    )
    store = open_store(cfg)
    pairs = sorted(
        set(pd.read_parquet(offline_path("colisten_edges", data_dir))["pair_id"])
    )
    for view, want in expected_views(tiny.events[tiny.events["ts"] < split], 4).items():
        extra = pairs if view == "colisten_edges" else None
        assert diff_view(store, view, want, extra_keys=extra, limit=5) == [], view


def test_materialize_command_rejects_a_bad_world(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["store", "materialize", "--world", str(tmp_path)])
    assert out.exit_code != 0
    assert "not a world directory" in " ".join(out.output.split())
