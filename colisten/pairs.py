"""Co-listening pairs: the canonical (src, dst, relation) order and the pair_id key."""

from __future__ import annotations

from colisten import names


def canonical_pair(a: str, a_type: str, b: str, b_type: str) -> tuple[str, str, str]:
    """(src, dst, relation) in canonical order: the audiobook first for ap, else by id."""
    if a_type != b_type:
        return (
            (a, b, names.REL_AP) if a_type == names.AUDIOBOOK else (b, a, names.REL_AP)
        )
    rel = names.REL_AA if a_type == names.AUDIOBOOK else names.REL_PP
    return (a, b, rel) if a < b else (b, a, rel)


def pair_id(a: str, a_type: str, b: str, b_type: str) -> str:
    """The colisten_edges entity key of two items, whichever order they come in."""
    src, dst, _ = canonical_pair(a, a_type, b, b_type)
    return f"{src}|{dst}"
