"""report.md's paired tests (2T-HGNN minus each row) and their forest plot, paired.png."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trainers.evaluation.paired import ALPHA

METRIC_LABELS = {"hr10": "HR@10", "mrr": "MRR"}


def _num(x: float | None, signed: bool = False) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _p(p: float | None) -> str:
    if p is None or p != p:
        return "–"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.0e}"


def paired_md(
    title: str,
    paired: dict[str, dict[str, Any]],
    labels: Mapping[str, str] | None = None,
    against: str = "2T-HGNN",
) -> str:
    """One table of paired differences (against minus row) and which are significant."""
    labels = labels or {}
    cols = []
    for label in METRIC_LABELS.values():
        cols += [f"Δ{label}", "95% CI", "p"]
    lines = [
        f"#### Paired tests, {title}: {against} minus each row",
        "",
        "| row | users | " + " | ".join(cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    above: dict[str, list[str]] = {k: [] for k in METRIC_LABELS}
    below: dict[str, list[str]] = {k: [] for k in METRIC_LABELS}
    for name, by in paired.items():
        cells = []
        for m in METRIC_LABELS:
            d = by[m]
            star = "**" if d["significant"] else ""
            cells += [
                f"{star}{_num(d['diff'], True)}{star}",
                f"[{_num(d['ci'][0], True)}, {_num(d['ci'][1], True)}]",
                _p(d["p"]),
            ]
            if d["significant"]:
                (above if d["diff"] > 0 else below)[m].append(labels.get(name, name))
        n = next(iter(by.values()))["n_users"]
        label = labels.get(name, name)
        lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    said = [
        f"{label}: {against} higher than {', '.join(above[m]) or 'none'}, "
        f"lower than {', '.join(below[m]) or 'none'}"
        for m, label in METRIC_LABELS.items()
    ]
    lines += [
        "",
        f"Significant at {ALPHA:.0%} (two-sided; bold above). " + "; ".join(said) + ".",
    ]
    return "\n".join(lines) + "\n"


def forest_plot(
    paired: dict[str, dict[str, dict[str, Any]]],
    titles: dict[str, str],
    out: Path,
    against: Callable[[str], str],
) -> str | None:
    """paired.png: per table and metric, each row's difference with its 95% CI.

    `against(table)`: the row that table's differences are taken from.
    """
    keys = [k for k, rows in paired.items() if rows]
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height = sum(len(paired[k]) for k in keys) * 0.35 + 1.2 * len(keys)
    fig, axes = plt.subplots(
        len(keys),
        len(METRIC_LABELS),
        figsize=(11, max(height, 3.0)),
        squeeze=False,
        gridspec_kw={"height_ratios": [len(paired[k]) + 1 for k in keys]},
    )
    for row_axes, key in zip(axes, keys, strict=True):
        rows = list(paired[key])
        for ax, (m, label) in zip(row_axes, METRIC_LABELS.items(), strict=True):
            for y, name in enumerate(rows):
                d = paired[key][name][m]
                lo, hi = d["ci"]
                ax.errorbar(
                    d["diff"],
                    y,
                    xerr=[[d["diff"] - lo], [hi - d["diff"]]],
                    fmt="o",
                    color="#c0392b" if d["significant"] else "#7f8c8d",
                    capsize=3,
                )
            ax.axvline(0.0, color="black", linewidth=0.8)
            ax.set_yticks(range(len(rows)), rows, fontsize=8)
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.invert_yaxis()
            ax.set_title(
                f"{titles.get(key, key)}: Δ{label} ({against(key)} − row)",
                fontsize=9,
            )
    fig.tight_layout()
    fig.savefig(out / "paired.png", dpi=110)
    plt.close(fig)
    return "paired.png"
