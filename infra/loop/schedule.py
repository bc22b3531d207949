"""Retraining cadences on a clock (wall or simulated): which jobs are due, as a pure function."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from colisten.timeunits import DAY_MS


@dataclass(frozen=True)
class Cadence:
    """One job and how often it runs, in event-time milliseconds."""

    job: str
    every_ms: int


@dataclass(frozen=True)
class Schedule:
    """Cadences in dependency order (HGNN before the two-tower that reads its embeddings)
    and when each job last ran (its training cut-off)."""

    cadences: tuple[Cadence, ...]
    last_ms: dict[str, int] = field(default_factory=dict)

    @classmethod
    def paper(cls, hgnn_days: float = 7.0, two_tower_days: float = 1.0) -> Schedule:
        """The paper's suggestion: HGNN weekly, two-tower daily."""
        return cls(
            (
                Cadence("hgnn", int(hgnn_days * DAY_MS)),
                Cadence("two_tower", int(two_tower_days * DAY_MS)),
            )
        )

    def due(self, now_ms: int) -> list[str]:
        """Jobs whose cadence elapsed since their last run (never run: due), in order."""
        return [
            c.job
            for c in self.cadences
            if c.job not in self.last_ms or now_ms - self.last_ms[c.job] >= c.every_ms
        ]

    def ran(self, job: str, at_ms: int) -> Schedule:
        """The schedule after `job` succeeded with cut-off at_ms (a failure changes nothing,
        so the job stays due and is retried on the next tick)."""
        return replace(self, last_ms={**self.last_ms, job: at_ms})
