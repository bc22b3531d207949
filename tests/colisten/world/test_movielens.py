"""Tests of the MovieLens adapter: the real ml-latest-small (read-only), tiny CSVs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest

from colisten import names
from colisten.events import MIN_TS_MS
from colisten.settings import settings
from colisten.timeunits import WEEK_MS
from colisten.world import format as wf
from colisten.world.movielens import (
    NAMESPACE,
    MovieLensMapping,
    import_movielens,
)

REPO = Path(__file__).resolve().parents[3]
World = tuple[Path, wf.WorldManifest]
Csvs = dict[str, pd.DataFrame]


def shared_dir() -> Path:
    """The shared data directory: $COLISTEN_SHARED_DIR, else <repo>/../shared."""
    return settings().shared_dir or (REPO / ".." / "shared").resolve()


ML_DIR = shared_dir() / "datasets" / "movielens-latest-small"
needs_ml = pytest.mark.skipif(
    not (ML_DIR / "ratings.csv").exists(), reason=f"MovieLens not found at {ML_DIR}"
)


@pytest.fixture(scope="module")
def csvs() -> Csvs:
    """The raw MovieLens CSVs, read independently of the adapter."""
    return {
        "movies": pd.read_csv(ML_DIR / "movies.csv"),
        "ratings": pd.read_csv(ML_DIR / "ratings.csv"),
        "tags": pd.read_csv(ML_DIR / "tags.csv", keep_default_na=False),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One import of the real dataset into a temporary directory."""
    out = tmp_path_factory.mktemp("ml") / "world"
    return out, import_movielens(ML_DIR, out)


def _tags_of(description: str) -> list[str]:
    if " Tags: " not in description and not description.startswith("Tags: "):
        return []
    return description.split("Tags: ", 1)[1][:-1].split("; ")


@needs_ml
def test_counts_match_pandas(world: World, csvs: Csvs) -> None:
    out, manifest = world
    movies, ratings, tags = csvs["movies"], csvs["ratings"], csvs["tags"]
    is_doc = movies["genres"].str.split("|").apply(lambda g: "Documentary" in g)
    expected = {
        "users": len(set(ratings["userId"]) | set(tags["userId"])),
        "items": len(movies),
        "audiobooks": int(is_doc.sum()),
        "podcasts": int((~is_doc).sum()),
        "events_stream": int((ratings["rating"] >= 4.0).sum()),
        "events_preview": int(ratings["rating"].between(3.0, 3.5).sum()),
        "events_follow": len(tags.drop_duplicates()),
        "events_intent_to_pay": 0,
        "ratings_dropped": int((ratings["rating"] <= 2.5).sum()),
    }
    assert expected["audiobooks"] == 440 and expected["users"] == 610
    assert {k: manifest.counts[k] for k in expected} == expected
    events = wf.read_events(out)
    by_type = events[names.EVENT_TYPE].value_counts().to_dict()
    assert by_type == {
        t: expected[f"events_{t}"] for t in (names.STREAM, names.PREVIEW, names.FOLLOW)
    }
    assert len(events) == manifest.counts["events"] == sum(by_type.values())
    assert events[names.EVENT_ID].is_unique
    catalogue = wf.read_catalogue(out)
    assert len(catalogue) == len(movies) and catalogue["item_id"].is_unique
    types = dict(zip(catalogue["item_id"], catalogue["item_type"], strict=True))
    want = {f"ml-{m}": d for m, d in zip(movies["movieId"], is_doc, strict=True)}
    assert all((types[i] == names.AUDIOBOOK) == d for i, d in want.items())
    ev_types = events[names.ITEM_ID].map(types)
    assert (ev_types == events[names.ITEM_TYPE]).all()
    n_audiobooks = (catalogue["item_type"] == names.AUDIOBOOK).sum()
    assert manifest.counts["audiobooks"] == n_audiobooks


