"""The two-tower rows one seed trains: their configs and HGNN versions."""

from __future__ import annotations

from trainers.evaluation.config import EvalConfig
from trainers.evaluation.learned import two_tower_variants
from trainers.evaluation.plan import EXAMPLE_WEIGHTS
from trainers.two_tower.config import TwoTowerConfig


def test_two_tower_variants_by_row() -> None:
    cfg = EvalConfig(ablations=("E",), tt_podcast_temperature=0.07)
    got = two_tower_variants(cfg, 3, {"full": "h-full", "E": "h-e"})
    assert set(got) == {
        "2T",
        "2T-HGNN",
        "B",
        "E",
        EXAMPLE_WEIGHTS,
        "2T (podcasts)",
        "2T-HGNN (podcasts)",
    }
    default = TwoTowerConfig()
    full, version = got["2T-HGNN"]
    assert version == "h-full" and full.seed == 3 and full.use_hgnn
    assert full.loss_weighting == "inverse_frequency"
    assert full.temperature == default.temperature
    assert got["2T"][1] is None and not got["2T"][0].use_hgnn
    assert got["E"][1] == "h-e" and not got["B"][0].use_weak_signals
    assert got[EXAMPLE_WEIGHTS][0].loss_weighting == "example_weights"
    for name, hgnn in (("2T (podcasts)", None), ("2T-HGNN (podcasts)", "h-full")):
        pod, version = got[name]
        assert pod.target_type == "podcast" and pod.temperature == 0.07
        assert version == hgnn and pod.use_hgnn == (hgnn is not None)


def test_rows_can_be_left_out() -> None:
    cfg = EvalConfig(ablations=(), podcasts=False, example_weights_row=False)
    assert set(two_tower_variants(cfg, 0, {"full": "h"})) == {"2T", "2T-HGNN", "B"}
