"""TwoTowerConfig: the two-tower model's knobs (paper defaults), JSON round-trippable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from colisten import names

LossWeighting = Literal["inverse_frequency", "example_weights"]
LEGACY_LOGQ = "logq"
"""An older name of inverse_frequency (the same loss: see loss.py)."""


@dataclass(frozen=True)
class TwoTowerConfig:
    """Model, loss and optimisation settings; unknown keys are rejected by from_json."""

    use_hgnn: bool = True
    """False: plain 2T, no HGNN inputs anywhere (z̄ averages text embeddings instead)."""
    use_weak_signals: bool = True
    """False: Table 1 B, no weak-signal counts, recent items from streams only."""
    target_type: str = names.AUDIOBOOK
    """Which item type the labels (and the item tower) are: audiobook, or podcast (Table 4)."""
    hidden: tuple[int, ...] = (512, 256, 128)
    temperature: float = 0.2
    """Softmax temperature over cosine similarities (outputs are unit vectors). The paper's
    loss is linear (no temperature: its high-T limit). 0.2 was chosen among 0.05, 0.1,
    0.2 and 0.5 by HR@10 on a 14-day validation window before the cut-off of `medium` v2
    (three seeds, HGNN retrained without those days); 0.05 memorised the ~7k labels
    (training loss 0.8 against ln 128 = 4.9). See bench/RESULTS.md."""
    loss_weighting: LossWeighting = "inverse_frequency"
    """inverse_frequency (the paper): each in-batch item's term in the softmax normaliser
    is weighted by 1 / q_j ** inverse_frequency_power (q_j: its share of the training
    labels), so popular items are not over-used as negatives; with power 1 this is the
    logQ correction. example_weights: an earlier reading, each example's loss multiplied
    by 1 / count(its item) ** power, which leaves popular items over-used as negatives
    and pushes the towers to the tail (kept to report what it costs). See loss.py."""
    inverse_frequency_power: float = 1.0
    """Exponent of the inverse frequency: 1 is the paper's 1/q; 0 switches it off."""
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0
    threads: int = 2
    max_labels: int | None = None
    """Keep at most this many labels (the most recent ones); None keeps all."""

    def __post_init__(self) -> None:
        if self.target_type not in names.ITEM_TYPES:
            raise ValueError(f"unknown target_type {self.target_type!r}")
        if self.batch_size < 2 or self.epochs < 1 or self.temperature <= 0:
            raise ValueError("need batch_size >= 2, epochs >= 1, temperature > 0")
        if self.loss_weighting not in ("inverse_frequency", "example_weights"):
            raise ValueError(f"unknown loss_weighting {self.loss_weighting!r}")
        if self.inverse_frequency_power < 0:
            raise ValueError("inverse_frequency_power must be >= 0")

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-compatible dict."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TwoTowerConfig:
        """Inverse of to_json; an old config's logq=True or loss_weighting="logq" reads as
        inverse_frequency (the same loss)."""
        raw = dict(raw)
        if LEGACY_LOGQ in raw:
            if raw.pop(LEGACY_LOGQ) is not True:
                raise ValueError("logq=False (an unweighted loss) is no longer offered")
            raw.setdefault("loss_weighting", LEGACY_LOGQ)
        if raw.get("loss_weighting") == LEGACY_LOGQ:
            raw["loss_weighting"] = "inverse_frequency"
        if "hidden" in raw:
            raw["hidden"] = tuple(raw["hidden"])
        return cls(**raw)
