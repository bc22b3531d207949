"""Synthetic world generator: topic-driven users, podcasts, audiobooks, as parquet."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from colisten import names
from colisten.timeunits import DAY_MS
from colisten.world import oracle, simulate
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
from colisten.world.simulate import ETYPES, EVENT_DTYPE, PLATFORMS

USER_CHUNK = 1000
"""Users per simulation chunk. Part of the world definition (each chunk has its own
RNG seeded from (seed, chunk index)), so it is fixed and never tuned for memory."""
ROWS_PER_PART = 1_000_000
"""Event part files are cut at day boundaries once they hold at least this many rows."""
_PARQUET_OPTS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 262_144,
}


@dataclass(frozen=True)
class ScaleConfig:
    """Entity counts of a named world scale."""

    n_users: int
    n_podcasts: int
    n_audiobooks: int


SCALES: dict[str, ScaleConfig] = {
    "tiny": ScaleConfig(n_users=300, n_podcasts=400, n_audiobooks=120),
    "small": ScaleConfig(n_users=2_000, n_podcasts=2_500, n_audiobooks=1_000),
    "medium": ScaleConfig(n_users=30_000, n_podcasts=30_000, n_audiobooks=5_000),
    "large": ScaleConfig(n_users=120_000, n_podcasts=100_000, n_audiobooks=12_000),
}
"""Named scales: tiny for unit tests, small for demos, medium and large for load."""


@dataclass(frozen=True)
class WorldParams:
    """Every knob of the synthetic world; world.json records them all."""

    n_users: int = 2_000
    n_podcasts: int = 2_500
    n_audiobooks: int = 1_000
    n_topics: int = 34
    train_days: int = 90
    holdout_days: int = 14
    start_date: str = "2026-01-05"
    """UTC day the window starts (fixed, so a seed determines the world)."""
    # topics (docs/world.md cites every value) ----------------------------------
    topic_alpha: float = 0.06
    """Dirichlet concentration per topic (total ≈ 2: listeners span several genres)."""
    topic_prevalence_decay: float = 0.5
    """Topic prevalence ∝ (k + 1) ** -decay: some topics are more common than others."""
    item_mix_share: float = 0.35
    """Share of items that mix a second topic into their text and audience."""
    item_secondary_weight: float = 0.35
    explore_share: float = 0.03
    """Share of item choices drawn from the whole catalogue, ignoring topic."""
    # item-level taste and domains ----------------------------------------------
    taste_dim: int = 16
    """Dimensions of the item-level taste vectors (users and item offsets)."""
    taste_strength: float = 1.0
    """Weight of user·item affinity in a choice: weight = pop × exp(strength · u·o)."""
    audiobook_own_taste: float = 0.5
    """Share of a user's audiobook taste (topics and vector) that is not podcast taste."""
    music_podcast_share: float = 0.2
    """Share of podcast topic taste in the music taste (the rest is the user's own)."""
    # cross-domain links ---------------------------------------------------------
    linked_audiobook_share: float = 0.5
    """Share of audiobooks linked to one podcast (a host's book, a franchise)."""
    link_same_topic: float = 0.5
    """Probability a link stays within the audiobook's primary topic."""
    link_strength: float = 0.25
    """Share of audiobook interests of a user with linked shows that come via a link."""
    # catalogue ----------------------------------------------------------------
    podcast_zipf: float = 0.9
    audiobook_zipf: float = 1.0
    foreign_language_share: float = 0.12
    languages: tuple[str, ...] = ("es", "de", "fr", "sv")
    native_language_pick: float = 0.5
    """Probability a non-English speaker picks an item in their own language."""
    new_release_share: float = 0.04
    """Share of audiobooks released during the window (new items)."""
    # podcasts -------------------------------------------------------------------
    podcast_listener_share: float = 0.6
    shows_mean: float = 7.0
    """Mean distinct shows of a listener in the window (1 + negative binomial)."""
    shows_dispersion: float = 1.5
    """Negative-binomial shape of the show count (1.5: about 1 listener in 10 has one show)."""
    podcast_rate_median: float = 0.75
    """Median podcast streams per day of a listener (log-normal across users)."""
    podcast_rate_sigma: float = 0.8
    show_focus: float = 2.0
    """Exponent concentrating a user's streams on their first shows."""
    podcast_follow_prob: float = 0.25
    podcast_minutes_median: float = 28.0
    # audiobooks -----------------------------------------------------------------
    audiobook_discover_share: float = 0.25
    """Share of users who discover audiobooks at some time in the window."""
    audiobook_users_podcast_share: float = 0.85
    """Share of audiobook users who are podcast listeners."""
    interest_rate_median: float = 0.035
    """Median new audiobook interests per day after discovery (log-normal)."""
    interest_rate_sigma: float = 1.0
    follow_prob: float = 0.15
    preview_prob: float = 0.45
    intent_prob: float = 0.3
    follow_lift: float = 1.18
    """A follow multiplies the odds of a later stream of that audiobook by 1 + lift."""
    preview_lift: float = 0.18
    intent_lift: float = 0.13
    stream_base_logit: float = -1.0
    user_logit_sigma: float = 0.5
    stream_delay_days: float = 1.5
    revisit_prob: float = 0.1
    """Probability a declined interest comes back later (a preview, then maybe a stream)."""
    revisit_delay_days: float = 21.0
    sessions_max: float = 9.0
    """Mean listening sessions of a stream of the best audiobook (completion)."""
    completion_power: float = 3.0
    """Mean sessions = 1 + (sessions_max - 1) * quality ** completion_power."""
    binge_sigma: float = 0.9
    """Log-normal spread of a user's multiplier on sessions per audiobook."""
    audiobook_minutes_median: float = 42.0
    user_minutes_sigma: float = 0.6
    """Log-normal spread of a user's audiobook session length."""
    music_dim: int = 16
    music_noise: float = 0.3
    version: int = 2
    """Generative model version (2: item-level taste, links, sparse audiobooks)."""

    @property
    def span_days(self) -> int:
        """Days in the whole window (training plus hold-out)."""
        return self.train_days + self.holdout_days

    @property
    def start_ms(self) -> int:
        """Window start, UTC milliseconds."""
        day = datetime.strptime(self.start_date, "%Y-%m-%d").replace(tzinfo=UTC)
        return int(day.timestamp() * 1000)

    def as_dict(self) -> dict[str, Any]:
        """All parameters as a JSON-friendly dict."""
        out = dataclasses.asdict(self)
        out["languages"] = list(self.languages)
        return out


