"""The world format's time parser: split, end, milliseconds and ISO times."""

from __future__ import annotations

from pathlib import Path

import pytest

from colisten.world.format import MANIFEST_FILE, WorldManifest, event_time


@pytest.fixture
def world(tmp_path: Path) -> Path:
    manifest = WorldManifest(
        source="synthetic", seed=7, scale="tiny", start_ms=1_000, split_ms=5_000,
        end_ms=9_000, counts={}, params={},
    )  # fmt: skip
    (tmp_path / MANIFEST_FILE).write_text(manifest.to_json())
    return tmp_path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("split", 5_000),
        ("end", 9_001),  # just past the last event: every event is before it
        ("1767225600000", 1_767_225_600_000),
        ("2026-01-01", 1_767_225_600_000),  # no zone: UTC
        ("2026-01-01T01:00:00+01:00", 1_767_225_600_000),
    ],
)
def test_each_form_gives_the_event_time_in_ms(
    world: Path, value: str, expected: int
) -> None:
    assert event_time(value, world) == expected


def test_a_number_or_a_time_needs_no_manifest(tmp_path: Path) -> None:
    assert event_time("42", tmp_path / "absent") == 42
    assert event_time("1970-01-01T00:00:01Z", tmp_path / "absent") == 1_000
