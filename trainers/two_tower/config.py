"""TwoTowerConfig: the two-tower model's knobs (paper defaults), JSON round-trippable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from colisten import names

LossWeighting = Literal["inverse_frequency", "logq"]


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
    temperature: float = 0.05
    """Softmax temperature over cosine similarities (outputs are unit vectors)."""
    loss_weighting: LossWeighting = "inverse_frequency"
    """inverse_frequency (the paper): each example weighted by 1 / (training count of its
    item) ** inverse_frequency_power, weights averaging 1; logq: unweighted examples,
    log item frequency subtracted from the logits (logQ correction). See loss.py."""
    inverse_frequency_power: float = 1.0
    """Exponent of the inverse frequency: 1 is the paper's 1/count; 0.5 a milder form."""
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0
    threads: int = 2
    label_horizon_days: float | None = None
    """None: each label's user features as of 1 ms before it. A number H: as of the start
    of its H-day window counted back from the cut-off (see data.feature_times)."""
    uniform_negatives: int = 0
    """Extra negatives per batch drawn uniformly from every item of the target type."""
    item_popularity: bool = False
    """Item tower also reads log(1 + training label count) of the item."""
    linear_loss: bool = False
    """The paper's linear loss instead of the softmax (experiment)."""
    unit_norm: bool = True
    dropout: float = 0.0
    weight_decay: float = 0.0
    validation_share: float = 0.0
    """Newest share of the labels held out to report a validation loss per epoch."""
    max_labels: int | None = None
    """Keep at most this many labels (the most recent ones); None keeps all."""

    def __post_init__(self) -> None:
        if self.target_type not in names.ITEM_TYPES:
            raise ValueError(f"unknown target_type {self.target_type!r}")
        if self.batch_size < 2 or self.epochs < 1 or self.temperature <= 0:
            raise ValueError("need batch_size >= 2, epochs >= 1, temperature > 0")
        if self.loss_weighting not in ("inverse_frequency", "logq"):
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
        """Inverse of to_json (an old config's logq=True reads as loss_weighting=logq)."""
        raw = dict(raw)
        if "logq" in raw:
            if raw.pop("logq") is not True:
                raise ValueError("logq=False (an unweighted loss) is no longer offered")
            raw.setdefault("loss_weighting", "logq")
        if "hidden" in raw:
            raw["hidden"] = tuple(raw["hidden"])
        return cls(**raw)
