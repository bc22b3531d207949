""" "Because you listened to …": the co-listening path (1 or 2 hops) from a user's recent items.

As in the paper's Figure 1C, a recommendation is explained by the user's own recent items
that are linked to it in the co-listening graph: directly (a recent item h with an edge
h–r) or through one intermediate item m (h–m–r). Edges and their distinct-user counts are
read from the online store (colisten_edges), so explanations follow the live graph. Only
the HGNN's nearest neighbours of r are tried as intermediates, which keeps it to one
batched store read per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from colisten import names
from colisten.pairs import pair_id

RECENT_FIELDS = (
    ("user_recent_items__recent_audiobooks", names.AUDIOBOOK),
    ("user_recent_items__recent_podcasts", names.PODCAST),
)


@dataclass(frozen=True)
class Path:
    """One explanation: the recent item, an optional intermediate, the weakest edge."""

    source: str
    via: str | None
    n_users: int


def recent_items(
    row: Mapping[str, Any] | None, limit: int = 10
) -> list[tuple[str, str]]:
    """(item_id, item_type) of the user's newest items, audiobooks first."""
    out: list[tuple[str, str]] = []
    for field, item_type in RECENT_FIELDS:
        out += [(i, item_type) for i in ((row or {}).get(field) or [])[:limit]]
    return out


def explain(
    recent: Sequence[tuple[str, str]],
    recs: Sequence[tuple[str, str]],
    neighbours: Callable[[str], list[tuple[str, str]]],
    edge_users: Callable[[list[str]], dict[str, int]],
) -> dict[str, Path | None]:
    """For each recommended (item, type), the strongest 1-hop, else 2-hop, path.

    `neighbours(item)` gives candidate intermediates (item, type); `edge_users(pair_ids)`
    the distinct co-listening users of each pair (missing or 0: no edge).
    """
    if not recent or not recs:
        return {r: None for r, _ in recs}
    mids = {r: [m for m in neighbours(r) if m[0] != r] for r, _ in recs}
    wanted: set[str] = set()
    for r, rt in recs:
        wanted |= {pair_id(h, ht, r, rt) for h, ht in recent if h != r}
        for m, mt in mids[r]:
            wanted.add(pair_id(m, mt, r, rt))
            wanted |= {pair_id(h, ht, m, mt) for h, ht in recent if h != m}
    weight = edge_users(sorted(wanted))
    out: dict[str, Path | None] = {}
    for r, rt in recs:
        best: Path | None = None
        for h, ht in recent:
            n = weight.get(pair_id(h, ht, r, rt), 0) if h != r else 0
            if n and (best is None or n > best.n_users):
                best = Path(h, None, n)
        if best is None:
            for m, mt in mids[r]:
                leg = weight.get(pair_id(m, mt, r, rt), 0)
                for h, ht in recent:
                    if not leg or h == m:
                        continue
                    n = min(leg, weight.get(pair_id(h, ht, m, mt), 0))
                    if n and (best is None or n > best.n_users):
                        best = Path(h, m, n)
        out[r] = best
    return out
