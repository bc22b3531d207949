"""report.md and paired.png from a hand-built results dict (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trainers.evaluation.paired import paired_table
from trainers.evaluation.report import write_report
from trainers.evaluation.seeded import RowRuns, row_metrics
from trainers.evaluation.split import EvalSet
from trainers.evaluation.tiers import tier_metrics


def _results() -> dict[str, object]:
    rng = np.random.default_rng(0)
    n_users, n_items = 40, 120
    targets = [
        set(rng.choice(n_items, 2, replace=False).tolist()) for _ in range(n_users)
    ]
    es = EvalSet(
        item_type="audiobook",
        cutoff_ms=0,
        holdout_end_ms=1,
        candidates=[f"a{i}" for i in range(n_items)],
        users=[f"u{i}" for i in range(n_users)],
        targets=targets,
        exclude=[[] for _ in range(n_users)],
        warm=np.arange(n_users) % 2 == 0,
        popularity=np.arange(n_items, dtype=float),
        tiers=np.arange(n_items) * 5 // n_items + 1,
    )

    def lists() -> np.ndarray:
        return np.stack([rng.permutation(n_items)[:100] for _ in range(n_users)])

    runs = {
        "Popularity": RowRuns.of([lists()], targets),
        "2T": RowRuns.of([lists(), lists()], targets, [0, 1]),
        "2T-HGNN": RowRuns.of([lists(), lists()], targets, [0, 1]),
        "Genre × popularity": RowRuns.of([lists()], targets),
    }
    rows = list(runs)
    pos = np.flatnonzero(es.warm).tolist()
    return {
        "world": "hand-built",
        "seeds": [0, 1],
        "config": {"n_boot": 50, "seeds": [0, 1]},
        "reference": {"rows": ["Genre × popularity"], "pending_days": 7.0},
        "tables": {
            "warm": {n: row_metrics(runs[n], pos, n_items, n_boot=50) for n in rows},
            "long_tail": {n: tier_metrics(es, runs[n].lists, n_boot=50) for n in rows},
        },
        "paired": {"warm": paired_table(runs, rows, pos, n_boot=50)},
        "counts": {},
    }


def test_report_has_reference_rows_seed_spread_and_paired_tests(tmp_path: Path) -> None:
    write_report(_results(), tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "*Genre × popularity (reference)*" in md
    assert "sd over seeds" in md and "±" in md
    assert "Paired tests, warm users (Table 2): 2T-HGNN minus each row" in md
    assert "Significant at 5%" in md and "averaged over seeds" in md
    assert "tier 1: HR@10 [CI] / MRR [CI]" in md
    for png in ("warm.png", "long_tail.png", "paired.png"):
        assert (tmp_path / png).exists(), png
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert set(saved["paired"]["warm"]) == {"Popularity", "2T", "Genre × popularity"}
    assert saved["tables"]["warm"]["2T"]["hr10_by_seed"]
