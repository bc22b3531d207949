"""EvalConfig's helpers: the hold-out length a command line asks for."""

from __future__ import annotations

import pytest

from colisten.timeunits import DAY_MS
from colisten.world.format import WorldManifest
from trainers.evaluation.config import parse_holdout_days


def manifest(split_ms: int, end_ms: int) -> WorldManifest:
    """A manifest with only the times set."""
    return WorldManifest(
        source="movielens",
        seed=None,
        scale=None,
        start_ms=0,
        split_ms=split_ms,
        end_ms=end_ms,
        counts={},
        params={},
    )


def test_all_reaches_just_past_the_last_event() -> None:
    m = manifest(split_ms=10 * DAY_MS, end_ms=40 * DAY_MS)
    days = parse_holdout_days("all", m)
    assert 10 * DAY_MS + days * DAY_MS == 40 * DAY_MS + 1
    assert parse_holdout_days(" ALL ", m) == days


def test_a_number_is_taken_as_days() -> None:
    assert parse_holdout_days("14", manifest(0, 1)) == 14.0
    assert parse_holdout_days("2.5", manifest(0, 1)) == 2.5


@pytest.mark.parametrize("bad", ["x", "0", "-3", ""])
def test_anything_else_is_refused_with_the_value(bad: str) -> None:
    with pytest.raises(ValueError, match="holdout-days"):
        parse_holdout_days(bad, manifest(0, 1))
