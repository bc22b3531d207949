"""Tests of the synthetic world generator: determinism, schema, counts, contract."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from colisten import names
from colisten.events import validate_event
from colisten.world import format as fmt
from colisten.world.generator import SCALES, generate_world, make_params


def _digests(world: Path) -> dict[str, str]:
    return {
        str(p.relative_to(world)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(world.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, fmt.WorldManifest]:
    """A tiny world, generated once for the module."""
    out = tmp_path_factory.mktemp("tiny")
    return out, generate_world("tiny", 11, out, progress=False)


def test_same_seed_gives_identical_bytes(
    tiny: tuple[Path, fmt.WorldManifest], tmp_path: Path
) -> None:
    world, _ = tiny
    generate_world("tiny", 11, tmp_path / "again", progress=False)
    first, second = _digests(world), _digests(tmp_path / "again")
    assert fmt.MANIFEST_FILE in first and fmt.CATALOGUE_FILE in first
    assert first == second


def test_other_seed_differs(
    tiny: tuple[Path, fmt.WorldManifest], tmp_path: Path
) -> None:
    world, _ = tiny
    generate_world("tiny", 12, tmp_path / "other", progress=False)
    first, other = _digests(world), _digests(tmp_path / "other")
    assert first[fmt.CATALOGUE_FILE] != other[fmt.CATALOGUE_FILE]


def test_schemas_and_counts(tiny: tuple[Path, fmt.WorldManifest]) -> None:
    world, man = tiny
    scale = SCALES["tiny"]
    assert (
        pq.read_schema(world / fmt.CATALOGUE_FILE).remove_metadata()
        == fmt.CATALOGUE_SCHEMA
    )
    assert pq.read_schema(world / fmt.USERS_FILE).remove_metadata() == fmt.USERS_SCHEMA
    parts = sorted((world / fmt.EVENTS_DIR).glob("part-*.parquet"))
    assert parts and all(re.fullmatch(r"part-\d{5}\.parquet", p.name) for p in parts)
    for p in parts:
        assert pq.read_schema(p).remove_metadata() == fmt.EVENTS_SCHEMA
    assert not (world / "_tmp_days").exists()

    cat, users = fmt.read_catalogue(world), fmt.read_users(world)
    events = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert man.counts["users"] == len(users) == scale.n_users
    assert man.counts["podcasts"] == (cat.item_type == names.PODCAST).sum()
    assert man.counts["audiobooks"] == (cat.item_type == names.AUDIOBOOK).sum()
    assert man.counts["events"] == len(events)
    for et in names.EVENT_TYPES:
        assert man.counts[f"events_{et}"] == (events.event_type == et).sum() > 0
    assert man.source == "synthetic" and man.seed == 11 and man.scale == "tiny"
    day = 86_400_000
    assert man.split_ms - man.start_ms == 90 * day
    assert man.end_ms - man.start_ms == 104 * day
    assert man.params["follow_lift"] == pytest.approx(1.18)
    assert man.params["n_topics"] >= 30

    # globally sorted by (ts, event_id) across parts, all inside the window
    key = list(zip(events.ts, events.event_id, strict=True))
    assert key == sorted(key)
    assert events.ts.min() >= man.start_ms and events.ts.max() < man.end_ms
    assert events.event_id.is_unique
    assert {uuid.UUID(e).version for e in events.event_id.head(200)} == {4}
    assert set(events.user_id) <= set(users.user_id)
    assert set(events.item_id) <= set(cat.item_id)


def test_streams_have_durations_and_audiobooks_run_longer(
    tiny: tuple[Path, fmt.WorldManifest],
) -> None:
    events = fmt.read_events(tiny[0])
    streams = events[events.event_type == names.STREAM]
    assert streams.duration_ms.notna().all() and (streams.duration_ms > 0).all()
    assert events.loc[events.event_type != names.STREAM, "duration_ms"].isna().all()
    med = streams.groupby("item_type").duration_ms.median()
    assert med[names.AUDIOBOOK] > med[names.PODCAST]
    weak = events[events.event_type.isin([names.PREVIEW, names.INTENT_TO_PAY])]
    assert (weak.item_type == names.AUDIOBOOK).all()


def test_catalogue_and_users_look_right(tiny: tuple[Path, fmt.WorldManifest]) -> None:
    world, man = tiny
    cat, users = fmt.read_catalogue(world), fmt.read_users(world)
    assert cat.item_id.is_unique
    ab = cat[cat.item_type == names.AUDIOBOOK]
    assert ab.genre.str.fullmatch(r"[A-Z]{3}\d{6}").all()
    assert (ab.language == "en").mean() > 0.7 and (cat.language != "en").any()
    assert (cat.title.str.len() > 3).all()
    assert (cat.description.str.count(r"\. ") >= 2).all()
    start = pd.Timestamp(man.start_ms, unit="ms", tz="UTC")
    assert ((cat.release_date >= start) & (cat.item_type == names.AUDIOBOOK)).any()
    assert (cat.release_date[cat.item_type == names.PODCAST] < start).all()
    assert users.user_id.str.fullmatch(r"u\d{6}").all()
    assert users.age.between(0, 130).all() and users.country.notna().all()
    taste = np.stack(users.music_taste.to_numpy())
    assert taste.shape == (len(users), 16) and taste.dtype == np.float32


def test_events_pass_the_contract(tiny: tuple[Path, fmt.WorldManifest]) -> None:
    world, man = tiny
    catalogue = set(fmt.read_catalogue(world).item_id)
    table = fmt.events_dataset(world).to_table()
    rows = table.take(np.random.default_rng(0).choice(len(table), 500, replace=False))
    for row in rows.to_pylist():
        res = validate_event(
            {k: v for k, v in row.items() if v is not None},
            catalogue=catalogue,
            now_ms=man.end_ms,
        )
        assert res.ok, (row, res.reasons)


def test_params_override_and_unknown_keys(tmp_path: Path) -> None:
    assert make_params("tiny", {"follow_lift": 2.0}).follow_lift == 2.0
    with pytest.raises(ValueError, match="unknown world parameters"):
        make_params("tiny", {"no_such_knob": 1})
    with pytest.raises(ValueError, match="unknown scale"):
        make_params("huge")
    with pytest.raises(ValueError, match="n_topics"):
        make_params("tiny", {"n_topics": 10})
    man = generate_world(
        "tiny", 3, tmp_path, {"n_users": 50, "holdout_days": 7}, progress=False
    )
    assert man.counts["users"] == 50 and man.params["holdout_days"] == 7
    assert man.end_ms - man.split_ms == 7 * 86_400_000


def test_scales_grow() -> None:
    sizes = [SCALES[s] for s in ("tiny", "small", "medium", "large")]
    assert [s.n_users for s in sizes] == sorted(s.n_users for s in sizes)
    large = SCALES["large"]
    assert large.n_users >= 100_000 and large.n_podcasts >= 100_000
    assert large.n_audiobooks >= 10_000
