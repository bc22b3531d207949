"""reports/eval: report.md (every table, ours beside the paper's), PNG plots, metrics.json."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from trainers.evaluation.paired import EXACT_FLIPS
from trainers.evaluation.plan import knn_name, paired_against
from trainers.evaluation.report_paired import forest_plot, paired_md

PAPER: dict[str, dict[str, tuple[float, float, float]]] = {
    "warm": {
        "Popularity": (0.150, 0.100, 0.0),
        "LLM-KNN": (0.164, 0.202, 0.547),
        "HGNN": (0.258, 0.224, 0.528),
        "HGNN-w-users": (0.238, 0.163, 0.253),
        "2T": (0.231, 0.173, 0.212),
        "2T-HGNN": (0.353, 0.218, 0.223),
    },
    "cold": {
        "Popularity": (0.161, 0.100, 0.0),
        "HGNN-w-users": (0.174, 0.153, 0.064),
        "2T": (0.135, 0.146, 0.193),
        "2T-HGNN": (0.200, 0.156, 0.120),
    },
    "ablations": {
        "2T-HGNN": (0.353, 0.218, 0.223),
        "A": (0.332, 0.214, 0.241),
        "B": (0.267, 0.182, 0.17),
        "C": (0.333, 0.210, 0.223),
        "D": (0.312, 0.198, 0.094),
        "E": (0.329, 0.201, 0.221),
        "F": (0.294, 0.192, 0.106),
    },
    "podcasts": {
        "Popularity": (0.059, 0.100, 0.0),
        "2T": (0.114, 0.135, 0.114),
        "2T-HGNN": (0.123, 0.138, 0.206),
    },
}
TITLES = {
    "warm": "Table 2: warm users (any audiobook interaction before the cut-off)",
    "cold": "Table 3: cold users (no audiobook interaction before the cut-off)",
    "ablations": "Table 1: ablations, warm users",
    "ablations_knn": "Table 1 through HGNN kNN (not in the paper): each ablation's item "
    "vectors ranked directly, warm users",
    "podcasts": "Table 4: podcast recommendations, all test users",
}
SHORT = {
    "warm": "warm users (Table 2)",
    "cold": "cold users (Table 3)",
    "ablations": "ablations, warm users (Table 1)",
    "ablations_knn": "ablations through HGNN kNN, warm users",
    "podcasts": "podcasts (Table 4)",
}
LABELS = {
    "2T-HGNN": "full 2T-HGNN",
    "A": "A) no balanced sampler",
    "B": "B) no weak signals",
    "C": "C) no p-p edges",
    "D": "D) no a-a edges",
    "E": "E) a-a only graph",
    "F": "F) p-p only graph",
}
KNN_LABELS = {
    "HGNN": "full HGNN",
    **{knn_name(k): v for k, v in LABELS.items() if k != "2T-HGNN"},
}
ROW_LABELS = {"ablations": LABELS, "ablations_knn": KNN_LABELS}
"""Per table, how its rows are labelled (others show the row names)."""
REFERENCE_NOTES = {
    "Genre × popularity": "Genre × popularity = the user's genre mix (touched audiobooks, "
    "and podcasts translated by P(audiobook genre | podcast genre) from co-occurrence) "
    "× 90-day popularity",
    "Pending weak signals": "Pending weak signals = audiobooks followed, previewed or "
    "intent-to-pay in the {days:g} days before the cut-off and not streamed, most "
    "recent first, then Genre × popularity",
    "Oracle": "Oracle = the generator's own chance of each stream (synthetic worlds "
    "only; an estimate of the ceiling)",
}


def _fmt(x: float, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.1f}%" if pct else f"{x:.3f}"


def _ci(ci: list[float] | tuple[float, float], pct: bool = False) -> str:
    return f"[{_fmt(ci[0], pct)}, {_fmt(ci[1], pct)}]"


def _cells(m: dict[str, Any], p: tuple[float, float, float] | None) -> list[str]:
    paper = [
        (_fmt(x, pct) if p else "–")
        for x, pct in zip(p or (0, 0, 0), (False, False, True), strict=True)
    ]
    return [
        str(m["n_users"]),
        _fmt(m["hr10"]),
        _ci(m["hr10_ci"]),
        paper[0],
        _fmt(m["mrr"]),
        _ci(m["mrr_ci"]),
        paper[1],
        _fmt(m["coverage"], True),
        _ci(m["coverage_ci"], True),
        paper[2],
    ]


def _seed_sd(m: dict[str, Any]) -> str:
    if m.get("hr10_sd") is None:
        return "–"
    return f"±{_fmt(m['hr10_sd'])} / ±{_fmt(m['mrr_sd'])}"


def table_md(key: str, rows: dict[str, Any], reference: Collection[str] = ()) -> str:
    """One markdown table: ours (with 95% CI) beside the paper's; reference rows last.

    With several training seeds, a column gives each learned row's standard deviation
    over seeds (HR@10 / MRR).
    """
    multi = any(len(m.get("seeds", ())) > 1 for m in rows.values())
    cols = [
        "users",
        "HR@10 (ours)",
        "95% CI",
        "paper",
        "MRR (ours)",
        "95% CI",
        "paper",
        "Coverage (ours)",
        "95% CI",
        "paper",
    ] + (["sd over seeds (HR@10 / MRR)"] if multi else [])
    head = f"| method | {' | '.join(cols)} |\n|---|" + "---|" * len(cols)
    lines = [f"### {TITLES[key]}", "", head]
    refs = [n for n in rows if n in reference]
    for name in [n for n in rows if n not in reference] + refs:
        m = rows[name]
        p = None if name in reference else PAPER.get(key, {}).get(name)
        label = ROW_LABELS.get(key, {}).get(name, name)
        if name in reference:
            label = f"*{label} (reference)*"
        cells = _cells(m, p) + ([_seed_sd(m)] if multi else [])
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _tier_cell(t: dict[str, Any]) -> str:
    nan = (float("nan"), float("nan"))
    return (
        f"{_fmt(t['hr10'])} {_ci(t.get('hr10_ci', nan))} / "
        f"{_fmt(t['mrr'])} {_ci(t.get('mrr_ci', nan))} ({t['n_users']})"
    )


def long_tail_md(
    tiers: dict[str, dict[str, dict[str, Any]]], reference: Sequence[str] = ()
) -> str:
    """HR@10 / MRR with 95% CIs per popularity tier, one row per method."""
    ks = sorted(next(iter(tiers.values())).keys()) if tiers else []
    head = (
        "| method | "
        + " | ".join(f"tier {k}: HR@10 [CI] / MRR [CI] (users)" for k in ks)
        + " |"
    )
    lines = [
        "### Long tail: HR@10 and MRR per popularity tier (1 = most popular), 95% CIs",
        "",
        head,
        "|---|" + "---|" * len(ks),
    ]
    for name, by in tiers.items():
        label = f"*{name} (reference)*" if name in reference else name
        lines.append(f"| {label} | " + " | ".join(_tier_cell(by[k]) for k in ks) + " |")
    if "2T" in tiers and "2T-HGNN" in tiers:
        gain = []
        for metric in ("hr10", "mrr"):
            a = sum(tiers["2T"][k][metric] for k in ("3", "4", "5") if k in tiers["2T"])
            b = sum(
                tiers["2T-HGNN"][k][metric] for k in ("3", "4", "5") if k in tiers["2T"]
            )
            gain.append(f"{metric}: {_fmt(100 * (b - a) / a) if a else '–'}%")
        lines += [
            "",
            "2T-HGNN vs 2T on tiers 3–5 (sum over tiers; paper: HR@10 +118%, MRR +102%): "
            + ", ".join(gain),
        ]
    return "\n".join(lines) + "\n"


def _plots(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    reference = set(results.get("reference", {}).get("rows", ()))
    files = []
    for key, rows in results["tables"].items():
        if key == "long_tail" or not rows:
            continue
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        names_ = list(rows)
        for ax, (metric, label) in zip(
            axes,
            [("hr10", "HR@10"), ("mrr", "MRR"), ("coverage", "Coverage")],
            strict=True,
        ):
            vals = np.array([rows[n][metric] for n in names_], dtype=float)
            ci = np.array([rows[n][f"{metric}_ci"] for n in names_], dtype=float)
            err = np.abs(np.stack([vals - ci[:, 0], ci[:, 1] - vals]))
            ax.bar(
                range(len(names_)),
                vals,
                yerr=np.nan_to_num(err),
                capsize=3,
                color=["#9a9a9a" if n in reference else "#4a7ab7" for n in names_],
            )
            ax.set_xticks(
                range(len(names_)),
                [ROW_LABELS.get(key, {}).get(n, n) for n in names_],
                rotation=35,
                ha="right",
                fontsize=8,
            )
            ax.set_title(label)
        fig.suptitle(TITLES[key], fontsize=10)
        fig.tight_layout()
        name = f"{key}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        files.append(name)
    tiers = results["tables"].get("long_tail", {})
    if tiers:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
        for ax, metric in zip(axes, ("hr10", "mrr"), strict=True):
            for name, by in tiers.items():
                ks = sorted(by)
                ax.plot(
                    [int(k) for k in ks],
                    [by[k][metric] for k in ks],
                    marker="o",
                    linestyle="--" if name in reference else "-",
                    label=name,
                )
            ax.set_xlabel("popularity tier (1 = most popular)")
            ax.set_title("HR@10" if metric == "hr10" else "MRR")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "long_tail.png", dpi=110)
        plt.close(fig)
        files.append("long_tail.png")
    forest = forest_plot(results.get("paired", {}), SHORT, out, paired_against)
    return files + ([forest] if forest else [])


def write_report(results: dict[str, Any], out: Path) -> Path:
    """Write metrics.json, the plots and report.md into out; return the report path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(
        json.dumps(results, indent=2, sort_keys=True, default=str)
    )
    plots = _plots(results, out)
    c = results.get("counts", {})
    md = [
        f"# Offline evaluation: {results.get('world')}",
        "",
        f"Cut-off {results.get('cutoff_ms')} (UTC ms), "
        f"hold-out {results.get('holdout_days')} days. "
        f"{c.get('candidates')} candidate audiobooks (released by the cut-off), "
        f"{c.get('test_users')} test users "
        f"({c.get('warm_users')} warm, {c.get('cold_users')} cold).",
        "",
        "Metrics as in the paper's appendix: HR@10, MRR over the top 100, Coverage = share of the "
        "candidate catalogue in anyone's top 100. **Items a user streamed before the cut-off are "
        "excluded from their list**, and only items they had not streamed count as "
        "held-out targets. "
        "95% CIs: percentile bootstrap over users (seeded). Coverage's CI is biased low and "
        "can miss its own point estimate: Coverage counts the distinct items in the union of "
        "the users' lists, and a resample holds only ~63% distinct users, so read it as the "
        "spread, not the level. Users a method cannot embed get the "
        "Popularity list (every score carries a vanishing popularity tie-break).",
        "",
    ]
    md += _method_notes(results)
    notes = reference_notes(results)
    paired = results.get("paired", {})
    for key in ("warm", "cold", "ablations", "ablations_knn", "podcasts"):
        if results["tables"].get(key):
            md += [
                table_md(key, results["tables"][key], notes),
                f"![{key}]({key}.png)",
                "",
            ]
        if paired.get(key):
            md += [
                paired_md(
                    SHORT[key],
                    paired[key],
                    ROW_LABELS.get(key, {}),
                    paired_against(key),
                ),
                "",
            ]
    if results["tables"].get("long_tail"):
        md += [
            long_tail_md(results["tables"]["long_tail"], list(notes)),
            "![long tail](long_tail.png)",
            "",
        ]
    if "paired.png" in plots:
        md += ["![paired differences](paired.png)", ""]
    md += [
        "## Timing (s)",
        "",
        "```",
        json.dumps(results.get("timing_s", {}), indent=1),
        "```",
        "",
    ]
    md += [
        "## Two-tower training",
        "",
        "```",
        json.dumps(results.get("training", {}), indent=1, default=str),
        "```",
    ]
    path = out / "report.md"
    path.write_text("\n".join(md) + "\n")
    return path


