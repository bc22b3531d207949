"""The evaluation plan: which rows `colisten evaluate` trains and ranks, and in which tables.

One list of rows, built from EvalConfig, replaces the names that the trainer, the
scorers and the tables used to keep each in their own list. A row says how it ranks
(its method), what it is trained from (the HGNN it reads, its two-tower settings) and
which tables show it. Reference rows (trivial rules, the generator's oracle) are not in
the plan: which exist depends on the world; they join every REFERENCE_TABLES table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from colisten import names
from trainers.evaluation.config import EvalConfig

Method = Literal["popularity", "llm_knn", "hgnn_knn", "with_users", "two_tower"]
"""How a row ranks: a fixed rule, a kNN over text or HGNN vectors, the tripartite HGNN's
user·item scores, or an exported two-tower."""

WARM, COLD, ABLATIONS, ABLATIONS_KNN, LONG_TAIL, PODCASTS = (
    "warm",
    "cold",
    "ablations",
    "ablations_knn",
    "long_tail",
    "podcasts",
)
REFERENCE_TABLES = (WARM, COLD, LONG_TAIL)
"""Tables the reference rows join (after the plan's rows)."""
FULL = "full"
"""The HGNN key of the full model (the ablations use their Table 1 letters)."""
EXAMPLE_WEIGHTS = "2T-HGNN (example weights)"
"""2T-HGNN with inverse-frequency weights on the examples instead of the negatives."""
LEARNED: tuple[Method, ...] = ("hgnn_knn", "with_users", "two_tower")
AGAINST = {ABLATIONS_KNN: "HGNN"}
"""The row each table's paired tests compare against, where it is not 2T-HGNN: Table 1
through kNN pairs every ablation's HGNN with the full HGNN."""


def paired_against(table: str) -> str:
    """The row a table's paired tests take every other row's difference from."""
    return AGAINST.get(table, "2T-HGNN")


def knn_name(ablation: str) -> str:
    """The name of an ablation's HGNN kNN row (Table 1 without the towers)."""
    return f"HGNN {ablation}"


@dataclass(frozen=True)
class Row:
    """One row of the tables: how it ranks, what it is trained from, where it shows."""

    name: str
    """As the tables show it (the same name may appear once per target type)."""
    method: Method
    tables: tuple[str, ...]
    target: str = names.AUDIOBOOK
    hgnn: str | None = None
    """The HGNN (FULL or an ablation letter) whose embeddings the row reads."""
    two_tower: Mapping[str, Any] = field(default_factory=dict)
    """TwoTowerConfig fields this row sets (method "two_tower" only)."""

    @property
    def key(self) -> str:
        """Unique across target types: the name, with " (podcasts)" for podcast rows."""
        return (
            self.name if self.target == names.AUDIOBOOK else f"{self.name} (podcasts)"
        )


@dataclass(frozen=True)
class EvalPlan:
    """Every planned row, in table order, and the HGNNs they need."""

    rows: tuple[Row, ...]
    hgnn_keys: tuple[str, ...]
    """HGNNs to train per seed: the ablations first, FULL last (its version is newest)."""

    def table(self, table: str) -> list[str]:
        """Names of the rows a table shows, in order."""
        return [r.name for r in self.rows if table in r.tables]

    def tables_of(self, target: str) -> set[str]:
        """The tables showing rows of a target type (each table shows one type)."""
        return {t for r in self.rows if r.target == target for t in r.tables}

    def learned(self, target: str) -> list[Row]:
        """Rows of a target type that are trained once per seed."""
        return [r for r in self.rows if r.target == target and r.method in LEARNED]

    def two_towers(self) -> list[Row]:
        """Every two-tower row, both target types (the training order)."""
        return [r for r in self.rows if r.method == "two_tower"]


def make_plan(cfg: EvalConfig) -> EvalPlan:
    """The rows an EvalConfig asks for."""
    shown = (WARM, COLD, LONG_TAIL)
    rows = [
        Row("Popularity", "popularity", shown),
        Row("LLM-KNN", "llm_knn", (WARM, LONG_TAIL)),
        Row(
            "HGNN",
            "hgnn_knn",
            (WARM, LONG_TAIL, *((ABLATIONS_KNN,) if cfg.ablations else ())),
            hgnn=FULL,
        ),
    ]
    if cfg.with_users:
        rows.append(Row("HGNN-w-users", "with_users", shown))
    rows += [
        Row("2T", "two_tower", shown, two_tower={"use_hgnn": False}),
        Row("2T-HGNN", "two_tower", (*shown, ABLATIONS), hgnn=FULL),
    ]
    if cfg.example_weights_row:
        weights = {"loss_weighting": "example_weights"}
        rows.append(
            Row(EXAMPLE_WEIGHTS, "two_tower", shown, hgnn=FULL, two_tower=weights)
        )
    rows.append(
        Row(
            "B",
            "two_tower",
            (ABLATIONS,),
            hgnn=FULL,
            two_tower={"use_weak_signals": False},
        )
    )
    rows += [Row(k, "two_tower", (ABLATIONS,), hgnn=k) for k in cfg.ablations]
    # each ablation's item vectors ranked directly: what the graph change does to the
    # HGNN itself, without the two-tower (trained on far fewer labels) in between
    rows += [
        Row(knn_name(k), "hgnn_knn", (ABLATIONS_KNN,), hgnn=k) for k in cfg.ablations
    ]
    if cfg.podcasts:
        pod = {"target_type": names.PODCAST, "temperature": cfg.tt_podcast_temperature}
        on = names.PODCAST
        rows += [
            Row("Popularity", "popularity", (PODCASTS,), target=on),
            Row(
                "2T", "two_tower", (PODCASTS,), on, two_tower={**pod, "use_hgnn": False}
            ),
            Row("2T-HGNN", "two_tower", (PODCASTS,), on, hgnn=FULL, two_tower=pod),
        ]
    return EvalPlan(tuple(rows), (*cfg.ablations, FULL))
