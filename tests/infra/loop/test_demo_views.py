"""The demo's choices: a warm and a podcast-only (cold) user; a follow outside the list."""

from __future__ import annotations

import pandas as pd

from infra.loop.demo_views import follow_target, more_users, pick_users


def _events() -> pd.DataFrame:
    rows = [
        ("w", "a1", "audiobook", "stream"),
        ("w", "a2", "audiobook", "follow"),
        ("x", "a1", "audiobook", "preview"),
        ("c", "p1", "podcast", "stream"),
        ("c", "p2", "podcast", "stream"),
        ("d", "p1", "podcast", "stream"),
    ]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "item_type", "event_type"])


def test_warm_has_most_audiobook_events_cold_has_none() -> None:
    assert pick_users(_events()) == ("w", "d")  # c and d are podcast-only; d: median
    assert more_users(_events(), {"w", "c"}, 2) == ["d", "x"]  # ties: by id


def test_follow_target_prefers_a_genre_the_list_lacks() -> None:
    catalogue = pd.DataFrame(
        {
            "item_id": ["a1", "a2", "a3", "p1"],
            "item_type": ["audiobook", "audiobook", "audiobook", "podcast"],
            "genre": ["FIC", "FIC", "HIS", "NEWS"],
        }
    )
    before = {"items": [{"item_id": "a1", "genre": "FIC"}]}
    assert follow_target(before, catalogue) == "a3"
    before = {
        "items": [{"item_id": "a1", "genre": "FIC"}, {"item_id": "a3", "genre": "HIS"}]
    }
    assert follow_target(before, catalogue) == "a2"  # no new genre left: any new book