def reference_notes(results: dict[str, Any]) -> dict[str, str]:
    """Name -> one-line rule of each reference row in results."""
    ref = results.get("reference", {})
    days = ref.get("pending_days", 7.0)
    return {n: REFERENCE_NOTES.get(n, n).format(days=days) for n in ref.get("rows", ())}


def _method_notes(results: dict[str, Any]) -> list[str]:
    """Paragraphs on seeds, reference rows and the paired tests."""
    seeds = results.get("seeds") or results.get("config", {}).get("seeds") or [0]
    n_boot = results.get("config", {}).get("n_boot", "?")
    spread = (
        f"Learned rows (HGNN, its ablations, HGNN-w-users, every two-tower) were "
        f"trained once per seed ({', '.join(map(str, seeds))}; HGNN seed = two-tower "
        "seed). Each learned row shows the mean over seeds; HR@10 and MRR average each "
        "user's value over seeds before the bootstrap, Coverage is the mean of the "
        "per-seed values; the last column is the standard deviation over seeds "
        "(per-seed values in metrics.json). Popularity, LLM-KNN and the reference rows "
        "do not depend on a seed."
        if len(seeds) > 1
        else f"One training seed ({seeds[0]}): no spread over seeds is measured."
    )
    notes = reference_notes(results)
    rules = "".join(f"\n- {note}." for note in notes.values())
    return [
        spread,
        "",
        *(
            [
                "*(reference)* rows are rules, not learned models: how far each "
                "learned row is from a trivial rule and from the ceiling. They rank the "
                "same candidates with the same exclusions, and do not depend on a "
                "seed:" + rules,
                "",
            ]
            if notes
            else []
        ),
        "Paired tests: for each table, 2T-HGNN (in Table 1 through HGNN kNN: the full "
        "HGNN) minus every other row on the same users, "
        f"{n_boot} bootstrap resamples of users (the same resample for both rows), "
        "95% percentile CI; two-sided p-value from a paired sign-flip test (the share "
        "of sign assignments of the per-user differences whose |sum| reaches the "
        f"observed one: exact up to {EXACT_FLIPS} differing users, else {n_boot} "
        "draws)"
        + (
            "; with several seeds each user's value is first averaged over seeds"
            if len(seeds) > 1
            else ""
        )
        + ". Bold: significant at 5%. No correction for the number of comparisons.",
        "",
    ]
