"""TwoTowerConfig: the two-tower model's knobs (paper defaults), JSON round-trippable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from colisten import names


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
    logq: bool = True
    """logQ correction of in-batch negatives (subtract log item frequency from logits)."""
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

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-compatible dict."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TwoTowerConfig:
        """Inverse of to_json."""
        raw = dict(raw)
        if "hidden" in raw:
            raw["hidden"] = tuple(raw["hidden"])
        return cls(**raw)
