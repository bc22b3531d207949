"""Explanations: the strongest 1-hop co-listening path, else the strongest 2-hop one."""

from __future__ import annotations

from colisten.pairs import pair_id
from online.explain import Path, explain, recent_items

A, P = "audiobook", "podcast"


def _edges(*pairs: tuple[str, str, str, str, int]) -> dict[str, int]:
    return {pair_id(a, at, b, bt): n for a, at, b, bt, n in pairs}


def test_direct_edge_wins_and_the_strongest_source_is_named() -> None:
    edges = _edges(("p1", P, "a9", A, 3), ("p2", P, "a9", A, 7))
    got = explain(
        [("p1", P), ("p2", P)],
        [("a9", A)],
        neighbours=lambda r: [],
        edge_users=lambda ids: {i: edges.get(i, 0) for i in ids},
    )
    assert got == {"a9": Path("p2", None, 7)}


def test_two_hops_through_a_neighbour_scored_by_the_weaker_leg() -> None:
    edges = _edges(("p1", P, "p5", P, 4), ("p5", P, "a9", A, 2), ("p1", P, "p6", P, 9))
    asked: list[list[str]] = []

    def edge_users(ids: list[str]) -> dict[str, int]:
        asked.append(ids)
        return {i: edges.get(i, 0) for i in ids}

    got = explain(
        [("p1", P)],
        [("a9", A), ("a8", A)],
        neighbours=lambda r: [("p5", P), ("p6", P)] if r == "a9" else [],
        edge_users=edge_users,
    )
    assert got == {"a9": Path("p1", "p5", 2), "a8": None}
    assert len(asked) == 1  # one batched store read for the whole list


def test_no_history_no_explanation() -> None:
    got = explain([], [("a1", A)], lambda r: [], lambda ids: {})
    assert got == {"a1": None}


def test_recent_items_reads_both_types_audiobooks_first() -> None:
    row = {
        "user_recent_items__recent_audiobooks": ["a1"],
        "user_recent_items__recent_podcasts": ["p1", "p2"],
    }
    assert recent_items(row, limit=1) == [("a1", A), ("p1", P)]
    assert recent_items(None) == []
