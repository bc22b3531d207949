"""Reference rows: genre × popularity, pending weak signals, and the generator's oracle.

Rules, not models: they show how far a learned row is from a trivial rule and from the
ceiling. They use only events before the cut-off and the catalogue's `genre` column, so
they run on any world (synthetic or a MovieLens import) and do not depend on a seed.

**Genre × popularity.** A user's genre mix is a distribution over audiobook genres built
from every distinct item they touched (any event type) before the cut-off, one unit per
item: an audiobook adds 1 to its own genre; a podcast adds 1 spread over audiobook genres
by P(audiobook genre | podcast genre). Audiobook and podcast genres are different
vocabularies, so that translation is a count rule over the training data alone:
n(g_p, g_a) = number of users who touched both a podcast of genre g_p and an audiobook
of genre g_a before the cut-off, and P(g_a | g_p) = n(g_p, g_a) / Σ_g n(g_p, g). A
podcast genre that no such user touched adds nothing. The mix is normalised to sum 1.
Score of a candidate = (mix[its genre] + EPSILON) × its popularity share (the EvalSet's
90-day distinct streamers over the most popular candidate's), so a user without history
gets the Popularity list, and out-of-mix genres follow in popularity order.

**Pending weak signals.** Candidates the user followed, previewed or tried to buy
(intent to pay) in the PENDING_DAYS = 7 days before the cut-off come first, most
recent signal first; then the genre × popularity list. Seven days is the look-back of
the table in issue 13 (so the row compares with it) and keeps signals that are still
fresh; the 90-day feature window would be the other natural choice. Items the user
streamed before the cut-off are excluded from every list anyway.

**Oracle.** On a synthetic world whose generator wrote its latent variables,
`colisten.world.oracle.oracle_scores` at the cut-off (the generator's own chance of each
stream). No row when that module is missing or the world has no oracle (an import).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colisten import names
from colisten.timeunits import DAY_MS
from trainers.evaluation.baselines import RowScorer, Scorer, prior_of
from trainers.evaluation.split import EvalSet

GENRE_POP = "Genre × popularity"
PENDING = "Pending weak signals"
ORACLE = "Oracle"
REFERENCE_ROWS = (GENRE_POP, PENDING, ORACLE)
EPSILON = 1e-3
PENDING_DAYS = 7.0
GENRE = "genre"


def _touched(
    events: pd.DataFrame, catalogue: pd.DataFrame, cutoff_ms: int
) -> pd.DataFrame:
    """Distinct (user, item) touched before the cut-off, with the item's type and genre."""
    ev = events.loc[events[names.TS] < cutoff_ms, [names.USER_ID, names.ITEM_ID]]
    cat = catalogue[[names.ITEM_ID, names.ITEM_TYPE, GENRE]].astype({GENRE: str})
    return ev.drop_duplicates().merge(cat, on=names.ITEM_ID, how="inner")


def podcast_to_audiobook_genres(touched: pd.DataFrame) -> pd.Series:
    """P(audiobook genre | podcast genre) from users who touched both (index: (g_p, g_a))."""
    by_type = {
        t: touched.loc[
            touched[names.ITEM_TYPE] == t, [names.USER_ID, GENRE]
        ].drop_duplicates()
        for t in names.ITEM_TYPES
    }
    co = by_type[names.PODCAST].merge(
        by_type[names.AUDIOBOOK], on=names.USER_ID, suffixes=("_p", "_a")
    )
    counts = co.groupby([f"{GENRE}_p", f"{GENRE}_a"]).size().astype(float)
    return counts / counts.groupby(level=0).transform("sum")


def genre_mix(
    events: pd.DataFrame,
    catalogue: pd.DataFrame,
    cutoff_ms: int,
    users: Sequence[str],
) -> tuple[np.ndarray, list[str]]:
    """(users × audiobook genres mix, each row summing to 1 or 0; the genre names)."""
    genres = sorted(
        set(
            catalogue.loc[catalogue[names.ITEM_TYPE] == names.AUDIOBOOK, GENRE].astype(
                str
            )
        )
    )
    gidx = {g: i for i, g in enumerate(genres)}
    uidx = {u: i for i, u in enumerate(users)}
    touched = _touched(events, catalogue, cutoff_ms)
    trans = podcast_to_audiobook_genres(touched)
    mine = touched[touched[names.USER_ID].isin(uidx)]
    mix = np.zeros((len(users), len(genres)))
    books = mine[mine[names.ITEM_TYPE] == names.AUDIOBOOK]
    np.add.at(
        mix,
        (books[names.USER_ID].map(uidx).to_numpy(), books[GENRE].map(gidx).to_numpy()),
        1.0,
    )
    pods = mine[mine[names.ITEM_TYPE] == names.PODCAST]
    per_genre = pods.groupby([names.USER_ID, GENRE]).size().rename("n").reset_index()
    spread = per_genre.merge(
        trans.rename("p").reset_index(), left_on=GENRE, right_on=f"{GENRE}_p"
    )
    np.add.at(
        mix,
        (
            spread[names.USER_ID].map(uidx).to_numpy(),
            spread[f"{GENRE}_a"].map(gidx).to_numpy(),
        ),
        (spread["n"] * spread["p"]).to_numpy(),
    )
    total = mix.sum(axis=1, keepdims=True)
    return np.divide(mix, total, out=np.zeros_like(mix), where=total > 0), genres