@needs_ml
def test_event_fields(world: World, csvs: Csvs) -> None:
    out, manifest = world
    events = wf.read_events(out)
    streams = events[events[names.EVENT_TYPE] == names.STREAM]
    assert streams[names.DURATION_MS].notna().all()
    assert streams[names.DURATION_MS].between(48 * 60_000, 60 * 60_000).all()
    others = events[events[names.EVENT_TYPE] != names.STREAM]
    assert others[names.DURATION_MS].isna().all()
    keys = events[["ts", "event_id"]]
    assert keys.equals(keys.sort_values(["ts", "event_id"]).reset_index(drop=True))
    first = csvs["ratings"].iloc[0]
    key = f"rating:{first.userId:.0f}:{first.movieId:.0f}:{first.timestamp:.0f}"
    eid = str(uuid.uuid5(NAMESPACE, key))
    row = events[events[names.EVENT_ID] == eid].iloc[0]
    assert row[names.USER_ID] == f"mlu-{first.userId:.0f}"
    assert row[names.TS] == first.timestamp * 1000 + manifest.params["ts_shift_ms"]
    for fname, schema in [
        (wf.CATALOGUE_FILE, wf.CATALOGUE_SCHEMA),
        (wf.USERS_FILE, wf.USERS_SCHEMA),
    ]:
        assert pd.read_parquet(out / fname).columns.tolist() == schema.names
    assert wf.events_dataset(out).schema.equals(wf.EVENTS_SCHEMA)


@needs_ml
def test_split_and_time(world: World, csvs: Csvs) -> None:
    out, manifest = world
    shift = manifest.params["ts_shift_ms"]
    src_min = min(csvs["ratings"]["timestamp"].min(), csvs["tags"]["timestamp"].min())
    assert shift % WEEK_MS == 0 and 0 < shift
    assert manifest.start_ms >= MIN_TS_MS > manifest.start_ms - WEEK_MS
    events = wf.read_events(out)
    assert manifest.start_ms == events["ts"].min()
    assert manifest.start_ms - shift == src_min * 1000
    assert manifest.end_ms == events["ts"].max() + 1
    assert manifest.start_ms < manifest.split_ms < manifest.end_ms
    train = (events["ts"] < manifest.split_ms).sum()
    assert train == manifest.counts["events_train"]
    assert train + manifest.counts["events_holdout"] == len(events)
    holdout_share = manifest.counts["events_holdout"] / len(events)
    assert holdout_share == pytest.approx(0.15, abs=0.005)
    real_split = pd.Timestamp(manifest.split_ms - shift, unit="ms", tz="UTC")
    assert (
        pd.Timestamp("2015-01-01", tz="UTC")
        < real_split
        < pd.Timestamp("2018-09-01", tz="UTC")
    )
    assert len(wf.read_events(out, until_ms=manifest.split_ms)) == train
    assert manifest.source == "movielens" and manifest.seed is None
    assert manifest.params["sha256"]["ratings.csv"] == (
        "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"
    )


@needs_ml
def test_no_holdout_tags_in_descriptions(world: World, csvs: Csvs) -> None:
    out, manifest = world
    tags = csvs["tags"].copy()
    tags["ts"] = tags["timestamp"] * 1000 + manifest.params["ts_shift_ms"]
    tags["norm"] = tags["tag"].map(lambda t: " ".join(t.split()).casefold())
    tags["item_id"] = "ml-" + tags["movieId"].astype(str)
    train = tags[tags["ts"] < manifest.split_ms]
    train_tags = train.groupby("item_id")["norm"].agg(set).to_dict()
    holdout_only = tags[tags["ts"] >= manifest.split_ms]
    holdout_only = holdout_only[
        [
            n not in train_tags.get(i, set())
            for i, n in zip(holdout_only["item_id"], holdout_only["norm"], strict=True)
        ]
    ]
    assert len(holdout_only) > 100  # the check below has something to catch
    catalogue = wf.read_catalogue(out).set_index("item_id")
    listed = {
        i: {t.casefold() for t in _tags_of(d)}
        for i, d in catalogue["description"].items()
    }
    leaks = [
        (i, n)
        for i, n in zip(holdout_only["item_id"], holdout_only["norm"], strict=True)
        if n in listed[i]
    ]
    assert leaks == []
    cap = MovieLensMapping().max_description_tags
    for item, described in listed.items():
        assert described <= train_tags.get(item, set())
        assert len(described) == min(cap, len(train_tags.get(item, set())))


