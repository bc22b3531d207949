"""The generative model of the synthetic world: users, their tastes and behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from colisten import names
from colisten.timeunits import DAY_MS, HOUR_MS
from colisten.world.catalogue import (  # noqa: F401  (re-exported)
    Catalogue,
    Pools,
    build_catalogue,
)

if TYPE_CHECKING:
    from colisten.world.generator import WorldParams

ETYPES: tuple[str, ...] = names.EVENT_TYPES
"""Event type codes are indexes into this tuple."""
PLATFORMS: tuple[str, ...] = ("ios", "android", "web", "desktop")
COUNTRIES: tuple[str, ...] = (
    "US",
    "GB",
    "CA",
    "AU",
    "IE",
    "NL",
    "SE",
    "DE",
    "ES",
    "MX",
    "FR",
)
_COUNTRY_WEIGHTS = np.array(
    [0.34, 0.12, 0.05, 0.04, 0.03, 0.03, 0.08, 0.1, 0.06, 0.06, 0.09]
)
_COUNTRY_LANG = {"SE": "sv", "DE": "de", "ES": "es", "MX": "es", "FR": "fr"}
EVENT_DTYPE = np.dtype(
    [
        ("ts", np.int64),
        ("hi", np.uint64),
        ("lo", np.uint64),
        ("user", np.int32),
        ("item", np.int32),
        ("dur", np.int64),
        ("etype", np.int8),
        ("plat", np.int8),
    ]
)
"""Compact event rows: ts relative to the window start; item indexes audiobooks first;
dur is -1 where the event has no duration."""
_STREAM, _FOLLOW, _PREVIEW, _INTENT = (
    ETYPES.index(e)
    for e in (names.STREAM, names.FOLLOW, names.PREVIEW, names.INTENT_TO_PAY)
)
_PROJECTION_STREAM, _USERS_STREAM = 2, 3


def music_projection(params: WorldParams, seed: int) -> np.ndarray:
    """The fixed random projection from topic mixtures to music-taste vectors."""
    rng = np.random.default_rng([seed, _PROJECTION_STREAM])
    return rng.normal(size=(params.n_topics, params.music_dim))


@dataclass
class UserChunk:
    """Demographics and latent tastes of a chunk of users (global first .. first + n)."""

    age: np.ndarray
    country: np.ndarray
    music: np.ndarray
    theta: np.ndarray
    """Podcast topic mixture."""
    theta_ab: np.ndarray
    """Audiobook topic mixture: part podcast taste, part the user's own."""
    taste_pod: np.ndarray
    """Item-level podcast taste vector (dot with an item offset gives affinity)."""
    taste_ab: np.ndarray
    lang: np.ndarray
    """Native language index (0 = English)."""


@dataclass
class ChunkResult:
    """A simulated chunk of users: records, events, latent interests, oracle truth."""

    users: UserChunk
    events: np.ndarray
    interests: dict[str, np.ndarray]
    """Latent user×audiobook interests: user, item, ts, each signal, streamed."""
    truth: dict[str, np.ndarray]
    """Per-user latent quantities the oracle needs (colisten.world.oracle)."""


def _group_pos(counts: np.ndarray) -> np.ndarray:
    """Position of each element within its group, for groups laid out by np.repeat."""
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)


def _topics_for(
    rng: np.random.Generator, theta: np.ndarray, who: np.ndarray, explore: float
) -> np.ndarray:
    cum = np.cumsum(theta, axis=1)
    u = rng.random(len(who)) * cum[who, -1]
    z = (u[:, None] > cum[who]).sum(axis=1)
    z = np.minimum(z, theta.shape[1] - 1)
    return np.where(rng.random(len(who)) < explore, -1, z)


def _dedupe(
    user: np.ndarray, item: np.ndarray, ts: np.ndarray | None = None
) -> np.ndarray:
    """Indexes keeping the first (earliest when ts given) row per (user, item)."""
    key = user.astype(np.int64) * (1 << 31) + item
    order = np.lexsort((ts, key)) if ts is not None else np.argsort(key, kind="stable")
    keep = np.ones(len(order), bool)
    keep[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[keep])


def _lognormal(
    rng: np.random.Generator, median: float, sigma: float, n: int
) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, n)


def _dirichlet(rng: np.random.Generator, p: WorldParams, n: int) -> np.ndarray:
    n_t = p.n_topics
    prevalence = (np.arange(n_t) + 1.0) ** -p.topic_prevalence_decay
    alpha = p.topic_alpha * n_t * prevalence / prevalence.sum()
    theta = rng.gamma(alpha, size=(n, n_t)) + 1e-12
    return theta / theta.sum(axis=1, keepdims=True)


