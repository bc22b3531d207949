"""EvalConfig: what `colisten evaluate` trains and measures (one object for the stage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from colisten.timeunits import DAY_MS

if TYPE_CHECKING:
    from colisten.world.format import WorldManifest

ABLATION_ROWS = {
    "A": ("no balanced sampler", "no_balanced"),
    "C": ("no p-p edges", "no_pp"),
    "D": ("no a-a edges", "no_aa"),
    "E": ("a-a only graph", "aa_only"),
    "F": ("p-p only graph", "pp_only"),
}


@dataclass(frozen=True)
class EvalConfig:
    """What `colisten evaluate` trains and measures.

    `seeds`: every learned row (HGNN and its ablations, HGNN-w-users, each two-tower) is
    trained once per seed (HGNN seed = two-tower seed = that seed). `seed`: the seed of
    the bootstrap resampling (CIs and paired tests), not of training.
    """

    holdout_days: float = 14.0
    hgnn_epochs: int = 50
    hgnn_patience: int = 10
    hgnn_overrides: dict[str, Any] = field(default_factory=dict)
    tt_epochs: int = 10
    tt_hidden: tuple[int, ...] = (512, 256, 128)
    tt_podcast_temperature: float = 0.05
    """Softmax temperature of the podcast two-towers (Table 4). Chosen like the audiobook
    default (TwoTowerConfig.temperature, 0.2) on a 14-day validation window of `medium` v2,
    where 109k podcast labels are not memorised as the 7k audiobook labels are: 2T-HGNN
    HR@10 .156 at 0.05 vs .118 at 0.2 (bench/RESULTS.md)."""
    ablations: tuple[str, ...] = tuple(ABLATION_ROWS)
    podcasts: bool = True
    example_weights_row: bool = True
    """Also train 2T-HGNN with per-example inverse-frequency weights, the reading of the
    paper's weighting used before session 9 (the default weights the negatives)."""
    with_users: bool = True
    n_boot: int = 1000
    seed: int = 0
    seeds: tuple[int, ...] = (0,)
    threads: int = 2

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and non-empty, got {self.seeds}")

    @classmethod
    def quick(cls, **kw: Any) -> EvalConfig:
        """Few epochs, no HGNN ablations, fewer bootstrap draws (tests, smoke runs)."""
        base: dict[str, Any] = {
            "hgnn_epochs": 2,
            "hgnn_patience": 2,
            "tt_epochs": 2,
            "ablations": (),
            "n_boot": 100,
        }
        return cls(**(base | kw))


def parse_holdout_days(value: str, manifest: WorldManifest) -> float:
    """Hold-out days from a number or 'all' (the split to just past the world's last event).

    'all' is how an import is evaluated over its whole hold-out (MovieLens keeps the last
    15% of its events, spread over years); a synthetic world's is its `holdout_days`.
    """
    if value.strip().lower() == "all":
        return (manifest.end_ms + 1 - manifest.split_ms) / DAY_MS
    try:
        days = float(value)
    except ValueError:
        raise ValueError(
            f"--holdout-days wants a number of days or 'all', got {value!r}"
        ) from None
    if not days > 0:
        raise ValueError(f"--holdout-days must be positive, got {value!r}")
    return days
