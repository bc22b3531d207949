"""Import MovieLens (ml-latest-small) as a colisten world, by a configurable mapping.

Mapping (shared/datasets/README.md); every rule is a field of `MovieLensMapping`:

- items: every movie in movies.csv becomes item "ml-<movieId>"; movies whose genres
  include `sparse_genre` ("Documentary") are audiobooks, all others podcasts.
- events: rating >= `stream_min_rating` is a stream (duration_ms = rating x
  `stream_ms_per_star`); `preview_min_rating` <= rating < `stream_min_rating` is a
  preview (no duration); lower ratings are dropped; each tag application is a follow.
- time: unix seconds become ms. The contract rejects ts before 2000-01-01 and
  MovieLens starts in 1996, so with `pre_2000="shift"` every ts moves forward by the
  smallest whole number of weeks that puts the first event on/after 2000-01-01 (gaps,
  order, weekday and time of day are kept; world.json params["ts_shift_ms"] holds the
  shift); `pre_2000="drop"` drops the earlier events instead.
- split: by event count, not timeline span. Sort kept events by (ts, event_id); the
  last `holdout_fraction` of them are hold-out and split_ms is the ts of the first of
  them; events tied at split_ms are hold-out too (ts < split_ms is training).
- text: title = the movie title as given; description = "<genres, comma separated>."
  then " Tags: <t1>; <t2>." with the item's tags applied before split_ms only
  (case-insensitively de-duplicated, in order of first application, at most
  `max_description_tags`). genre = the first listed genre ("Unknown" for
  "(no genres listed)"); language "en"; publisher "unknown"; release_date = Jan 1 (UTC)
  of the year in the title, else 1900-01-01.
- users: everyone in ratings.csv or tags.csv, "mlu-<userId>", with no demographics.
- event_id = uuid5(NAMESPACE, "rating:<user>:<movie>:<unix s>") or
  "tag:<user>:<movie>:<unix s>:<tag>" over source ids and source seconds (so ids do not
  depend on the ts shift); exact duplicates are dropped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from colisten import names
from colisten.events import MIN_TS_MS, validate_event
from colisten.records import CatalogueItem, UserRecord
from colisten.timeunits import WEEK_MS
from colisten.world.format import (
    CATALOGUE_FILE,
    CATALOGUE_SCHEMA,
    EVENTS_DIR,
    EVENTS_SCHEMA,
    MANIFEST_FILE,
    USERS_FILE,
    USERS_SCHEMA,
    WorldManifest,
)

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://colisten.dev/worlds/movielens")
"""Fixed namespace of the deterministic MovieLens event ids."""
ITEM_PREFIX = "ml-"
USER_PREFIX = "mlu-"
NO_GENRES = "(no genres listed)"
_YEAR_RE = re.compile(r"\((\d{4})[^()]*\)\s*$")


@dataclass(frozen=True)
class MovieLensMapping:
    """How MovieLens ratings, tags and movies map onto colisten items, events, time."""

    sparse_genre: str = "Documentary"
    stream_min_rating: float = 4.0
    preview_min_rating: float = 3.0
    stream_ms_per_star: int = 12 * 60 * 1000
    tags_as_follows: bool = True
    holdout_fraction: float = 0.15
    pre_2000: Literal["shift", "drop"] = "shift"
    max_description_tags: int = 25
    rows_per_part: int = 1_000_000

    def __post_init__(self) -> None:
        """Reject mappings that cannot produce a sensible world."""
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ValueError("holdout_fraction must be in (0, 1)")
        if self.preview_min_rating > self.stream_min_rating:
            raise ValueError("preview_min_rating must be <= stream_min_rating")
        if self.pre_2000 not in ("shift", "drop"):
            raise ValueError("pre_2000 must be 'shift' or 'drop'")
        if self.stream_ms_per_star < 0 or self.max_description_tags < 0:
            raise ValueError("stream_ms_per_star and max_description_tags must be >= 0")
        if self.rows_per_part < 1:
            raise ValueError("rows_per_part must be >= 1")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_sources(src: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    movies = pd.read_csv(
        src / "movies.csv",
        dtype={"movieId": "int64", "title": str, "genres": str},
        keep_default_na=False,
    )
    ratings = pd.read_csv(
        src / "ratings.csv",
        dtype={
            "userId": "int64",
            "movieId": "int64",
            "rating": "float64",
            "timestamp": "int64",
        },
    )
    tags = pd.read_csv(
        src / "tags.csv",
        dtype={"userId": "int64", "movieId": "int64", "tag": str, "timestamp": "int64"},
        keep_default_na=False,
    )
    return movies, ratings, tags


def _event_ids(keys: pd.Series) -> list[str]:
    return [str(uuid.uuid5(NAMESPACE, k)) for k in keys]


def _rating_events(ratings: pd.DataFrame, cfg: MovieLensMapping) -> pd.DataFrame:
    """Turn kept ratings into stream and preview events (raw source ts, in seconds)."""
    r = ratings[ratings["rating"] >= cfg.preview_min_rating].reset_index(drop=True)
    is_stream = r["rating"] >= cfg.stream_min_rating
    keys = (
        "rating:"
        + r["userId"].astype(str)
        + ":"
        + r["movieId"].astype(str)
        + ":"
        + r["timestamp"].astype(str)
    )
    duration = (r["rating"] * cfg.stream_ms_per_star).round().astype("int64")
    return pd.DataFrame(
        {
            names.EVENT_ID: _event_ids(keys),
            "src_user": r["userId"].to_numpy(),
            "src_movie": r["movieId"].to_numpy(),
            "src_ts": r["timestamp"].to_numpy(),
            names.EVENT_TYPE: np.where(is_stream, names.STREAM, names.PREVIEW),
            names.DURATION_MS: duration.astype("Int64").where(is_stream, pd.NA),
            "tag": None,
        }
    )


def _tag_events(tags: pd.DataFrame) -> pd.DataFrame:
    """Turn tag applications into follow events (raw source ts, in seconds)."""
    keys = (
        "tag:"
        + tags["userId"].astype(str)
        + ":"
        + tags["movieId"].astype(str)
        + ":"
        + tags["timestamp"].astype(str)
        + ":"
        + tags["tag"]
    )
    return pd.DataFrame(
        {
            names.EVENT_ID: _event_ids(keys),
            "src_user": tags["userId"].to_numpy(),
            "src_movie": tags["movieId"].to_numpy(),
            "src_ts": tags["timestamp"].to_numpy(),
            names.EVENT_TYPE: names.FOLLOW,
            names.DURATION_MS: pd.array([pd.NA] * len(tags), dtype="Int64"),
            "tag": tags["tag"].to_numpy(),
        }
    )


def _ts_shift_ms(min_src_ts_ms: int, cfg: MovieLensMapping) -> int:
    if cfg.pre_2000 != "shift" or min_src_ts_ms >= MIN_TS_MS:
        return 0
    return math.ceil((MIN_TS_MS - min_src_ts_ms) / WEEK_MS) * WEEK_MS


def _split_ms(ts_sorted: np.ndarray, fraction: float) -> int:
    """The ts of the first hold-out event when the last `fraction` are hold-out."""
    n_holdout = max(1, round(len(ts_sorted) * fraction))
    return int(ts_sorted[len(ts_sorted) - n_holdout])


def _release_date(title: str) -> pd.Timestamp:
    match = _YEAR_RE.search(title)
    year = int(match.group(1)) if match else 1900
    return pd.Timestamp(year=year, month=1, day=1, tz="UTC")


def _train_tags(
    events: pd.DataFrame, split_ms: int, limit: int
) -> dict[int, list[str]]:
    """Per movie: distinct tags applied before split_ms, in first-applied order."""
    follows = events[
        (events[names.EVENT_TYPE] == names.FOLLOW) & (events[names.TS] < split_ms)
    ]
    follows = follows.sort_values([names.TS, names.EVENT_ID], kind="stable")
    out: dict[int, list[str]] = {}
    seen: dict[int, set[str]] = {}
    for movie, tag in zip(follows["src_movie"], follows["tag"], strict=True):
        text = " ".join(str(tag).split())
        norm = text.casefold()
        if not text or norm in seen.setdefault(movie, set()):
            continue
        seen[movie].add(norm)
        out.setdefault(movie, []).append(text)
    return {m: t[:limit] for m, t in out.items()}


def _catalogue(
    movies: pd.DataFrame, tags_by_movie: dict[int, list[str]], cfg: MovieLensMapping
) -> pa.Table:
    """Build (and validate) the catalogue: every movie, in movieId order."""
    rows: list[dict[str, Any]] = []
    for movie, title, genres_raw in zip(
        movies["movieId"], movies["title"], movies["genres"], strict=True
    ):
        genres = [g for g in genres_raw.split("|") if g and g != NO_GENRES]
        desc = ", ".join(genres) + "." if genres else ""
        if tags_by_movie.get(movie):
            desc = (desc + " Tags: " + "; ".join(tags_by_movie[movie]) + ".").strip()
        item = CatalogueItem(
            item_id=f"{ITEM_PREFIX}{movie}",
            item_type=names.AUDIOBOOK if cfg.sparse_genre in genres else names.PODCAST,
            title=title.strip(),
            description=desc,
            language="en",
            genre=genres[0] if genres else "Unknown",
            publisher="unknown",
            release_date=_release_date(title).to_pydatetime(),
        )
        rows.append(item.model_dump())
    return pa.Table.from_pylist(rows, schema=CATALOGUE_SCHEMA)


def _users(user_ids: np.ndarray) -> pa.Table:
    """Build (and validate) the users: no demographics, empty music taste."""
    rows = [UserRecord(user_id=f"{USER_PREFIX}{u}").model_dump() for u in user_ids]
    return pa.Table.from_pylist(rows, schema=USERS_SCHEMA)


def _validate_all(events: pd.DataFrame, catalogue: set[str]) -> None:
    """Validate every event against the contract; raise listing the first failures."""
    now_ms = int(events[names.TS].max()) + 1
    fields = [f.name for f in EVENTS_SCHEMA]
    bad: list[str] = []
    n_bad = 0
    for rec in events[fields].to_dict("records"):
        obj = {k: v for k, v in rec.items() if v is not None and v is not pd.NA}
        if names.DURATION_MS in obj:
            obj[names.DURATION_MS] = int(obj[names.DURATION_MS])
        obj[names.TS] = int(obj[names.TS])
        result = validate_event(obj, catalogue=catalogue, now_ms=now_ms)
        if not result.ok:
            n_bad += 1
            if len(bad) < 5:
                bad.append(f"{obj}: {[r.as_dict() for r in result.reasons]}")
    if n_bad:
        raise ValueError(
            f"{n_bad} MovieLens events are invalid, e.g.\n" + "\n".join(bad)
        )


def _write_events(events: pd.DataFrame, out: Path, rows_per_part: int) -> None:
    edir = out / EVENTS_DIR
    edir.mkdir(parents=True, exist_ok=True)
    for stale in edir.glob("part-*.parquet"):
        stale.unlink()
    table = pa.Table.from_pandas(
        events[[f.name for f in EVENTS_SCHEMA]],
        schema=EVENTS_SCHEMA,
        preserve_index=False,
    ).replace_schema_metadata(None)
    for part, start in enumerate(range(0, max(len(events), 1), rows_per_part)):
        pq.write_table(
            table.slice(start, rows_per_part), edir / f"part-{part:05d}.parquet"
        )


def import_movielens(
    src: Path, out: Path, config: MovieLensMapping = MovieLensMapping()
) -> WorldManifest:
    """Import a MovieLens directory (movies/ratings/tags.csv) into a world at `out`."""
    src, out = Path(src), Path(out)
    movies, ratings, tags = _read_sources(src)
    parts = [_rating_events(ratings, config)]
    if config.tags_as_follows:
        parts.append(_tag_events(tags))
    events = pd.concat(parts, ignore_index=True)
    n_raw = len(events)
    events = events.drop_duplicates(subset=[names.EVENT_ID], keep="first")
    n_duplicates = n_raw - len(events)

    src_ms = events["src_ts"].astype("int64") * 1000
    shift = _ts_shift_ms(int(src_ms.min()), config) if len(events) else 0
    events[names.TS] = src_ms + shift
    n_pre_2000 = int((events[names.TS] < MIN_TS_MS).sum())
    events = events[events[names.TS] >= MIN_TS_MS].copy()
    if events.empty:
        raise ValueError(f"no MovieLens events kept from {src}")

    doc = movies["genres"].str.split("|").apply(lambda g: config.sparse_genre in g)
    types = dict(
        zip(
            movies["movieId"],
            np.where(doc, names.AUDIOBOOK, names.PODCAST),
            strict=True,
        )
    )
    events[names.USER_ID] = USER_PREFIX + events["src_user"].astype(str)
    events[names.ITEM_ID] = ITEM_PREFIX + events["src_movie"].astype(str)
    events[names.ITEM_TYPE] = events["src_movie"].map(types)
    if events[names.ITEM_TYPE].isna().any():
        missing = sorted(set(events.loc[events[names.ITEM_TYPE].isna(), "src_movie"]))
        raise ValueError(f"events on movies missing from movies.csv: {missing[:10]}")
    events["country"] = None
    events["platform"] = None
    events = events.sort_values([names.TS, names.EVENT_ID], kind="stable")
    events = events.reset_index(drop=True)

    split_ms = _split_ms(events[names.TS].to_numpy(), config.holdout_fraction)
    catalogue = _catalogue(
        movies, _train_tags(events, split_ms, config.max_description_tags), config
    )
    _validate_all(events, set(catalogue.column("item_id").to_pylist()))
    user_ids = np.union1d(ratings["userId"].unique(), tags["userId"].unique())
    users = _users(user_ids)

    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(catalogue, out / CATALOGUE_FILE)
    pq.write_table(users, out / USERS_FILE)
    _write_events(events, out, config.rows_per_part)

    n_audiobooks = int(doc.sum())
    by_type = events[names.EVENT_TYPE].value_counts()
    counts = {
        "users": len(users),
        "items": catalogue.num_rows,
        "audiobooks": n_audiobooks,
        "podcasts": catalogue.num_rows - n_audiobooks,
        "events": len(events),
        **{f"events_{t}": int(by_type.get(t, 0)) for t in names.EVENT_TYPES},
        "events_train": int((events[names.TS] < split_ms).sum()),
        "events_holdout": int((events[names.TS] >= split_ms).sum()),
        "ratings_dropped": int((ratings["rating"] < config.preview_min_rating).sum()),
        "pre_2000_dropped": n_pre_2000,
        "duplicates_dropped": n_duplicates,
    }
    params: dict[str, Any] = {
        **dataclasses.asdict(config),
        "ts_shift_ms": shift,
        "split_rule": "event_quantile",
        "dataset": src.name,
        "sha256": {
            f: _sha256(src / f) for f in ("movies.csv", "ratings.csv", "tags.csv")
        },
    }
    manifest = WorldManifest(
        source="movielens",
        seed=None,
        scale=None,
        start_ms=int(events[names.TS].iloc[0]),
        split_ms=split_ms,
        end_ms=int(events[names.TS].iloc[-1]) + 1,
        counts=counts,
        params=params,
    )
    (out / MANIFEST_FILE).write_text(manifest.to_json() + "\n")
    return manifest
