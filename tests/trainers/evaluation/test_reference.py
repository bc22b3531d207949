"""Reference rows on a hand-built world: genre mix, podcast-genre translation, pending."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colisten.timeunits import DAY_MS as DAY
from trainers.evaluation import reference as ref
from trainers.evaluation.baselines import rank_all
from trainers.evaluation.split import EvalSet

CUTOFF = 10 * DAY
CATALOGUE = pd.DataFrame(
    {
        "item_id": ["a1", "a2", "a3", "a4", "p1", "p2"],
        "item_type": ["audiobook"] * 4 + ["podcast"] * 2,
        "genre": ["FIC", "FIC", "HIS", "HIS", "Comedy", "History"],
    }
)
ROWS = [  # user, item, event, day
    ("u1", "a1", "stream", 1),
    ("u1", "p1", "stream", 2),
    ("u2", "a3", "stream", 1),
    ("u2", "p2", "follow", 2),
    ("u3", "p2", "stream", 3),  # podcasts only: mix through the translation
    ("u5", "p1", "stream", 1),
    ("u5", "a3", "intent_to_pay", 1),  # older than the 7-day look-back
    ("u5", "a2", "follow", 5),
    ("u5", "a4", "preview", 9),
    ("u5", "a4", "stream", 11),  # after the cut-off: never read
    ("u4", "a1", "stream", 12),  # u4: no history before the cut-off
]
EVENTS = pd.DataFrame(
    [
        (u, i, "audiobook" if i[0] == "a" else "podcast", e, d * DAY)
        for u, i, e, d in ROWS
    ],
    columns=["user_id", "item_id", "item_type", "event_type", "ts"],
)
USERS = ["u1", "u2", "u3", "u4", "u5"]


def _eval_set() -> EvalSet:
    return EvalSet(
        item_type="audiobook",
        cutoff_ms=CUTOFF,
        holdout_end_ms=CUTOFF + 14 * DAY,
        candidates=["a1", "a2", "a3", "a4"],
        users=USERS,
        targets=[{1}, {3}, {3}, {0}, {3}],
        exclude=[[0], [2], [], [], []],
        warm=np.array([True, True, False, False, True]),
        popularity=np.array([4.0, 1.0, 2.0, 3.0]),
        tiers=np.array([1, 4, 3, 2]),
    )


def test_podcast_genres_translate_by_co_occurrence() -> None:
    touched = ref._touched(EVENTS, CATALOGUE, CUTOFF)
    p = ref.podcast_to_audiobook_genres(touched)
    # u1: Comedy & FIC; u2: History & HIS; u5: Comedy & {FIC, HIS}; u3 has no books
    assert p[("Comedy", "FIC")] == pytest.approx(2 / 3)
    assert p[("Comedy", "HIS")] == pytest.approx(1 / 3)
    assert p[("History", "HIS")] == 1.0 and len(p) == 3


def test_genre_mix_by_hand() -> None:
    mix, genres = ref.genre_mix(EVENTS, CATALOGUE, CUTOFF, USERS)
    assert genres == ["FIC", "HIS"]
    want = [
        [(1 + 2 / 3) / 2, (1 / 3) / 2],  # a1 (FIC) + p1 (Comedy)
        [0.0, 1.0],  # a3 (HIS) + p2 (History -> HIS)
        [0.0, 1.0],  # p2 only
        [0.0, 0.0],  # nothing before the cut-off
        [(1 + 2 / 3) / 4, (2 + 1 / 3) / 4],  # a2; a3, a4; p1
    ]
    assert mix == pytest.approx(np.array(want))


def test_genre_popularity_falls_back_to_popularity() -> None:
    es = _eval_set()
    lists = rank_all(es, ref.genre_popularity(es, EVENTS, CATALOGUE))
    assert lists[2].tolist()[:4] == [3, 2, 0, 1]  # HIS by popularity, then the rest
    assert lists[3].tolist()[:4] == [0, 3, 2, 1]  # no history: Popularity
    assert 0 not in lists[0].tolist()  # streamed before the cut-off: excluded


def test_pending_weak_signals_come_first_newest_first() -> None:
    es = _eval_set()
    boosts = ref.pending_boosts(es, EVENTS)
    assert set(boosts) == {4} and sorted(boosts[4][0].tolist()) == [1, 3]
    lists = rank_all(es, ref.pending_weak_signals(es, EVENTS, CATALOGUE))
    # a4 (preview, day 9), a2 (follow, day 5); then FIC .42 x 1 (a1) > HIS .58 x .5 (a3)
    assert lists[4].tolist()[:4] == [3, 1, 0, 2]
    plain = rank_all(es, ref.genre_popularity(es, EVENTS, CATALOGUE))
    assert (lists[:4] == plain[:4]).all()  # no recent weak signal: the rule below
    longer = ref.pending_boosts(es, EVENTS, days=30)
    assert sorted(longer[4][0].tolist()) == [1, 2, 3]


def _fake_oracle(available: bool) -> types.ModuleType:
    mod = types.ModuleType("colisten.world.oracle")

    def oracle_available(world: Path) -> bool:
        return available

    def oracle_scores(
        world: Path, user_ids: Sequence[str], item_ids: Sequence[str], at_ms: int
    ) -> np.ndarray:
        assert at_ms == CUTOFF
        # user k prefers item (k mod 4); item 2 impossible for everyone
        s = np.array([[float(int(u[1:]) % 4 == j) for j in range(4)] for u in user_ids])
        s[:, 2] = -np.inf
        return s

    mod.oracle_available = oracle_available  # type: ignore[attr-defined]
    mod.oracle_scores = oracle_scores  # type: ignore[attr-defined]
    return mod


def test_oracle_row_only_where_available(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    es = _eval_set()
    monkeypatch.setitem(sys.modules, "colisten.world.oracle", None)  # ImportError
    assert ref.oracle(es, tmp_path) is None
    monkeypatch.setitem(sys.modules, "colisten.world.oracle", _fake_oracle(False))
    assert ref.ORACLE not in ref.reference_scorers(es, EVENTS, CATALOGUE, tmp_path)
    monkeypatch.setitem(sys.modules, "colisten.world.oracle", _fake_oracle(True))
    rows = ref.reference_scorers(es, EVENTS, CATALOGUE, tmp_path)
    assert list(rows) == [ref.GENRE_POP, ref.PENDING, ref.ORACLE]
    lists = rank_all(es, rows[ref.ORACLE], chunk=2)
    assert lists[0].tolist() == [1, 3, -1, -1]  # u1: item 1; a1 streamed, a3 impossible
    assert lists[3].tolist() == [0, 1, 3, -1]  # u4: item 0 first
