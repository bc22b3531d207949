"""The generator's own probabilities: a ceiling row for evaluations on synthetic worlds.

The generator writes its latent variables to `oracle/` in the world directory (models
never read it). `oracle_scores` turns them into each user's expected chance of
streaming each audiobook in a window after a time, as the generator would draw it:

- new interests: expected count in the window × P(choice = item) × P(stream), where the
  choice mixes the taste route (topic mixture × popularity × exp(strength · u·o) within
  the language, plus exploration) and the link route (a book of a linked show);
- pending interests (a weak signal before the time, no stream yet): P(the stream the
  generator may have drawn starts in the window | none started yet), from the observed
  signals' lifts and the stream delay, plus a declined interest's chance to come back.

It knows every latent parameter, not the random draws, so it is an estimate of the
ceiling rather than a bound. Simplifications: items already touched never get a second
new-interest draw; the release-date redraw is approximated by masking unreleased items.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from colisten import names
from colisten.timeunits import DAY_MS, HOUR_MS
from colisten.world import format as fmt

if TYPE_CHECKING:
    from colisten.world.catalogue import Catalogue

ORACLE_DIR = "oracle"


def write_truth(out: Path, cat: Catalogue, truths: list[dict[str, np.ndarray]]) -> None:
    """Write the latent arrays of the catalogue and of every user chunk to out/oracle/."""
    d = Path(out) / ORACLE_DIR
    d.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        d / "items.npz",
        release=cat.ab_release,
        link_podcast=cat.link_podcast,
        **{f"ab_{k}": v for k, v in cat.ab_arrays.items()},
    )
    users = {k: np.concatenate([t[k] for t in truths]) for k in truths[0]}
    np.savez_compressed(d / "users.npz", **users)


def oracle_available(world: Path) -> bool:
    """True for a synthetic world whose generator wrote its latent variables."""
    d = Path(world) / ORACLE_DIR
    return (d / "items.npz").exists() and (d / "users.npz").exists()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _delay_cdf(t: np.ndarray, mean_days: float) -> np.ndarray:
    """P(4 h + Exp(mean) delay <= t)."""
    t = np.maximum(np.asarray(t, dtype=float) - 4 * HOUR_MS, 0.0)
    return 1.0 - np.exp(-t / (mean_days * DAY_MS))


def choice_probabilities(
    p: dict[str, Any],
    items: dict[str, np.ndarray],
    users: dict[str, np.ndarray],
    rows: np.ndarray,
) -> np.ndarray:
    """P(next new audiobook interest = item) for user rows (global indexes)."""
    from colisten.world.catalogue import Pools

    n_ab = len(items["release"])
    n_langs = 1 + len(p["languages"])
    pools = Pools(
        items["ab_lang"],
        items["ab_primary"],
        items["ab_secondary"],
        items["ab_pop"],
        items["ab_offsets"],
        n_langs,
        p["n_topics"],
        p["item_secondary_weight"],
        0,
    )
    lang = users["lang"][rows].astype(int)
    lw = np.zeros((len(rows), n_langs))
    native = p["native_language_pick"]
    lw[:, 0] = np.where(lang == 0, 1.0, 1.0 - native)
    lw[np.arange(len(rows)), lang] += np.where(lang == 0, 0.0, native)
    explore = p["explore_share"]
    tw = np.concatenate(
        [
            np.full((len(rows), 1), explore),
            (1 - explore) * users["theta_ab"][rows].astype(float),
        ],
        axis=1,
    )
    taste = users["taste_ab"][rows].astype(float)
    prob = pools.probabilities(lw, tw, taste, p["taste_strength"], n_ab)
    link = _link_probabilities(items, users, rows, n_ab)
    has = link.sum(axis=1) > 0
    lam = np.where(has, p["link_strength"], 0.0)[:, None]
    return (1 - lam) * prob + lam * link


def _link_probabilities(
    items: dict[str, np.ndarray],
    users: dict[str, np.ndarray],
    rows: np.ndarray,
    n_ab: int,
) -> np.ndarray:
    """P(book | link route) per user row: a linked show by listening share, its book by pop."""
    out = np.zeros((len(rows), n_ab))
    linked = np.flatnonzero(items["link_podcast"] >= 0)
    show_of = items["link_podcast"][linked]
    pos = pd.Series(np.arange(len(rows)), index=rows)
    su = users["show_user"]
    m = np.isin(su, rows) & np.isin(users["show_item"], show_of)
    if not m.any():
        return out
    shows = pd.DataFrame(
        {
            "row": pos.loc[su[m]].to_numpy(),
            "show": users["show_item"][m],
            "w": users["show_weight"][m].astype(float),
        }
    )
    shows["w"] /= shows.groupby("row")["w"].transform("sum")
    books = pd.DataFrame(
        {"show": show_of, "book": linked, "pop": items["ab_pop"][linked]}
    )
    books["pop"] /= books.groupby("show")["pop"].transform("sum")
    j = shows.merge(books, on="show")
    np.add.at(
        out, (j["row"].to_numpy(), j["book"].to_numpy()), (j["w"] * j["pop"]).to_numpy()
    )
    return out


def oracle_scores(
    world: Path, user_ids: Sequence[str], item_ids: Sequence[str], at_ms: int
) -> np.ndarray:
    """Expected P(user streams item in the world's hold-out window after at_ms)."""
    world = Path(world)
    stamp = (world / fmt.MANIFEST_FILE).stat().st_mtime_ns  # a rewritten world reloads
    man, items, users, upos, ipos = _truth(str(world), stamp)
    p = man.params
    rows = upos.loc[list(user_ids)].to_numpy()
    cols = ipos.reindex(list(item_ids)).to_numpy()
    window = man.end_ms - man.split_ms
    rel_at = at_ms - man.start_ms

    choice = choice_probabilities(p, items, users, rows)
    choice[:, items["release"] > rel_at] = 0.0
    choice /= np.maximum(choice.sum(axis=1, keepdims=True), 1e-300)
    ueff = users["logit_effect"][rows].astype(float)
    base = p["stream_base_logit"] + ueff
    mean_lift = sum(
        p[f"{s}_prob"] * np.log1p(p[f"{s}_lift"])
        for s in ("follow", "preview", "intent")
    )
    conv = _sigmoid(base + mean_lift)
    started = users["discovered"][rows] & (users["discover_ms"][rows] < rel_at + window)
    new_interests = np.where(
        started,
        users["interest_rate"][rows]
        * np.minimum(window, rel_at + window - users["discover_ms"][rows])
        / DAY_MS,
        0.0,
    )
    first_in_window = started & (users["discover_ms"][rows] >= rel_at)
    new_interests = new_interests + first_in_window
    f_new = 0.5  # about half of a new interest's streams start inside a 14-day window
    score = choice * (new_interests * conv * f_new)[:, None]
    score += _pending(world, stamp, user_ids, ipos, at_ms, window, p, base)
    return _take(score, cols)


@functools.lru_cache(maxsize=1)
def _truth(
    world: str,
    stamp: int,
) -> tuple[
    fmt.WorldManifest,
    dict[str, np.ndarray],
    dict[str, np.ndarray],
    pd.Series,
    pd.Series,
]:
    """A world's manifest, latent arrays and id positions, read once per world (the
    evaluation asks for its users chunk by chunk); stamp: the manifest's mtime."""
    man = fmt.WorldManifest.read(Path(world))
    d = Path(world) / ORACLE_DIR
    items = dict(np.load(d / "items.npz"))
    users = dict(np.load(d / "users.npz"))
    all_users = fmt.read_users(Path(world))[names.USER_ID]
    upos = pd.Series(np.arange(len(all_users)), index=all_users.to_numpy())
    cat = fmt.read_catalogue(Path(world))
    ab_ids = cat.loc[cat[names.ITEM_TYPE] == names.AUDIOBOOK, names.ITEM_ID].to_numpy()
    return man, items, users, upos, pd.Series(np.arange(len(ab_ids)), index=ab_ids)


@functools.lru_cache(maxsize=1)
def _audiobook_events(world: str, stamp: int, at_ms: int) -> pd.DataFrame:
    """A world's audiobook events before at_ms, read once per (world, stamp, time)."""
    ev = fmt.read_events(Path(world), until_ms=at_ms)
    return ev[ev[names.ITEM_TYPE] == names.AUDIOBOOK]


def _take(score: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.zeros((score.shape[0], len(cols)))
    ok = ~np.isnan(cols)
    out[:, ok] = score[:, cols[ok].astype(int)]
    return out


def _pending(
    world: Path,
    stamp: int,
    user_ids: Sequence[str],
    ipos: pd.Series,
    at_ms: int,
    window: int,
    p: dict[str, Any],
    base: np.ndarray,
) -> np.ndarray:
    """P(a stream of an already-signalled, unstreamed audiobook starts in the window)."""
    out = np.zeros((len(user_ids), len(ipos)))
    ev = _audiobook_events(str(world), stamp, at_ms)
    ev = ev[ev[names.USER_ID].isin(user_ids)]
    if not len(ev):
        return out
    key = [names.USER_ID, names.ITEM_ID]
    first = ev.groupby(key + [names.EVENT_TYPE])[names.TS].min().unstack()
    streamed = first[names.STREAM].notna() if names.STREAM in first else False
    first = first[~streamed]
    if not len(first):
        return out
    sig = {
        "follow": names.FOLLOW,
        "preview": names.PREVIEW,
        "intent": names.INTENT_TO_PAY,
    }
    upos = pd.Series(np.arange(len(user_ids)), index=list(user_ids))
    r = upos.loc[first.index.get_level_values(0)].to_numpy()
    c = ipos.loc[first.index.get_level_values(1)].to_numpy()
    lift = np.zeros(len(first))
    t_first = np.full(len(first), np.inf)
    for k, col in sig.items():
        if col in first:
            has = first[col].notna().to_numpy()
            lift += has * np.log1p(p[f"{k}_lift"])
            t_first = np.minimum(t_first, first[col].fillna(np.inf).to_numpy())
    ps = _sigmoid(base[r] + lift)
    age = at_ms - t_first
    f_now = _delay_cdf(age, p["stream_delay_days"])
    f_end = _delay_cdf(age + window, p["stream_delay_days"])
    pending = ps * (f_end - f_now) / np.maximum(1 - ps * f_now, 1e-9)
    declined = (1 - ps) / np.maximum(1 - ps * f_now, 1e-9)
    back = _delay_cdf(age + window, p["revisit_delay_days"]) - _delay_cdf(
        age, p["revisit_delay_days"]
    )
    rv = _sigmoid(base[r] + np.log1p(p["preview_lift"]))
    out[r, c] = pending + declined * p["revisit_prob"] * back * rv
    return out
