"""The generative model of the synthetic world: catalogue, users and their behaviour."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from colisten import names
from colisten.world import topics

if TYPE_CHECKING:
    from colisten.world.generator import WorldParams

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
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
_CATALOGUE_STREAM, _PROJECTION_STREAM, _USERS_STREAM = 1, 2, 3


class Pools:
    """Popularity-weighted item pools per (language, topic), for vectorised choices."""

    def __init__(
        self,
        lang: np.ndarray,
        primary: np.ndarray,
        secondary: np.ndarray,
        pop: np.ndarray,
        n_langs: int,
        n_topics: int,
        sec_weight: float,
        offset: int,
    ) -> None:
        self.n_topics = n_topics
        self.pools: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for li in range(n_langs):
            for z in range(-1, n_topics):
                if z < 0:
                    w = pop.copy()
                else:
                    w = pop * ((primary == z) + sec_weight * (secondary == z))
                w = w * (lang == li)
                if w.sum() <= 0:
                    continue
                idx = np.flatnonzero(w)
                self.pools[self._key(li, z)] = (idx + offset, np.cumsum(w[idx]))
        for li in range(n_langs):  # fall back to English, then to any English item
            for z in range(-1, n_topics):
                key = self._key(li, z)
                if key not in self.pools:
                    self.pools[key] = self.pools.get(
                        self._key(0, z), self.pools[self._key(0, -1)]
                    )

    def _key(self, lang: int, topic: int) -> int:
        return lang * (self.n_topics + 1) + topic + 1

    def draw(
        self, rng: np.random.Generator, lang: np.ndarray, topic: np.ndarray
    ) -> np.ndarray:
        """One item per (language, topic) request; topic -1 means global popularity."""
        u = rng.random(len(topic))
        keys = self._key(lang, topic)
        out = np.empty(len(topic), np.int64)
        for key in np.unique(keys):
            mask = keys == key
            idx, cum = self.pools[int(key)]
            pos = np.searchsorted(cum, u[mask] * cum[-1], side="right")
            out[mask] = idx[np.minimum(pos, len(idx) - 1)]
        return out


@dataclass
class Catalogue:
    """The generated catalogue: its table plus the arrays the behaviour model needs."""

    table: pa.Table
    ab_pools: Pools
    pod_pools: Pools
    ab_release: np.ndarray
    """Audiobook release time, ms relative to the window start."""
    ab_quality: np.ndarray
    """Audiobook quality in (0, 1], the popularity percentile: drives completion."""
    ab_topic: np.ndarray
    pod_topic: np.ndarray


def _items(
    params: WorldParams,
    rng: np.random.Generator,
    n: int,
    zipf: float,
    prevalence: np.ndarray,
) -> dict[str, np.ndarray]:
    n_t = params.n_topics
    primary = rng.choice(n_t, size=n, p=prevalence)
    primary[: min(n, n_t)] = np.arange(min(n, n_t))  # every topic has an item
    mixed = rng.random(n) < params.item_mix_share
    secondary = np.where(mixed, (primary + rng.integers(1, n_t, n)) % n_t, -1)
    langs = ("en", *params.languages)
    lang = np.where(
        rng.random(n) < params.foreign_language_share, rng.integers(1, len(langs), n), 0
    )
    lang[: min(n, n_t)] = 0
    rank = rng.permutation(n)
    pop = (rank + 1.0) ** -zipf
    return {
        "primary": primary,
        "secondary": secondary,
        "lang": lang,
        "pop": pop,
        "quality": 1.0 - rank / n,
    }


def build_catalogue(params: WorldParams, seed: int) -> Catalogue:
    """Draw every item's topics, language, popularity, release date and text."""
    rng = np.random.default_rng([seed, _CATALOGUE_STREAM])
    rnd = random.Random(int(rng.integers(2**63)))
    n_t = params.n_topics
    if n_t > len(topics.TOPICS):
        raise ValueError(f"at most {len(topics.TOPICS)} topics are defined")
    prevalence = (np.arange(n_t) + 1.0) ** -params.topic_prevalence_decay
    prevalence /= prevalence.sum()
    langs = ("en", *params.languages)
    n_ab, n_pod = params.n_audiobooks, params.n_podcasts
    ab = _items(params, rng, n_ab, params.audiobook_zipf, prevalence)
    pod = _items(params, rng, n_pod, params.podcast_zipf, prevalence)
    span = params.span_days
    new = rng.random(n_ab) < params.new_release_share
    ab_day = np.where(
        new, rng.integers(0, span - 1, n_ab), -rng.integers(1, 4000, n_ab)
    )
    pod_day = -rng.integers(30, 3000, n_pod)

    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "item_id",
            "item_type",
            "title",
            "description",
            "language",
            "genre",
            "publisher",
            "release_date",
        )
    }
    start = params.start_ms
    for kind, d, days, n in (("a", ab, ab_day, n_ab), ("p", pod, pod_day, n_pod)):
        width = max(6, len(str(n - 1)))
        for i in range(n):
            prim = topics.TOPICS[int(d["primary"][i])]
            sec_i = int(d["secondary"][i])
            sec = topics.TOPICS[sec_i] if sec_i >= 0 else None
            lang = langs[int(d["lang"][i])]
            title, desc = topics.item_text(rnd, kind == "a", prim, sec, lang)
            if kind == "a":
                desc = f"{desc} Written by {topics.person_name(rnd)}."
                genre = rnd.choice(prim.bisac)
            else:
                desc = f"{desc} Hosted by {topics.person_name(rnd)}."
                genre = prim.podcast_category
            rows["item_id"].append(f"{kind}{i:0{width}d}")
            rows["item_type"].append(names.AUDIOBOOK if kind == "a" else names.PODCAST)
            rows["title"].append(title)
            rows["description"].append(desc)
            rows["language"].append(lang)
            rows["genre"].append(genre)
            rows["publisher"].append(topics.publisher_name(rnd, kind == "p"))
            rows["release_date"].append(start + int(days[i]) * DAY_MS)
    table = pa.table({k: pa.array(v) for k, v in rows.items()})
    table = table.set_column(
        7,
        "release_date",
        pa.array(rows["release_date"], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
    )
    mk = lambda d, off: Pools(  # noqa: E731
        d["lang"],
        d["primary"],
        d["secondary"],
        d["pop"],  # noqa: E731
        len(langs),
        n_t,
        params.item_secondary_weight,
        off,
    )
    return Catalogue(
        table,
        mk(ab, 0),
        mk(pod, n_ab),
        ab_day.astype(np.int64) * DAY_MS,
        ab["quality"],
        ab["primary"],
        pod["primary"],
    )


def music_projection(params: WorldParams, seed: int) -> np.ndarray:
    """The fixed random projection from topic mixtures to music-taste vectors."""
    rng = np.random.default_rng([seed, _PROJECTION_STREAM])
    return rng.normal(size=(params.n_topics, params.music_dim))


@dataclass
class UserChunk:
    """Demographics of a chunk of users (global indexes first .. first + n)."""

    age: np.ndarray
    country: np.ndarray
    music: np.ndarray
    theta: np.ndarray


@dataclass
class ChunkResult:
    """A simulated chunk of users: records, events and latent audiobook interests."""

    users: UserChunk
    events: np.ndarray
    interests: dict[str, np.ndarray]
    """Latent user×audiobook interests: user, item, ts, each signal, streamed."""


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


def simulate_users(
    cat: Catalogue,
    params: WorldParams,
    proj: np.ndarray,
    seed: int,
    chunk: int,
    first: int,
    n: int,
) -> ChunkResult:
    """Simulate users first..first+n: demographics, podcast habits, audiobooks."""
    rng = np.random.default_rng([seed, _USERS_STREAM, chunk])
    p = params
    span = p.span_days * DAY_MS
    n_t = p.n_topics
    prevalence = (np.arange(n_t) + 1.0) ** -p.topic_prevalence_decay
    alpha = p.topic_alpha * n_t * prevalence / prevalence.sum()
    theta = rng.gamma(alpha, size=(n, n_t)) + 1e-12
    theta /= theta.sum(axis=1, keepdims=True)
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
    music = theta @ proj
    music /= np.linalg.norm(music, axis=1, keepdims=True) + 1e-9
    music += p.music_noise * rng.normal(size=music.shape) / np.sqrt(p.music_dim)
    plat_u = rng.integers(0, len(PLATFORMS), n)
    users = UserChunk(age, country.astype(np.int8), music.astype(np.float32), theta)

    def pick_lang(who: np.ndarray) -> np.ndarray:
        native = rng.random(len(who)) < p.native_language_pick
        return np.where(native, lang_u[who], 0)

    # Podcasts: a few shows per listener, streamed all window long. ----------------
    listener = rng.random(n) < p.podcast_listener_share
    n_shows = np.where(listener, 1 + rng.poisson(p.shows_mean - 1, n), 0)
    su = np.repeat(np.arange(n), n_shows)
    si = cat.pod_pools.draw(
        rng, pick_lang(su), _topics_for(rng, theta, su, p.explore_share)
    )
    keep = _dedupe(su, si)
    su, si = su[keep], si[keep]
    ns = np.bincount(su, minlength=n)
    starts = np.cumsum(ns) - ns
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

    # Audiobooks: discovery, then interests; signals shift the odds of a stream. -----
    disc = rng.random(n) < p.audiobook_discover_share
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
    ii = cat.ab_pools.draw(
        rng, pick_lang(iu), _topics_for(rng, theta, iu, p.explore_share)
    )
    for _ in range(4):  # redraw items not yet released at interest time
        bad = np.flatnonzero(cat.ab_release[ii] > it)
        if not len(bad):
            break
        ii[bad] = cat.ab_pools.draw(
            rng, pick_lang(iu[bad]), _topics_for(rng, theta, iu[bad], p.explore_share)
        )
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
    s_start = (
        it
        + 4 * HOUR_MS
        + (rng.exponential(p.stream_delay_days, m) * DAY_MS).astype(np.int64)
    )
    binge = _lognormal(rng, 1.0, p.binge_sigma, n)
    mean_sess = 1.0 + (p.sessions_max - 1.0) * cat.ab_quality[ii] ** p.completion_power
    mean_sess = 1.0 + (mean_sess - 1.0) * binge[iu]
    n_sess = np.where(streamed, rng.geometric(1.0 / mean_sess), 0)
    su2 = np.repeat(np.arange(m), n_sess)
    gaps = (rng.exponential(1.0, len(su2)) * DAY_MS).astype(np.int64)
    gaps[_group_pos(n_sess) == 0] = 0
    cum = np.cumsum(gaps)
    s_ts = s_start[su2] + cum - cum[np.repeat(np.cumsum(n_sess) - n_sess, n_sess)]
    s_dur = _lognormal(rng, p.audiobook_minutes_median * 60_000, 0.5, len(su2))
    s_dur *= _lognormal(rng, 1.0, p.user_minutes_sigma, n)[iu[su2]]

    parts = [
        (pu, p_item, p_ts, _STREAM, p_dur),
        (pf_user, pf_item, pf_ts, _FOLLOW, None),
        (iu[pv], ii[pv], pv_ts[pv], _PREVIEW, None),
        (iu[f], ii[f], f_ts[f], _FOLLOW, None),
        (iu[ip], ii[ip], ip_ts[ip], _INTENT, None),
        (iu[su2], ii[su2], s_ts, _STREAM, s_dur),
    ]
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
    return ChunkResult(users, ev, interests)
