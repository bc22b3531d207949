"""Premise statistics of a world (paper Section 3): pure functions over event frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from colisten import names


def top_share(values: pd.Series | np.ndarray, top_frac: float) -> float:
    """Share of the total held by the top `top_frac` of entities (0.2: top 20%)."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    if not len(v) or v.sum() <= 0:
        return float("nan")
    k = max(1, int(round(top_frac * len(v))))
    return float(v[:k].sum() / v.sum())


def frac_for_share(values: pd.Series | np.ndarray, share: float) -> float:
    """Smallest fraction of entities (largest first) that holds `share` of the total."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    if not len(v) or v.sum() <= 0:
        return float("nan")
    cum = np.cumsum(v) / v.sum()
    return float((np.searchsorted(cum, share) + 1) / len(v))


def streaming_hours(events: pd.DataFrame, item_type: str, by: str) -> pd.Series:
    """Streamed hours of one item type, summed by `by` (names.USER_ID or ITEM_ID)."""
    s = events[
        (events[names.EVENT_TYPE] == names.STREAM)
        & (events[names.ITEM_TYPE] == item_type)
    ]
    return s.groupby(by)[names.DURATION_MS].sum() / 3_600_000


def share_podcast_before_first_audiobook(events: pd.DataFrame) -> float:
    """Among audiobook streamers, the share with a podcast stream before their first."""
    s = events[events[names.EVENT_TYPE] == names.STREAM]
    first = s.groupby([names.USER_ID, names.ITEM_TYPE])[names.TS].min().unstack()
    first = first[first[names.AUDIOBOOK].notna()]
    if not len(first):
        return float("nan")
    before = first[names.PODCAST] < first[names.AUDIOBOOK]
    return float(before.mean())


def user_item_pairs(
    events: pd.DataFrame, item_type: str, event_types: Sequence[str] = (names.STREAM,)
) -> pd.DataFrame:
    """Distinct (user_id, item_id) pairs of one item type and the given event types."""
    m = (events[names.ITEM_TYPE] == item_type) & events[names.EVENT_TYPE].isin(
        event_types
    )
    return events.loc[m, [names.USER_ID, names.ITEM_ID]].drop_duplicates()


def sample_shared_pairs(
    pairs: pd.DataFrame, entity: str, key: str, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Sample n pairs of distinct `entity` values that share a `key` value.

    Each sample picks a random (entity, key) row, then another entity with that key;
    e.g. entity=user_id, key=item_id gives users who share an item. Returns an (m, 2)
    object array, m <= n (keys held by a single entity are skipped).
    """
    g = pairs.groupby(key)[entity].agg(list)
    g = g[g.map(len) > 1]
    if not len(g):
        return np.empty((0, 2), dtype=object)
    sizes = g.map(len).to_numpy()
    rows = rng.choice(len(g), size=n, p=sizes / sizes.sum())
    members = g.to_numpy()
    out = []
    for r in rows:
        a, b = rng.choice(len(members[r]), size=2, replace=False)
        out.append((members[r][a], members[r][b]))
    return np.array(out, dtype=object)


