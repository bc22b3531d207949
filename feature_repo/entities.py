"""Feast entities: users, items and item pairs (the co-listening graph's edges)."""

from __future__ import annotations

from feast import Entity, ValueType

from colisten import names

user = Entity(
    name="user",
    join_keys=[names.USER_ID],
    value_type=ValueType.STRING,
    description="A listener.",
)
item = Entity(
    name="item",
    join_keys=[names.ITEM_ID],
    value_type=ValueType.STRING,
    description="A catalogue item: an audiobook or a podcast.",
)
item_pair = Entity(
    name="item_pair",
    join_keys=[names.PAIR_ID],
    value_type=ValueType.STRING,
    description="An unordered item pair in canonical order, 'src|dst' (see colisten.pairs).",
)
