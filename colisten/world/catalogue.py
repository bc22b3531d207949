"""The synthetic catalogue: items' topics, popularity, latent taste offsets and links."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from colisten import names
from colisten.timeunits import DAY_MS
from colisten.world import topics

if TYPE_CHECKING:
    from colisten.world.generator import WorldParams

CATALOGUE_STREAM = 1
_DRAW_CHUNK = 256
"""Requests scored against a pool at once (bounds memory at ~chunk × pool floats)."""


class Pools:
    """Item pools per (language, topic) with log base weights, for taste-aware choices.

    The weight of item i for a user with taste vector u is
    popularity_i × topic membership_i × exp(strength · u·offset_i): popularity and topic
    are shared by everyone, the last factor is the item-level taste that only
    co-consumption reveals.
    """

    def __init__(
        self,
        lang: np.ndarray,
        primary: np.ndarray,
        secondary: np.ndarray,
        pop: np.ndarray,
        offsets: np.ndarray,
        n_langs: int,
        n_topics: int,
        sec_weight: float,
        first: int,
    ) -> None:
        self.n_topics = n_topics
        self.n_langs = n_langs
        self.offsets = offsets
        self.first = first
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
                self.pools[self.key(li, z)] = (idx, np.log(w[idx]))
        for li in range(n_langs):  # fall back to English, then to any English item
            for z in range(-1, n_topics):
                if self.key(li, z) not in self.pools:
                    self.pools[self.key(li, z)] = self.pools.get(
                        self.key(0, z), self.pools[self.key(0, -1)]
                    )

    def key(self, lang: int | np.ndarray, topic: int | np.ndarray) -> np.ndarray:
        """Pool key of (language, topic); topic -1 is the language's whole catalogue."""
        return np.asarray(lang) * (self.n_topics + 1) + np.asarray(topic) + 1

    def logits(self, key: int, taste: np.ndarray, strength: float) -> np.ndarray:
        """Unnormalised log choice weights of a pool's items for rows of taste vectors."""
        idx, logw = self.pools[int(key)]
        return logw[None, :] + strength * (taste @ self.offsets[idx].T)

    def draw(
        self,
        rng: np.random.Generator,
        lang: np.ndarray,
        topic: np.ndarray,
        taste: np.ndarray,
        strength: float,
    ) -> np.ndarray:
        """One item (global index) per request, by Gumbel-max over the request's pool."""
        keys = self.key(lang, topic)
        out = np.empty(len(topic), np.int64)
        for key in np.unique(keys):
            rows = np.flatnonzero(keys == key)
            idx = self.pools[int(key)][0]
            for s in range(0, len(rows), _DRAW_CHUNK):
                r = rows[s : s + _DRAW_CHUNK]
                z = self.logits(key, taste[r], strength)
                z += rng.gumbel(size=z.shape)
                out[r] = idx[np.argmax(z, axis=1)] + self.first
        return out

    def probabilities(
        self,
        lang_weights: np.ndarray,
        topic_weights: np.ndarray,
        taste: np.ndarray,
        strength: float,
        n_items: int,
    ) -> np.ndarray:
        """P(item) per user: Σ_lang Σ_topic weight × softmax over the pool (oracle).

        lang_weights: users × languages, topic_weights: users × (topics + 1) with
        column 0 the whole-catalogue pool (topic -1); returns users × n_items (local).
        """
        out = np.zeros((len(taste), n_items))
        for li in range(self.n_langs):
            for z in range(-1, self.n_topics):
                w = lang_weights[:, li] * topic_weights[:, z + 1]
                rows = np.flatnonzero(w > 0)
                if not len(rows):
                    continue
                idx = self.pools[int(self.key(li, z))][0]
                logit = self.logits(int(self.key(li, z)), taste[rows], strength)
                logit -= logit.max(axis=1, keepdims=True)
                p = np.exp(logit)
                p /= p.sum(axis=1, keepdims=True)
                out[np.ix_(rows, idx)] += w[rows, None] * p
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
    ab_pop: np.ndarray
    """Audiobook base popularity (Zipf weight)."""
    link_podcast: np.ndarray
    """Per audiobook: the podcast (local index) it is linked to, or -1."""
    ab_arrays: dict[str, np.ndarray]
    """Audiobooks' primary, secondary, lang, pop and offsets (the oracle rebuilds pools)."""


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
    offsets = rng.normal(size=(n, params.taste_dim))
    return {
        "primary": primary,
        "secondary": secondary,
        "lang": lang,
        "pop": pop,
        "quality": 1.0 - rank / n,
        "offsets": offsets,
    }


def draw_links(
    params: WorldParams,
    rng: np.random.Generator,
    ab: dict[str, np.ndarray],
    pod: dict[str, np.ndarray],
) -> np.ndarray:
    """Link a share of audiobooks to one podcast each (a host's book, a franchise).

    The podcast has the audiobook's language; with probability `link_same_topic` it
    also shares its primary topic, else any topic. Nothing in either item's text says
    so: only users who stream both reveal the link.
    """
    n_ab = len(ab["pop"])
    out = np.full(n_ab, -1, np.int64)
    linked = np.flatnonzero(rng.random(n_ab) < params.linked_audiobook_share)
    same = rng.random(len(linked)) < params.link_same_topic
    u = rng.random(len(linked))
    for k, a in enumerate(linked):
        ok = pod["lang"] == ab["lang"][a]
        if same[k]:
            ok = ok & (pod["primary"] == ab["primary"][a])
        cand = np.flatnonzero(ok)
        if len(cand):
            out[a] = cand[min(int(u[k] * len(cand)), len(cand) - 1)]
    return out


def build_catalogue(params: WorldParams, seed: int) -> Catalogue:
    """Draw every item's topics, language, popularity, taste offset, links and text."""
    rng = np.random.default_rng([seed, CATALOGUE_STREAM])
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
    links = draw_links(params, rng, ab, pod)

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

    def pools(d: dict[str, np.ndarray], first: int) -> Pools:
        return Pools(
            d["lang"],
            d["primary"],
            d["secondary"],
            d["pop"],
            d["offsets"],
            len(langs),
            n_t,
            params.item_secondary_weight,
            first,
        )

    return Catalogue(
        table,
        pools(ab, 0),
        pools(pod, n_ab),
        ab_day.astype(np.int64) * DAY_MS,
        ab["quality"],
        ab["primary"],
        pod["primary"],
        ab["pop"],
        links,
        {k: v for k, v in ab.items() if k != "quality"},
    )