def make_params(scale: str, override: dict[str, Any] | None = None) -> WorldParams:
    """WorldParams for a named scale, with overrides (unknown keys are rejected)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    known = {f.name for f in dataclasses.fields(WorldParams)}
    override = dict(override or {})
    unknown = sorted(set(override) - known)
    if unknown:
        raise ValueError(f"unknown world parameters: {unknown}")
    if "languages" in override:
        override["languages"] = tuple(override["languages"])
    params = WorldParams(**{**dataclasses.asdict(SCALES[scale]), **override})
    if params.n_topics < 30:
        raise ValueError("n_topics must be at least 30")
    return params


def _write_users(users: list[simulate.UserChunk], path: Path, n_users: int) -> pa.Array:
    width = max(6, len(str(n_users - 1)))
    ids = pa.array([f"u{i:0{width}d}" for i in range(n_users)], pa.string())
    age = np.concatenate([u.age for u in users]).astype(np.int32)
    country = np.concatenate([u.country for u in users])
    music = np.concatenate([u.music for u in users]).astype(np.float32)
    dim = music.shape[1]
    offsets = pa.array(np.arange(0, dim * (n_users + 1), dim, dtype=np.int32))
    taste = pa.ListArray.from_arrays(offsets, pa.array(music.ravel()))
    countries = pa.array(simulate.COUNTRIES, pa.string()).take(pa.array(country))
    table = pa.Table.from_arrays(
        [ids, pa.array(age), countries, taste], schema=USERS_SCHEMA
    )
    pq.write_table(table, path, **_PARQUET_OPTS)
    return countries


def _uuid_strings(hi: np.ndarray, lo: np.ndarray) -> pa.Array:
    """Format 128-bit ids (carrying version-4 bits) as canonical UUID strings."""
    n = len(hi)
    raw = np.empty((n, 16), np.uint8)
    raw[:, :8] = hi.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 8:] = lo.astype(">u8").view(np.uint8).reshape(n, 8)
    hexd = np.frombuffer(b"0123456789abcdef", np.uint8)
    chars = np.empty((n, 32), np.uint8)
    chars[:, 0::2] = hexd[raw >> 4]
    chars[:, 1::2] = hexd[raw & 15]
    out = np.full((n, 36), ord("-"), np.uint8)
    for dst, src in ((0, 0), (9, 8), (14, 12), (19, 16), (24, 20)):
        width = {0: 8, 24: 12}.get(dst, 4)
        out[:, dst : dst + width] = chars[:, src : src + width]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(out.tobytes())
    )


@dataclass
class _EventWriter:
    """Writes sorted event parts from per-day buckets; counts events by type."""

    out_dir: Path
    start_ms: int
    user_ids: pa.Array
    user_countries: pa.Array
    item_ids: pa.Array
    n_audiobooks: int
    part: int = 0
    counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def write(self, ev: np.ndarray) -> None:
        """Sort one batch of whole days by (ts, event_id) and write it as a part."""
        ev = ev[np.lexsort((ev["lo"], ev["hi"], ev["ts"]))]
        user = pa.array(ev["user"])
        item = pa.array(ev["item"])
        itype = pa.array(names.ITEM_TYPES).take(
            pa.array((ev["item"] >= self.n_audiobooks).astype(np.int8))
        )
        etype = pa.array(ETYPES).take(pa.array(ev["etype"]))
        dur = ev["dur"]
        cols = [
            _uuid_strings(ev["hi"], ev["lo"]),
            self.user_ids.take(user),
            self.item_ids.take(item),
            itype,
            etype,
            pa.array(ev["ts"] + self.start_ms, pa.int64()),
            pa.array(dur, pa.int64(), mask=dur < 0),
            self.user_countries.take(user),
            pa.array(PLATFORMS).take(pa.array(ev["plat"])),
        ]
        table = pa.Table.from_arrays(cols, schema=EVENTS_SCHEMA)
        pq.write_table(
            table, self.out_dir / f"part-{self.part:05d}.parquet", **_PARQUET_OPTS
        )
        self.part += 1
        for code, name in enumerate(ETYPES):
            n_type = int((ev["etype"] == code).sum())
            self.counts[name] = self.counts.get(name, 0) + n_type


def _bucket(ev: np.ndarray, tmp: Path) -> None:
    """Append a chunk's events to per-day temporary files (raw structured arrays)."""
    day = ev["ts"] // DAY_MS
    order = np.argsort(day, kind="stable")
    ev, day = ev[order], day[order]
    bounds = np.flatnonzero(np.diff(day)) + 1
    for part in np.split(ev, bounds):
        if len(part):
            with open(tmp / f"day-{int(part['ts'][0] // DAY_MS):05d}.bin", "ab") as fh:
                part.tofile(fh)