def sample_random_pairs(
    entities: Sequence[str] | np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Sample n pairs of distinct entities uniformly at random, as an (n, 2) array."""
    ents = np.asarray(entities, dtype=object)
    a = rng.integers(0, len(ents), n)
    b = (a + rng.integers(1, len(ents), n)) % len(ents)
    return np.stack([ents[a], ents[b]], axis=1)


def sample_apa_pairs(
    events: pd.DataFrame,
    n: int,
    rng: np.random.Generator,
    exclude_colistened: bool = True,
) -> np.ndarray:
    """Sample audiobook pairs linked only through a shared podcast (a–p–a, two hops).

    a1 and a2 are linked when some user streamed a1 and podcast p and some user
    streamed a2 and p; pairs co-listened directly by one user are dropped when
    `exclude_colistened`.
    """
    ab = user_item_pairs(events, names.AUDIOBOOK)
    pod = user_item_pairs(events, names.PODCAST)
    ap = ab.merge(pod, on=names.USER_ID, suffixes=("_a", "_p"))
    ap = ap[[f"{names.ITEM_ID}_a", f"{names.ITEM_ID}_p"]].drop_duplicates()
    ap.columns = ["a", "p"]
    pairs = sample_shared_pairs(ap, "a", "p", n, rng)
    if exclude_colistened and len(pairs):
        direct = set(map(tuple, colistened_item_pairs(ab)))
        keep = [(x, y) not in direct and (y, x) not in direct for x, y in pairs]
        pairs = pairs[np.array(keep, dtype=bool)]
    return pairs


def colistened_item_pairs(pairs: pd.DataFrame) -> np.ndarray:
    """Distinct item pairs (i < j) streamed by a common user, from user-item pairs."""
    m = pairs.merge(pairs, on=names.USER_ID)
    m = m[m[f"{names.ITEM_ID}_x"] < m[f"{names.ITEM_ID}_y"]]
    return m[[f"{names.ITEM_ID}_x", f"{names.ITEM_ID}_y"]].drop_duplicates().to_numpy()


def mean_pair_cosine(vectors: pd.DataFrame, pairs: np.ndarray) -> float:
    """Mean cosine similarity of row-vector pairs; `vectors` is indexed by entity id."""
    if not len(pairs):
        return float("nan")
    x = vectors.to_numpy(dtype=float)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    pos = pd.Series(np.arange(len(vectors)), index=vectors.index)
    a = x[pos.loc[pairs[:, 0]].to_numpy()]
    b = x[pos.loc[pairs[:, 1]].to_numpy()]
    return float((a * b).sum(axis=1).mean())


def user_taste(
    events: pd.DataFrame, catalogue: pd.DataFrame, item_type: str, by: str = "genre"
) -> pd.DataFrame:
    """Per-user share of streaming time by catalogue column `by` (rows: users)."""
    s = events[
        (events[names.EVENT_TYPE] == names.STREAM)
        & (events[names.ITEM_TYPE] == item_type)
    ]
    s = s.merge(catalogue[[names.ITEM_ID, by]], on=names.ITEM_ID)
    t = s.pivot_table(
        index=names.USER_ID,
        columns=by,
        values=names.DURATION_MS,
        aggfunc="sum",
        fill_value=0,
    )
    return t.div(t.sum(axis=1), axis=0)


def weak_signal_pairs(events: pd.DataFrame) -> pd.DataFrame:
    """User×audiobook pairs whose first interaction was a weak signal.

    Columns: one boolean per weak signal (present before the first stream, or at
    all when never streamed) and `streamed` (a stream followed). Pairs that began
    with a stream are excluded: there the outcome preceded any signal.
    """
    ab = events[events[names.ITEM_TYPE] == names.AUDIOBOOK]
    key = [names.USER_ID, names.ITEM_ID]
    first = ab.groupby(key + [names.EVENT_TYPE])[names.TS].min().unstack()
    for col in names.EVENT_TYPES:
        if col not in first:
            first[col] = np.nan
    stream = first[names.STREAM]
    sig = first[list(names.WEAK_SIGNALS)]
    first_sig = sig.min(axis=1)
    first = first[first_sig.notna() & ~(stream <= first_sig)]
    out = pd.DataFrame(index=first.index)
    s_ts = first[names.STREAM].fillna(np.inf)
    for col in names.WEAK_SIGNALS:
        out[col] = first[col].notna() & (first[col] < s_ts)
    out["streamed"] = first[names.STREAM].notna()
    return out.reset_index()


def signal_odds_ratios(
    pairs: pd.DataFrame,
    signals: Sequence[str] = names.WEAK_SIGNALS,
    joint: bool = False,
) -> dict[str, float]:
    """Odds ratio of `streamed` for each signal, by logistic regression.

    joint=False fits one regression per signal (as the paper did); joint=True fits one
    regression with all signals, which is what pairs selected on having a signal need.
    """
    import statsmodels.api as sm

    y = pairs["streamed"].astype(float).to_numpy()
    groups = [list(signals)] if joint else [[s] for s in signals]
    out: dict[str, float] = {}
    for cols in groups:
        x = sm.add_constant(pairs[cols].astype(float).to_numpy(), has_constant="add")
        fit = sm.Logit(y, x).fit(disp=0)
        out.update({c: float(np.exp(fit.params[i + 1])) for i, c in enumerate(cols)})
    return out


def warm_cold_users(events: pd.DataFrame, split_ms: int) -> pd.Series:
    """For users with a hold-out audiobook stream: True when warm (any earlier audiobook
    interaction, weak signals included), False when cold."""
    ab = events[events[names.ITEM_TYPE] == names.AUDIOBOOK]
    hold = ab[(ab[names.TS] >= split_ms) & (ab[names.EVENT_TYPE] == names.STREAM)]
    warm = set(ab.loc[ab[names.TS] < split_ms, names.USER_ID])
    users = pd.Index(hold[names.USER_ID].unique(), name=names.USER_ID)
    return pd.Series(users.isin(list(warm)), index=users, name="warm")


def holdout_new_item_share(events: pd.DataFrame, split_ms: int) -> float:
    """Share of hold-out audiobook streams whose item was never streamed in training."""
    s = events[
        (events[names.ITEM_TYPE] == names.AUDIOBOOK)
        & (events[names.EVENT_TYPE] == names.STREAM)
    ]
    seen = set(s.loc[s[names.TS] < split_ms, names.ITEM_ID])
    hold = s[s[names.TS] >= split_ms]
    if not len(hold):
        return float("nan")
    return float((~hold[names.ITEM_ID].isin(list(seen))).mean())


def relation_edge_counts(streams: pd.DataFrame) -> dict[str, int]:
    """Distinct co-streamed item pairs per relation (aa, ap, pp) from stream events."""
    ui = streams[[names.USER_ID, names.ITEM_ID, names.ITEM_TYPE]].drop_duplicates()
    m = ui.merge(ui, on=names.USER_ID)
    m = m[m[f"{names.ITEM_ID}_x"] < m[f"{names.ITEM_ID}_y"]]
    m = m.drop_duplicates([f"{names.ITEM_ID}_x", f"{names.ITEM_ID}_y"])
    kinds = m[f"{names.ITEM_TYPE}_x"].str[0] + m[f"{names.ITEM_TYPE}_y"].str[0]
    rel = kinds.map(lambda k: "".join(sorted(k)))
    counts = rel.value_counts()
    return {r: int(counts.get(r, 0)) for r in ("aa", "ap", "pp")}