@needs_ml
def test_catalogue_text_and_users(world: World) -> None:
    out, _ = world
    cat = wf.read_catalogue(out).set_index("item_id")
    toy = cat.loc["ml-1"]
    assert toy["title"] == "Toy Story (1995)"
    genres = "Adventure, Animation, Children, Comedy, Fantasy."
    assert toy["description"].startswith(genres)
    assert toy["genre"] == "Adventure" and toy["language"] == "en"
    assert toy["release_date"] == pd.Timestamp("1995-01-01", tz="UTC")
    no_year = cat[cat["title"] == "Babylon 5"].iloc[0]
    assert no_year["release_date"] == pd.Timestamp("1900-01-01", tz="UTC")
    assert (cat["publisher"] == "unknown").all()
    users = wf.read_users(out)
    assert users["user_id"].str.startswith("mlu-").all() and users["user_id"].is_unique
    assert users["age"].isna().all() and users["country"].isna().all()
    assert users["music_taste"].map(len).eq(0).all()


@needs_ml
@pytest.mark.slow
def test_import_is_deterministic(world: World, tmp_path: Path) -> None:
    out, manifest = world
    again = import_movielens(ML_DIR, tmp_path / "again")
    assert again == manifest
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "again")
        for p in (tmp_path / "again").rglob("*")
        if p.is_file()
    )
    for rel in files:
        assert (out / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


def _tiny(src: Path, tag_movie: int = 2) -> Path:
    src.mkdir()
    (src / "movies.csv").write_text(
        "movieId,title,genres\n1,A Film (1998),Documentary|Drama\n"
        "2,Other,(no genres listed)\n"
    )
    (src / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,5.0,900000000\n1,2,2.0,1000000000\n"
        "2,2,3.5,1000000100\n2,1,4.0,1000000200\n"
    )
    (src / "tags.csv").write_text(
        "userId,movieId,tag,timestamp\n"
        f"1,{tag_movie},early tag,940000000\n1,{tag_movie},early tag,940000000\n"
        f"3,{tag_movie},late tag,1000000300\n"
    )
    return src


def test_tiny_shift(tmp_path: Path) -> None:
    src = _tiny(tmp_path / "src")
    cfg = MovieLensMapping(holdout_fraction=0.25)
    m = import_movielens(src, tmp_path / "w", cfg)
    assert m.counts["duplicates_dropped"] == 1
    assert m.counts["events"] == 5 and m.counts["users"] == 3
    assert m.counts["events_holdout"] == 1 and m.start_ms >= MIN_TS_MS
    cat = wf.read_catalogue(tmp_path / "w").set_index("item_id")
    assert cat.loc["ml-2", "description"] == "Tags: early tag."
    assert cat.loc["ml-2", "genre"] == "Unknown"
    assert cat.loc["ml-1", "item_type"] == names.AUDIOBOOK


def test_tiny_drop_pre_2000(tmp_path: Path) -> None:
    src = _tiny(tmp_path / "src")
    m = import_movielens(src, tmp_path / "w", MovieLensMapping(pre_2000="drop"))
    assert m.params["ts_shift_ms"] == 0 and m.counts["pre_2000_dropped"] == 2
    assert m.counts["events"] == 3 and m.start_ms == 1_000_000_100_000


def test_tiny_unknown_movie_fails_loudly(tmp_path: Path) -> None:
    src = _tiny(tmp_path / "src", tag_movie=99)
    with pytest.raises(ValueError, match="missing from movies.csv"):
        import_movielens(src, tmp_path / "w")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"holdout_fraction": 0.0},
        {"holdout_fraction": 1.0},
        {"preview_min_rating": 4.5},
        {"pre_2000": "keep"},
    ],
)
def test_mapping_rejects_bad_config(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MovieLensMapping(**kwargs)
