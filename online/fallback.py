"""Popularity fallback: items ranked by distinct listeners (item_popularity), per type."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from colisten import names

log = logging.getLogger(__name__)

Ranked = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Popularity:
    """Per item type, (item_id, score) best first; the source says where it came from."""

    ranked: Mapping[str, Ranked]
    source: str

    def top(
        self, item_type: str, k: int, exclude: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """The k most popular items of item_type, leaving out excluded ids."""
        skip = exclude or set()
        out: list[tuple[str, float]] = []
        for item, score in self.ranked.get(item_type, ()):
            if item not in skip:
                out.append((item, score))
                if len(out) == k:
                    break
        return out


def rank_popularity(
    item_ids: Mapping[str, Sequence[str]], rows: Mapping[str, Sequence[Any]]
) -> dict[str, Ranked]:
    """Rank each type's items by users_90d, then streams_90d, then id (missing: 0)."""
    users = dict(zip(rows.get("item_id", []), rows.get("users_90d", []), strict=False))
    streams = dict(
        zip(rows.get("item_id", []), rows.get("streams_90d", []), strict=False)
    )
    ranked: dict[str, Ranked] = {}
    for item_type, ids in item_ids.items():
        keyed = sorted(
            ids, key=lambda i: (-(users.get(i) or 0), -(streams.get(i) or 0), i)
        )
        ranked[item_type] = tuple((i, float(users.get(i) or 0)) for i in keyed)
    return ranked


def load_popularity(
    item_ids: Mapping[str, Sequence[str]],
    read: Callable[[Sequence[str]], Mapping[str, Sequence[Any]]],
) -> Popularity:
    """Popularity from the store through read(ids); catalogue order if the store fails."""
    every = [i for ids in item_ids.values() for i in ids]
    try:
        rows = read(every)
    except Exception as exc:  # the store may be down while a model loads
        log.warning("popularity unavailable (%s); falling back to catalogue order", exc)
        return Popularity(
            {t: tuple((i, 0.0) for i in ids) for t, ids in item_ids.items()},
            "catalogue_order",
        )
    return Popularity(rank_popularity(item_ids, rows), names.POPULARITY_SERVICE)