def generate_world(
    scale: str,
    seed: int,
    out: Path,
    params_override: dict[str, Any] | None = None,
    progress: bool = True,
) -> WorldManifest:
    """Generate a synthetic world of a named scale into `out`; return its manifest."""
    params = make_params(scale, params_override)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    events_dir = out / EVENTS_DIR
    if events_dir.exists():
        shutil.rmtree(events_dir)
    events_dir.mkdir()
    tmp = out / "_tmp_days"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()

    cat = simulate.build_catalogue(params, seed)
    pq.write_table(
        cat.table.cast(CATALOGUE_SCHEMA), out / CATALOGUE_FILE, **_PARQUET_OPTS
    )
    proj = simulate.music_projection(params, seed)
    users: list[simulate.UserChunk] = []
    truths: list[dict[str, np.ndarray]] = []
    n_chunks = -(-params.n_users // USER_CHUNK)
    for chunk in tqdm(range(n_chunks), desc="users", disable=not progress):
        first = chunk * USER_CHUNK
        n = min(USER_CHUNK, params.n_users - first)
        res = simulate.simulate_users(cat, params, proj, seed, chunk, first, n)
        users.append(res.users)
        truths.append(res.truth)
        _bucket(res.events, tmp)

    countries = _write_users(users, out / USERS_FILE, params.n_users)
    oracle.write_truth(out, cat, truths)
    del users, truths
    user_ids = pq.read_table(out / USERS_FILE, columns=["user_id"])["user_id"]
    writer = _EventWriter(
        events_dir,
        params.start_ms,
        user_ids.combine_chunks(),
        countries,
        cat.table["item_id"].combine_chunks(),
        params.n_audiobooks,
    )
    pending: list[np.ndarray] = []
    n_pending = 0
    for day in tqdm(range(params.span_days), desc="events", disable=not progress):
        path = tmp / f"day-{day:05d}.bin"
        if path.exists():
            arr = np.fromfile(path, dtype=EVENT_DTYPE)
            pending.append(arr)
            n_pending += len(arr)
        if n_pending >= ROWS_PER_PART or (day == params.span_days - 1 and pending):
            writer.write(np.concatenate(pending))
            pending, n_pending = [], 0
    shutil.rmtree(tmp)

    start = params.start_ms
    counts = {
        "users": params.n_users,
        "podcasts": params.n_podcasts,
        "audiobooks": params.n_audiobooks,
        "events": sum(writer.counts.values()),
        **{f"events_{k}": writer.counts.get(k, 0) for k in ETYPES},
    }
    manifest = WorldManifest(
        source="synthetic",
        seed=seed,
        scale=scale,
        start_ms=start,
        split_ms=start + params.train_days * DAY_MS,
        end_ms=start + params.span_days * DAY_MS,
        counts=counts,
        params=params.as_dict(),
    )
    (out / MANIFEST_FILE).write_text(manifest.to_json() + "\n")
    return manifest