def genre_popularity(
    es: EvalSet, events: pd.DataFrame, catalogue: pd.DataFrame
) -> Scorer:
    """(user's mix weight of the item's genre + EPSILON) × popularity share."""
    mix, genres = genre_mix(events, catalogue, es.cutoff_ms, es.users)
    genre_of = dict(
        zip(catalogue[names.ITEM_ID], catalogue[GENRE].astype(str), strict=True)
    )
    gidx = {g: i for i, g in enumerate(genres)}
    prior = prior_of(es)
    onehot = np.zeros((len(es.candidates), len(genres)))
    onehot[
        np.arange(len(es.candidates)), [gidx[genre_of[i]] for i in es.candidates]
    ] = 1
    users = np.hstack([mix, np.full((len(es.users), 1), EPSILON)])
    items = np.hstack([onehot, np.ones((len(es.candidates), 1))]) * prior[:, None]
    return Scorer(users, items, prior)


@dataclass
class Boosted:
    """A base scorer with per-user boosts that rank some items above every base score."""

    base: RowScorer
    boosts: dict[int, tuple[np.ndarray, np.ndarray]]
    """User position -> (candidate indices, boost values; larger = earlier)."""

    def scores(self, pos: Sequence[int]) -> np.ndarray:
        """Base scores, then each boosted item set to its boost."""
        s = self.base.scores(pos)
        for row, p in enumerate(pos):
            if p in self.boosts:
                cols, vals = self.boosts[p]
                s[row, cols] = vals
        return s


def pending_boosts(
    es: EvalSet, events: pd.DataFrame, days: float = PENDING_DAYS
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per user: candidates weak-signalled in the last `days`, boost 2..3 by recency."""
    start = es.cutoff_ms - days * DAY_MS
    ev = events[
        (events[names.TS] < es.cutoff_ms)
        & (events[names.TS] >= start)
        & events[names.EVENT_TYPE].isin(names.WEAK_SIGNALS)
        & (events[names.ITEM_TYPE] == es.item_type)
    ]
    cidx = {c: i for i, c in enumerate(es.candidates)}
    uidx = {u: i for i, u in enumerate(es.users)}
    ev = ev[ev[names.ITEM_ID].isin(cidx) & ev[names.USER_ID].isin(uidx)]
    last = ev.groupby([names.USER_ID, names.ITEM_ID])[names.TS].max().reset_index()
    # base scores stay below 2 ((1 + EPSILON) × 1 + the tie-break prior)
    last["boost"] = 2.0 + (last[names.TS] - start) / (days * DAY_MS)
    return {
        uidx[u]: (g[names.ITEM_ID].map(cidx).to_numpy(), g["boost"].to_numpy())
        for u, g in last.groupby(names.USER_ID)
    }


def pending_weak_signals(
    es: EvalSet,
    events: pd.DataFrame,
    catalogue: pd.DataFrame,
    days: float = PENDING_DAYS,
) -> Boosted:
    """Recently weak-signalled, unstreamed audiobooks first, then genre × popularity."""
    return Boosted(
        genre_popularity(es, events, catalogue), pending_boosts(es, events, days)
    )


@dataclass
class OracleScorer:
    """The generator's own chances, asked for one chunk of users at a time."""

    world: Path
    users: list[str]
    candidates: list[str]
    at_ms: int
    fn: Callable[[Path, Sequence[str], Sequence[str], int], np.ndarray]

    def scores(self, pos: Sequence[int]) -> np.ndarray:
        """Oracle scores of the users at pos against every candidate."""
        s = np.asarray(
            self.fn(
                self.world, [self.users[p] for p in pos], self.candidates, self.at_ms
            ),
            dtype=np.float64,
        )
        if s.shape != (len(pos), len(self.candidates)):
            raise ValueError(f"oracle_scores returned {s.shape}")
        return s


def oracle(es: EvalSet, world: Path) -> OracleScorer | None:
    """The Oracle row's scorer, or None (no oracle module, or not a synthetic world)."""
    try:
        from colisten.world.oracle import oracle_available, oracle_scores
    except ImportError:
        return None
    if not oracle_available(world):
        return None
    return OracleScorer(world, es.users, es.candidates, es.cutoff_ms, oracle_scores)


def reference_scorers(
    es: EvalSet, events: pd.DataFrame, catalogue: pd.DataFrame, world: Path
) -> dict[str, RowScorer]:
    """Every reference row available on this world, by name."""
    gp = genre_popularity(es, events, catalogue)
    out: dict[str, RowScorer] = {
        GENRE_POP: gp,
        PENDING: Boosted(gp, pending_boosts(es, events)),
    }
    orc = oracle(es, world)
    if orc is not None:
        out[ORACLE] = orc
    return out
