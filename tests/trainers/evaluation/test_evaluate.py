"""`colisten evaluate` end to end on tiny (quick): every table, plots, metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.trainers.conftest import TinyWorld, fake_content
from trainers.evaluation.run import EvalConfig, run_evaluation


def test_quick_evaluation_writes_every_table(tiny: TinyWorld, tmp_path: Path) -> None:
    cfg = EvalConfig.quick(
        hgnn_overrides={"hidden_dim": 16, "out_dim": 16, "num_negatives": 2},
        tt_hidden=(32, 32, 16),
        tt_epochs=1,
        ablations=("E",),
    )
    res = run_evaluation(
        tiny.path, tmp_path, cfg, content_fn=fake_content, progress=False
    )
    tables = res["tables"]
    assert set(tables["warm"]) == {
        "Popularity",
        "LLM-KNN",
        "HGNN",
        "HGNN-w-users",
        "2T",
        "2T-HGNN",
    }
    assert set(tables["ablations"]) == {"2T-HGNN", "B", "E"}
    assert set(tables["podcasts"]) == {"Popularity", "2T", "2T-HGNN"}
    for table in ("warm", "cold", "ablations", "podcasts"):
        for m in tables[table].values():
            assert (
                0 <= m["hr10"] <= 1 and 0 <= m["mrr"] <= 1 and 0 <= m["coverage"] <= 1
            )
    for run in res["training"].values():  # no hold-out event reached any feature
        assert run["feature_max_ms"] < res["cutoff_ms"]
    assert (
        res["counts"]["warm_users"] + res["counts"]["cold_users"]
        == res["counts"]["test_users"]
    )
    for name in ("report.md", "metrics.json", "warm.png", "long_tail.png"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "metrics.json").read_text())["tables"]["cold"]
    assert "paper" in (tmp_path / "report.md").read_text()