def show_weights(n_shows: np.ndarray, focus: float) -> np.ndarray:
    """Share of a listener's streams on their k-th show (k = floor(n · U^focus))."""
    k = _group_pos(n_shows)
    n = np.repeat(n_shows, n_shows).astype(float)
    return ((k + 1) / n) ** (1 / focus) - (k / n) ** (1 / focus)


def draw_users(
    rng: np.random.Generator, p: WorldParams, proj: np.ndarray, n: int
) -> UserChunk:
    """Demographics, topic mixtures per domain, item-level tastes and music taste."""
    theta_pod = _dirichlet(rng, p, n)
    theta_own = _dirichlet(rng, p, n)
    theta_music = _dirichlet(rng, p, n)
    a = p.audiobook_own_taste
    theta_ab = (1 - a) * theta_pod + a * theta_own
    d = p.taste_dim
    taste_pod = rng.normal(size=(n, d)) / np.sqrt(d)
    taste_ab = np.sqrt(1 - a) * taste_pod + np.sqrt(a) * rng.normal(size=(n, d)) / (
        np.sqrt(d)
    )
    age = np.clip(rng.normal(36, 12, n), 16, 85).astype(np.int32)
    country = rng.choice(
        len(COUNTRIES), size=n, p=_COUNTRY_WEIGHTS / _COUNTRY_WEIGHTS.sum()
    )
    langs = ("en", *p.languages)
    lang_u = np.array(
        [
            langs.index(_COUNTRY_LANG[c]) if _COUNTRY_LANG.get(c) in langs else 0
            for c in COUNTRIES
        ]
    )[country]
    m = p.music_podcast_share
    music = ((1 - m) * theta_music + m * theta_pod) @ proj
    music /= np.linalg.norm(music, axis=1, keepdims=True) + 1e-9
    music += p.music_noise * rng.normal(size=music.shape) / np.sqrt(p.music_dim)
    return UserChunk(
        age,
        country.astype(np.int8),
        music.astype(np.float32),
        theta_pod,
        theta_ab,
        taste_pod,
        taste_ab,
        lang_u,
    )


def discover_probabilities(p: WorldParams) -> tuple[float, float]:
    """P(discover audiobooks) for podcast listeners and for non-listeners.

    Chosen so that the overall share is `audiobook_discover_share` and a share
    `audiobook_users_podcast_share` of audiobook users listen to podcasts.
    """
    d, s, q = (
        p.audiobook_discover_share,
        p.podcast_listener_share,
        p.audiobook_users_podcast_share,
    )
    listener = d * q / s
    other = d * (1 - q) / (1 - s) if s < 1 else 0.0
    if listener > 1 or other > 1:
        raise ValueError("discover share, listener share and overlap are inconsistent")
    return listener, other


