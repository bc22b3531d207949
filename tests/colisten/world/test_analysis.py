"""Section 3 analysis: hand-computed pure functions, and a full run on a tiny world."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from colisten import names
from colisten.world import analysis as A
from colisten.world import format as fmt
from colisten.world import premises as P
from colisten.world.generator import generate_world

# Pure functions, by hand --------------------------------------------------------------


def test_concentration_curve_by_hand() -> None:
    x, y = A.concentration_curve([5, 70, 10, 5, 10])
    np.testing.assert_allclose(x, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(y, [0, 0.7, 0.8, 0.9, 0.95, 1.0])


def test_concentration_curve_of_nothing_is_flat() -> None:
    x, y = A.concentration_curve([0, 0])
    np.testing.assert_allclose(x, [0, 0.5, 1.0])
    np.testing.assert_allclose(y, [0, 0, 0])


def test_pair_cosines_by_hand_drops_unknown_ids() -> None:
    vec = pd.DataFrame([[1, 0], [0, 2], [3, 3]], index=["a", "b", "c"])
    pairs = np.array([("a", "b"), ("a", "c"), ("c", "c"), ("a", "zz")], dtype=object)
    np.testing.assert_allclose(A.pair_cosines(vec, pairs), [0, 1 / math.sqrt(2), 1])
    assert A.pair_cosines(vec, np.empty((0, 2), dtype=object)).shape == (0,)
    assert A.pair_cosines(vec, pairs[:3]).mean() == pytest.approx(
        P.mean_pair_cosine(vec, pairs[:3])
    )


def test_compare_samples_by_hand() -> None:
    # pairs (x, y): 1>0, 1=1 (half), 2>0, 2>1 -> AUC 3.5 / 4
    out = A.compare_samples(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    assert out["auc"] == pytest.approx(0.875)
    assert out["mean_diff"] == pytest.approx(1.0)
    assert out["pairs"] == {"n": 2, "mean": 1.5, "median": 1.5}
    empty = A.compare_samples(np.array([1.0]), np.empty(0))
    assert empty["random"]["n"] == 0 and math.isnan(empty["auc"])


def test_separated_by_hand() -> None:
    s = pd.Series([True, True, False, False])
    assert not A.separated(s, pd.Series([True, False, True, False]))
    assert A.separated(s, pd.Series([True, True, False, False]))  # perfect
    assert A.separated(s, pd.Series([True, True, True, False]))  # quasi
    assert A.separated(pd.Series([True] * 4), pd.Series([True, False, True, False]))


def _signal_pairs() -> pd.DataFrame:
    """follow: 6/10 streamed with, 2/10 without -> OR = (6/4) / (2/8) = 6."""
    streamed = [True] * 6 + [False] * 4 + [True] * 2 + [False] * 8
    return pd.DataFrame(
        {
            names.FOLLOW: [True] * 10 + [False] * 10,
            names.PREVIEW: [True] * 20,  # no variance: not estimable
            "streamed": streamed,
        }
    )


def test_signal_logits_odds_ratio_and_wald_ci_by_hand() -> None:
    fits = A.signal_logits(_signal_pairs(), [names.FOLLOW, names.PREVIEW])
    f = fits[names.FOLLOW]
    se = math.sqrt(1 / 6 + 1 / 4 + 1 / 2 + 1 / 8)  # Woolf: sqrt of 1/cell sums
    assert f["note"] == "" and f["n_with_signal"] == 10
    assert f["odds_ratio"] == pytest.approx(6.0, rel=1e-6)
    assert f["ci_low"] == pytest.approx(math.exp(math.log(6) - 1.959964 * se), 1e-4)
    assert f["ci_high"] == pytest.approx(math.exp(math.log(6) + 1.959964 * se), 1e-4)
    assert fits[names.PREVIEW]["note"] == "separation"
    assert math.isnan(fits[names.PREVIEW]["odds_ratio"])
    joint = A.signal_logits(_signal_pairs(), [names.FOLLOW, names.PREVIEW], joint=True)
    assert joint[names.FOLLOW]["odds_ratio"] == pytest.approx(6.0, rel=1e-6)


def _ev(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    cols = [names.USER_ID, names.ITEM_ID, names.EVENT_TYPE, names.TS]
    ev = pd.DataFrame(rows, columns=cols)
    ev[names.ITEM_TYPE] = names.AUDIOBOOK
    ev[names.DURATION_MS] = 1000
    return ev


def test_weak_signal_analysis_marks_missing_signals_na() -> None:
    rows = [(f"u{i}", "a1", names.FOLLOW, 1) for i in range(4)]
    rows += [(f"u{i}", "a1", names.STREAM, 2) for i in range(2)]
    rows += [(f"u{i}", "a2", names.PREVIEW, 1) for i in range(4)]
    rows += [("u0", "a2", names.STREAM, 2)]
    res = A.weak_signal_analysis(_ev(rows))
    assert res["n_pairs"] == 8 and res["stream_rate"] == pytest.approx(3 / 8)
    assert res["signals_present"] == [names.FOLLOW, names.PREVIEW]
    assert res["per_signal"][names.INTENT_TO_PAY] is None
    assert res["joint"][names.INTENT_TO_PAY] is None
    # follow: 2/4 streamed vs 1/4 -> OR (2/2) / (1/3) = 3
    assert res["per_signal"][names.FOLLOW]["odds_ratio"] == pytest.approx(3.0, 1e-5)


def test_audiobook_texts_title_dot_description() -> None:
    cat = pd.DataFrame(
        {
            names.ITEM_ID: ["a1", "p1", "a2"],
            names.ITEM_TYPE: [names.AUDIOBOOK, names.PODCAST, names.AUDIOBOOK],
            "title": ["Dune", "Pod", "Emma"],
            "description": ["Sand.", "x", None],
        }
    )
    assert A.audiobook_texts(cat).to_dict() == {"a1": "Dune. Sand.", "a2": "Emma. "}


# A full run on `tiny` -------------------------------------------------------------------

SEED = 3
N_PAIRS = 800


@pytest.fixture(scope="module")
def tiny_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, dict[str, Any]]:
    """A tiny world, analysed once: (world dir, report dir, returned result)."""
    world = tmp_path_factory.mktemp("tiny")
    generate_world("tiny", 11, world, progress=False)
    out = tmp_path_factory.mktemp("report")
    res = A.analyze_world(world, out, seed=SEED, progress=False, n_pairs=N_PAIRS)
    return world, out, res


@pytest.mark.integration
def test_analyze_world_writes_valid_pngs_and_report(tiny_run: tuple) -> None:
    _, out, _ = tiny_run
    report = (out / "report.md").read_text()
    for name in A.FIGURES.values():
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(data) > 10_000, name
        assert f"]({name})" in report
    for header in (
        "| metric | paper | ours |",
        "| comparison | n pairs | mean (pairs) | mean (random) | Δ mean | AUC | MWU p |",
        "| signal | paper | per-signal | joint | pairs with signal |",
    ):
        assert header in report
    for sig in names.WEAK_SIGNALS:
        assert f"| {sig} | " in report
    assert "2.18 (+118%)" in report and "| hours of top 25% of users | 75% |" in report


@pytest.mark.integration
def test_analysis_json_matches_premises(tiny_run: tuple) -> None:
    world, out, res = tiny_run
    js = json.loads((out / "analysis.json").read_text())
    assert js["seed"] == SEED and js["world"]["source"] == "synthetic"
    ev, cat = fmt.read_events(world), fmt.read_catalogue(world)
    by_user = P.streaming_hours(ev, names.AUDIOBOOK, names.USER_ID)
    ab_ids = cat.loc[cat.item_type == names.AUDIOBOOK, names.ITEM_ID]
    by_item = P.streaming_hours(ev, names.AUDIOBOOK, names.ITEM_ID)
    by_item = by_item.reindex(ab_ids, fill_value=0.0)
    assert js["users_top25_share"] == pytest.approx(P.top_share(by_user, 0.25))
    assert js["audiobooks_top20_share"] == pytest.approx(P.top_share(by_item, 0.2))
    assert js["users_frac_for_75"] == pytest.approx(P.frac_for_share(by_user, 0.75))
    pf = P.share_podcast_before_first_audiobook(ev)
    assert js["podcast_first_share"] == pytest.approx(pf)
    # weak signals: same pairs, same odds ratios as premises.py
    pairs = P.weak_signal_pairs(ev)
    assert js["weak_signals"]["n_pairs"] == len(pairs)
    for mode, joint in (("per_signal", False), ("joint", True)):
        odds = P.signal_odds_ratios(pairs, joint=joint)
        for sig, fit in js["weak_signals"][mode].items():
            assert fit["note"] == "", (mode, sig)
            assert fit["odds_ratio"] == pytest.approx(odds[sig], rel=1e-6)
            assert fit["ci_low"] < fit["odds_ratio"] < fit["ci_high"]
    # panel B recomputed with premises.py from the same seeded stream
    rng = A.panel_rng(SEED, "b")
    taste = P.user_taste(ev, cat, names.PODCAST)
    ab = P.user_item_pairs(ev, names.AUDIOBOOK)
    ab = ab[ab[names.USER_ID].isin(taste.index)]
    shared = P.sample_shared_pairs(ab, names.USER_ID, names.ITEM_ID, N_PAIRS, rng)
    rand = P.sample_random_pairs(taste.index, N_PAIRS, rng)
    b = js["taste"]
    assert b["pairs"]["mean"] == pytest.approx(P.mean_pair_cosine(taste, shared))
    assert b["random"]["mean"] == pytest.approx(P.mean_pair_cosine(taste, rand))
    assert b["pairs"]["n"] == len(shared) == N_PAIRS
    # panel C recomputed with the (cached) real sentence model
    emb = A.embed_texts(A.load_sentence_model(), A.audiobook_texts(cat), False)
    assert emb.shape == (len(ab_ids), 384)
    rng = A.panel_rng(SEED, "c")
    co = P.sample_shared_pairs(
        P.user_item_pairs(ev, names.AUDIOBOOK),
        names.ITEM_ID,
        names.USER_ID,
        N_PAIRS,
        rng,
    )
    c = js["text_colistened"]
    assert c["pairs"]["mean"] == pytest.approx(P.mean_pair_cosine(emb, co), abs=1e-5)
    assert 0 < js["text_apa"]["pairs"]["n"] <= N_PAIRS
    assert -1 <= js["text_apa"]["pairs"]["mean"] <= 1
    assert res["timing_s"]["total"] == js["timing_s"]["total"]
