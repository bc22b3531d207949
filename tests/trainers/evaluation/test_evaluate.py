"""`colisten evaluate` end to end on tiny (quick): every table, plots, metrics.json."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.trainers.conftest import TinyWorld, fake_content
from trainers.evaluation.resume import ReuseError
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
    refs = ["Genre × popularity", "Pending weak signals"]
    refs += ["Oracle"] if res["reference"]["oracle"] else []
    assert res["reference"]["rows"] == refs
    ew = "2T-HGNN (example weights)"
    learned = {"Popularity", "LLM-KNN", "HGNN", "HGNN-w-users", "2T", "2T-HGNN", ew}
    assert set(tables["warm"]) == learned | set(refs)
    cold = {"Popularity", "HGNN-w-users", "2T", "2T-HGNN", ew}
    assert set(tables["cold"]) == cold | set(refs)
    assert set(tables["long_tail"]) == learned | set(refs)
    tier = tables["long_tail"]["2T-HGNN"]["1"]
    assert tier["hr10_ci"][0] <= tier["hr10"] <= tier["hr10_ci"][1]
    paired = res["paired"]
    assert set(paired["warm"]) == set(tables["warm"]) - {"2T-HGNN"}
    assert set(paired["podcasts"]) == {"Popularity", "2T"}
    for by in paired["warm"].values():
        d = by["hr10"]
        assert d["ci"][0] <= d["diff"] <= d["ci"][1] and 0 < d["p"] <= 1
    assert res["seeds"] == [0] and tables["warm"]["2T-HGNN"]["hr10_sd"] is None
    assert set(tables["ablations"]) == {"2T-HGNN", "B", "E"}
    assert set(tables["ablations_knn"]) == {"HGNN", "HGNN E"}
    assert set(paired["ablations_knn"]) == {"HGNN E"}  # paired with the full HGNN
    e, full = tables["ablations_knn"]["HGNN E"], tables["ablations_knn"]["HGNN"]
    assert e != full  # its own HGNN's vectors, not the full model's
    assert set(tables["podcasts"]) == {"Popularity", "2T", "2T-HGNN"}
    for table in ("warm", "cold", "ablations", "ablations_knn", "podcasts"):
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
    for name in (
        "report.md",
        "metrics.json",
        "warm.png",
        "long_tail.png",
        "paired.png",
    ):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "metrics.json").read_text())["tables"]["cold"]
    md = (tmp_path / "report.md").read_text()
    assert "paper" in md and "(reference)" in md and "Paired tests" in md
    assert "HGNN minus each row" in md and "E) a-a only graph" in md


def _one_epoch(**kw: object) -> EvalConfig:
    """Smallest models, one epoch each, audiobooks only."""
    return EvalConfig.quick(
        hgnn_overrides={"hidden_dim": 16, "out_dim": 16, "num_negatives": 2},
        tt_hidden=(16, 16, 8),
        tt_epochs=1,
        hgnn_epochs=1,
        podcasts=False,
        **kw,
    )


@pytest.mark.slow
def test_several_seeds_train_apart_and_report_spread(
    tiny: TinyWorld, tmp_path: Path
) -> None:
    cfg = _one_epoch(with_users=False, seeds=(0, 1))
    res = run_evaluation(
        tiny.path, tmp_path, cfg, content_fn=fake_content, progress=False
    )
    runs = res["seed_runs"]
    assert set(runs) == {"0", "1"}
    dirs = [Path(r["models"]["2T-HGNN"]) for r in runs.values()]
    assert dirs[0] != dirs[1] and all(d.is_dir() for d in dirs)
    assert dirs[0].is_relative_to(tmp_path / "models" / "seed-0")
    warm = res["tables"]["warm"]
    for name in ("HGNN", "2T", "2T-HGNN"):
        assert warm[name]["seeds"] == [0, 1] and len(warm[name]["hr10_by_seed"]) == 2
        assert warm[name]["hr10"] == pytest.approx(np.mean(warm[name]["hr10_by_seed"]))
        assert warm[name]["hr10_sd"] is not None
    assert "seeds" not in warm["Popularity"]
    assert "sd over seeds" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_reuse_takes_an_earlier_runs_seeds_and_trains_the_rest(
    tiny: TinyWorld, tmp_path: Path
) -> None:
    cfg = _one_epoch()
    first = run_evaluation(
        tiny.path, tmp_path / "a", cfg, content_fn=fake_content, progress=False
    )
    assert (tmp_path / "a" / "models" / "with_users" / "seed-0.parquet").exists()
    both = replace(cfg, seeds=(0, 1))
    res = run_evaluation(
        tiny.path,
        tmp_path / "b",
        both,
        content_fn=fake_content,
        progress=False,
        reuse=[tmp_path / "a"],
    )
    assert res["reused"] == {"0": str(tmp_path / "a")}
    # saved where a later --reuse of this several-seed run looks
    assert (tmp_path / "b" / "models" / "with_users" / "seed-1.parquet").exists()
    runs = res["seed_runs"]
    assert runs["0"]["models"] == first["models"]  # taken, not retrained
    assert Path(runs["1"]["models"]["2T-HGNN"]).is_relative_to(tmp_path / "b")
    warm = res["tables"]["warm"]
    for name in ("HGNN", "HGNN-w-users", "2T-HGNN"):  # seed 0's figures are the same
        assert warm[name]["hr10_by_seed"][0] == first["tables"]["warm"][name]["hr10"]
    with pytest.raises(ReuseError, match="tt_epochs"):
        run_evaluation(
            tiny.path,
            tmp_path / "c",
            replace(both, tt_epochs=2),
            content_fn=fake_content,
            progress=False,
            reuse=[tmp_path / "a"],
        )


@pytest.mark.slow
def test_reuse_trains_only_the_models_an_earlier_run_lacks(
    tiny: TinyWorld, tmp_path: Path
) -> None:
    cfg = _one_epoch(with_users=False)
    first = run_evaluation(
        tiny.path, tmp_path / "a", cfg, content_fn=fake_content, progress=False
    )
    res = run_evaluation(
        tiny.path,
        tmp_path / "b",
        replace(cfg, ablations=("E",)),
        content_fn=fake_content,
        progress=False,
        reuse=[tmp_path / "a"],
    )
    old, new = first["models"], res["models"]
    assert new["hgnn"]["full"] == old["hgnn"]["full"]  # taken, not retrained
    assert "E" in new["hgnn"] and new["hgnn"]["E"] != old["hgnn"]["full"]
    taken = {k for k in old if k != "hgnn"}
    assert all(new[k] == old[k] for k in taken)  # the two-towers it had
    added = set(new) - set(old)
    assert added and all(Path(new[k]).is_relative_to(tmp_path / "b") for k in added)
    assert res["reused_models"]["0"] == ["full", *sorted(taken)]
    assert set(res["tables"]["ablations_knn"]) == {"HGNN", "HGNN E"}
    for m in ("hr10", "mrr"):  # the same model, the same users: the same figures
        assert (
            res["tables"]["warm"]["2T-HGNN"][m] == first["tables"]["warm"]["2T-HGNN"][m]
        )