def _linked_choice(
    rng: np.random.Generator,
    who: np.ndarray,
    user_links: dict[int, tuple[np.ndarray, np.ndarray]],
    books_of: dict[int, tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Per request: a linked show of the user (by their listening), then its book."""
    out = np.empty(len(who), np.int64)
    u1, u2 = rng.random(len(who)), rng.random(len(who))
    for k, w in enumerate(who):
        shows, weight = user_links[int(w)]
        cum = np.cumsum(weight)
        show = shows[
            min(np.searchsorted(cum, u1[k] * cum[-1], "right"), len(shows) - 1)
        ]
        books, pop = books_of[int(show)]
        cum = np.cumsum(pop)
        out[k] = books[
            min(np.searchsorted(cum, u2[k] * cum[-1], "right"), len(books) - 1)
        ]
    return out


def _sessions(
    rng: np.random.Generator,
    p: WorldParams,
    cat: Catalogue,
    start: np.ndarray,
    who: np.ndarray,
    item: np.ndarray,
    binge: np.ndarray,
    minutes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Listening sessions of streamed audiobooks: (user, item, ts, duration)."""
    mean_sess = (
        1.0 + (p.sessions_max - 1.0) * cat.ab_quality[item] ** p.completion_power
    )
    mean_sess = 1.0 + (mean_sess - 1.0) * binge[who]
    n_sess = rng.geometric(1.0 / mean_sess)
    rec = np.repeat(np.arange(len(who)), n_sess)
    gaps = (rng.exponential(1.0, len(rec)) * DAY_MS).astype(np.int64)
    gaps[_group_pos(n_sess) == 0] = 0
    cum = np.cumsum(gaps)
    ts = start[rec] + cum - cum[np.repeat(np.cumsum(n_sess) - n_sess, n_sess)]
    dur = _lognormal(rng, p.audiobook_minutes_median * 60_000, 0.5, len(rec))
    dur *= minutes[who[rec]]
    return who[rec], item[rec], ts, dur


def simulate_users(
    cat: Catalogue,
    params: WorldParams,
    proj: np.ndarray,
    seed: int,
    chunk: int,
    first: int,
    n: int,
) -> ChunkResult:
    """Simulate users first..first+n: tastes, podcast habits, audiobooks."""
    rng = np.random.default_rng([seed, _USERS_STREAM, chunk])
    p = params
    span = p.span_days * DAY_MS
    users = draw_users(rng, p, proj, n)
    lang_u = users.lang
    plat_u = rng.integers(0, len(PLATFORMS), n)

    def pick_lang(who: np.ndarray) -> np.ndarray:
        native = rng.random(len(who)) < p.native_language_pick
        return np.where(native, lang_u[who], 0)

    # Podcasts: a few shows per listener, streamed all window long. ----------------
    listener = rng.random(n) < p.podcast_listener_share
    r = p.shows_dispersion
    extra = rng.negative_binomial(r, r / (r + p.shows_mean - 1.0), n)
    n_shows = np.where(listener, 1 + extra, 0)
    su = np.repeat(np.arange(n), n_shows)
    si = cat.pod_pools.draw(
        rng,
        pick_lang(su),
        _topics_for(rng, users.theta, su, p.explore_share),
        users.taste_pod[su],
        p.taste_strength,
    )
    keep = _dedupe(su, si)
    su, si = su[keep], si[keep]
    ns = np.bincount(su, minlength=n)
    starts = np.cumsum(ns) - ns
    sw = show_weights(ns, p.show_focus)
    rate = _lognormal(rng, p.podcast_rate_median, p.podcast_rate_sigma, n)
    n_str = np.where(ns > 0, rng.poisson(rate * p.span_days), 0)
    pu = np.repeat(np.arange(n), n_str)
    k = np.floor(ns[pu] * rng.random(len(pu)) ** p.show_focus).astype(np.int64)
    p_item = si[starts[pu] + k]
    p_ts = rng.integers(0, span, len(pu))
    p_dur = _lognormal(rng, p.podcast_minutes_median * 60_000, 0.6, len(pu))
    fol = rng.random(len(su)) < p.podcast_follow_prob
    pf_user, pf_item = su[fol], si[fol]
    pf_ts = rng.integers(0, span, len(pf_user))

    # Links: which of a listener's shows have books, and with what weight. ---------
    n_ab = len(cat.ab_quality)
    books_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    linked_ab = np.flatnonzero(cat.link_podcast >= 0)
    for show in np.unique(cat.link_podcast[linked_ab]):
        books = linked_ab[cat.link_podcast[linked_ab] == show]
        books_of[int(show) + n_ab] = (books, cat.ab_pop[books])
    has_book = np.isin(si, np.fromiter(books_of, np.int64, len(books_of)))
    user_links: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for u in np.unique(su[has_book]):
        m = has_book & (su == u)
        user_links[int(u)] = (si[m], sw[m])

    # Audiobooks: discovery, then interests; signals shift the odds of a stream. -----
    d_listener, d_other = discover_probabilities(p)
    disc = rng.random(n) < np.where(listener, d_listener, d_other)
    d0 = rng.integers(0, span, n)
    irate = _lognormal(rng, p.interest_rate_median, p.interest_rate_sigma, n)
    days_left = (span - d0) / DAY_MS
    n_int = np.where(disc, 1 + rng.poisson(irate * days_left), 0)
    iu = np.repeat(np.arange(n), n_int)
    first_int = _group_pos(n_int) == 0
    it = np.where(
        first_int,
        d0[iu],
        d0[iu] + (rng.random(len(iu)) * (span - d0[iu])).astype(np.int64),
    )

    def by_taste(who: np.ndarray) -> np.ndarray:
        return cat.ab_pools.draw(
            rng,
            pick_lang(who),
            _topics_for(rng, users.theta_ab, who, p.explore_share),
            users.taste_ab[who],
            p.taste_strength,
        )

    ii = by_taste(iu)
    can_link = np.isin(iu, np.fromiter(user_links, np.int64, len(user_links)))
    via = np.flatnonzero(can_link & (rng.random(len(iu)) < p.link_strength))
    ii[via] = _linked_choice(rng, iu[via], user_links, books_of)
    for _ in range(4):  # redraw items not yet released at interest time
        bad = np.flatnonzero(cat.ab_release[ii] > it)
        if not len(bad):
            break
        ii[bad] = by_taste(iu[bad])
    ok = cat.ab_release[ii] <= it
    iu, ii, it = iu[ok], ii[ok], it[ok]
    keep = _dedupe(iu, ii, it)
    iu, ii, it = iu[keep], ii[keep], it[keep]
    m = len(iu)
    f = rng.random(m) < p.follow_prob
    pv = rng.random(m) < p.preview_prob
    ip = rng.random(m) < p.intent_prob
    ueff = rng.normal(0.0, p.user_logit_sigma, n)
    logit = (
        p.stream_base_logit
        + ueff[iu]
        + f * np.log1p(p.follow_lift)
        + pv * np.log1p(p.preview_lift)
        + ip * np.log1p(p.intent_lift)
    )
    streamed = rng.random(m) < 1.0 / (1.0 + np.exp(-logit))
    pv_ts = it + rng.integers(0, HOUR_MS, m)
    f_ts = it + rng.integers(0, 3 * HOUR_MS, m)
    ip_ts = it + rng.integers(HOUR_MS, 4 * HOUR_MS, m)
    s_start = it + 4 * HOUR_MS + _delay(rng, p.stream_delay_days, m)

    # A declined interest comes back (a preview) with a small probability. ---------
    back = np.flatnonzero(~streamed & (rng.random(m) < p.revisit_prob))
    rv_ts = it[back] + 4 * HOUR_MS + _delay(rng, p.revisit_delay_days, len(back))
    rv_logit = p.stream_base_logit + ueff[iu[back]] + np.log1p(p.preview_lift)
    rv_streamed = rng.random(len(back)) < 1.0 / (1.0 + np.exp(-rv_logit))
    rv_start = rv_ts + 4 * HOUR_MS + _delay(rng, p.stream_delay_days, len(back))

    binge = _lognormal(rng, 1.0, p.binge_sigma, n)
    minutes = _lognormal(rng, 1.0, p.user_minutes_sigma, n)
    s_user, s_item, s_ts, s_dur = _sessions(
        rng,
        p,
        cat,
        np.concatenate([s_start[streamed], rv_start[rv_streamed]]),
        np.concatenate([iu[streamed], iu[back][rv_streamed]]),
        np.concatenate([ii[streamed], ii[back][rv_streamed]]),
        binge,
        minutes,
    )

    parts = [
        (pu, p_item, p_ts, _STREAM, p_dur),
        (pf_user, pf_item, pf_ts, _FOLLOW, None),
        (iu[pv], ii[pv], pv_ts[pv], _PREVIEW, None),
        (iu[f], ii[f], f_ts[f], _FOLLOW, None),
        (iu[ip], ii[ip], ip_ts[ip], _INTENT, None),
        (iu[back], ii[back], rv_ts, _PREVIEW, None),
        (s_user, s_item, s_ts, _STREAM, s_dur),
    ]
    ev = _event_rows(rng, parts, first, plat_u)
    ev = ev[ev["ts"] < span]
    interests = {
        "user": iu + first,
        "item": ii,
        "ts": it,
        "follow": f,
        "preview": pv,
        "intent_to_pay": ip,
        "streamed": streamed,
    }
    truth = {
        "theta_ab": users.theta_ab.astype(np.float32),
        "taste_ab": users.taste_ab.astype(np.float32),
        "lang": users.lang.astype(np.int8),
        "logit_effect": ueff.astype(np.float32),
        "interest_rate": irate.astype(np.float32),
        "discovered": disc,
        "discover_ms": d0,
        "show_user": (su + first).astype(np.int64),
        "show_item": (si - n_ab).astype(np.int64),
        "show_weight": sw.astype(np.float32),
    }
    return ChunkResult(users, ev, interests, truth)


def _delay(rng: np.random.Generator, mean_days: float, n: int) -> np.ndarray:
    return (rng.exponential(mean_days, n) * DAY_MS).astype(np.int64)


def _event_rows(
    rng: np.random.Generator,
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray | None]],
    first: int,
    plat_u: np.ndarray,
) -> np.ndarray:
    """Compact event rows (EVENT_DTYPE) with version-4 ids and platforms."""
    total = sum(len(x[0]) for x in parts)
    ev = np.empty(total, EVENT_DTYPE)
    pos = 0
    for who, item, ts, code, dur in parts:
        sl = slice(pos, pos + len(who))
        ev["user"][sl] = who + first
        ev["item"][sl] = item
        ev["ts"][sl] = ts
        ev["etype"][sl] = code
        ev["dur"][sl] = -1 if dur is None else np.clip(dur, 1000, 6 * HOUR_MS)
        other = rng.random(len(who)) < 0.15
        ev["plat"][sl] = np.where(
            other, rng.integers(0, len(PLATFORMS), len(who)), plat_u[who]
        )
        pos += len(who)
    top = np.iinfo(np.uint64).max
    hi = rng.integers(0, top, total, dtype=np.uint64, endpoint=True)
    lo = rng.integers(0, top, total, dtype=np.uint64, endpoint=True)
    ev["hi"] = (hi & ~np.uint64(0xF000)) | np.uint64(0x4000)
    ev["lo"] = (lo & np.uint64(0x3FFF_FFFF_FFFF_FFFF)) | np.uint64(1 << 63)
    return ev
