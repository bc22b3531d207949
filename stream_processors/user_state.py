"""Stage 1's pure core: one user's windowed state, folded event by event (keyed by user).

The state holds, for the last `window_ms` of event time: the timestamps of the events each
weak-signal counter counts, and every item the user touched with its newest touch. From it
come the `user_weak_signals` and `user_recent_items` rows, and the co-listen records for
stage 2: when the user touches an item for the first time in the window, it is paired with
each of the user's `cap` most recently touched audiobooks and `cap` most recent podcasts.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from colisten import names
from colisten.events import InteractionEvent
from colisten.feature_rules import COUNTERS, WINDOW_MS
from colisten.pairs import canonical_pair
from stream_processors.event_digest import id_digest, pack, unpack

RECENT_IDS = 64
"""How many recent event_ids a user remembers, to drop a client's duplicate sends."""


def _unpack_ids(raw: str | list[str]) -> deque[int]:
    """Recent ids from to_json's "r": packed digests, or (older records) the ids."""
    if isinstance(raw, list):
        return deque((id_digest(e) for e in raw), maxlen=RECENT_IDS)
    return deque(unpack(raw), maxlen=RECENT_IDS)


@dataclass
class UserState:
    """One user's state inside the window (see the module docstring)."""

    signals: dict[str, list[int]] = field(default_factory=dict)
    """counter column -> sorted event times still inside the window."""
    items: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    """item_id -> (newest touch ts, item_type, newest signal)."""
    last_event_ms: int = 0
    offset: int = -1
    """Source offset of the newest applied event (all of a user's events share a partition)."""
    partition: int = -1
    recent_ids: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_IDS))
    """id_digest of the newest RECENT_IDS applied event ids (stream_processors.event_digest)."""
    stamp_us: int = 0
    """Timestamp (µs) of the newest row written for this user; see next_stamp."""
    _order: dict[str, list[tuple[int, str]]] | None = field(
        default=None, repr=False, compare=False
    )
    """Per item type, (newest touch ts, item_id) of `items` in ascending order: the
    recent lists and the oldest touch without sorting. Derived, never stored; built on
    first use (a decoded or hand-made state) and kept in step by touch() and
    drop_items_before()."""

    def ordered(self, item_type: str) -> list[tuple[int, str]]:
        """The items of a type as ascending (newest touch ts, item_id)."""
        order = self._orders()
        entries = order.get(item_type)
        if entries is None:
            entries = order[item_type] = []
        return entries

    def _orders(self) -> dict[str, list[tuple[int, str]]]:
        """Every type's order (see _order), built from `items` on first use."""
        if self._order is not None:
            return self._order
        order: dict[str, list[tuple[int, str]]] = {}
        for item_id, (ts, itype, _) in self.items.items():
            order.setdefault(itype, []).append((ts, item_id))
        for entries in order.values():
            entries.sort()
        self._order = order
        return order

    def touch(self, item_id: str, ts: int, item_type: str, signal: str) -> None:
        """Set an item's newest touch, keeping the order in step."""
        prev = self.items.get(item_id)
        self.items[item_id] = (ts, item_type, signal)
        if self._order is None or (
            prev is not None and prev[0] == ts and prev[1] == item_type
        ):
            return
        if prev is not None:
            entries = self.ordered(prev[1])
            del entries[bisect.bisect_left(entries, (prev[0], item_id))]
        bisect.insort(self.ordered(item_type), (ts, item_id))

    def approx_bytes(self) -> int:
        """Roughly the decoded state's memory (working_set bounds its cache with it): per
        signal time an int in a list, per item a dict entry, its tuple and its place in
        the order."""
        times = sum(len(v) for v in self.signals.values())
        return 1700 + 40 * times + 250 * len(self.items)

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form for the changelogged table (copies: shares no list)."""
        return {
            "s": {k: list(v) for k, v in self.signals.items()},
            "i": {k: list(v) for k, v in self.items.items()},
            "l": self.last_event_ms,
            "o": self.offset,
            "p": self.partition,
            "r": pack(self.recent_ids),
            "q": self.stamp_us,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> UserState:
        """Rebuild from to_json() output (None or {}: a new user)."""
        if not raw:
            return cls()
        return cls(
            signals={k: list(v) for k, v in raw["s"].items()},
            items={k: (int(v[0]), str(v[1]), str(v[2])) for k, v in raw["i"].items()},
            last_event_ms=int(raw["l"]),
            offset=int(raw["o"]),
            partition=int(raw["p"]),
            recent_ids=_unpack_ids(raw["r"]),
            stamp_us=int(raw.get("q", 0)),
        )

    def drop_items_before(self, edge_ms: int) -> int:
        """Forget the items whose newest touch is at or before edge_ms; return how many."""
        dropped = 0
        for entries in self._orders().values():
            cut = bisect.bisect_right(entries, edge_ms, key=lambda e: e[0])
            for _, item_id in entries[:cut]:
                del self.items[item_id]
            del entries[:cut]
            dropped += cut
        return dropped

    def oldest_ms(self) -> int | None:
        """The oldest timestamp the state holds (its next expiry is this + window)."""
        times = [v[0] for v in self.signals.values() if v]
        times += [e[0][0] for e in self._orders().values() if e]
        return min(times) if times else None


@dataclass(frozen=True)
class CoListen:
    """A co-listen record for stage 2: user touched both items; canonical pair order."""

    src_item: str
    dst_item: str
    relation: str
    user_id: str
    ts: int

    @property
    def pair_id(self) -> str:
        """The item_pair entity key."""
        return f"{self.src_item}|{self.dst_item}"


def next_stamp(prev_us: int, event_ms: int) -> int:
    """The stamp of a key's next row: its event time in µs, but always after the last one.

    Two updates of one key in the same millisecond get stamps 1 µs apart, so every store
    keeps the newer (Feast's Redis store skips a write whose timestamp is not newer).
    """
    return max(event_ms * 1000, prev_us + 1)


def expire(state: UserState, now_ms: int, window_ms: int = WINDOW_MS) -> bool:
    """Drop everything at or before now - window; True if anything was dropped."""
    edge = now_ms - window_ms
    changed = False
    for times in state.signals.values():
        cut = bisect.bisect_right(times, edge)
        if cut:
            del times[:cut]
            changed = True
    old = state.drop_items_before(edge)
    return changed or bool(old)


def recent(
    state: UserState, item_type: str, cap: int, exclude: str | None = None
) -> list[tuple[str, tuple[int, str, str]]]:
    """The cap most recently touched items of a type, newest first (ties: larger id first)."""
    rows: list[tuple[str, tuple[int, str, str]]] = []
    for _, item_id in reversed(state.ordered(item_type)):
        if len(rows) == cap:
            break
        if item_id != exclude:
            rows.append((item_id, state.items[item_id]))
    return rows


def is_replay(state: UserState, offset: int) -> bool:
    """True if the event at this source offset was already applied to the state."""
    return 0 <= offset <= state.offset


def fold(
    state: UserState,
    event: InteractionEvent,
    *,
    offset: int = -1,
    partition: int = -1,
    window_ms: int = WINDOW_MS,
    cap: int = 50,
) -> tuple[bool, list[CoListen]]:
    """Apply one event in place; return (state changed, co-listen records to emit).

    Idempotent: an event at or below the newest applied source offset, or whose id is
    among the user's recent ids, changes nothing. Late events older than the window count
    nothing.
    """
    if is_replay(state, offset):
        return False, []
    digest = id_digest(event.event_id)
    if digest in state.recent_ids:
        return False, []
    state.offset, state.partition = max(state.offset, offset), partition
    state.recent_ids.append(digest)
    now = max(state.last_event_ms, event.ts)
    expire(state, now, window_ms)
    if event.ts <= now - window_ms:
        return True, []
    counter = COUNTERS.get((event.item_type, event.event_type))
    if counter is not None:
        bisect.insort(state.signals.setdefault(counter, []), event.ts)
    out: list[CoListen] = []
    prev = state.items.get(event.item_id)
    if prev is None:  # first touch in the window: pair with the user's recent items
        for ptype in names.ITEM_TYPES:
            for other, _ in recent(state, ptype, cap, exclude=event.item_id):
                src, dst, rel = canonical_pair(
                    event.item_id, event.item_type, other, ptype
                )
                out.append(CoListen(src, dst, rel, event.user_id, event.ts))
    if prev is None or event.ts >= prev[0]:
        state.touch(event.item_id, event.ts, event.item_type, event.event_type)
    state.last_event_ms = now
    return True, out


def weak_signal_row(state: UserState) -> dict[str, int]:
    """user_weak_signals values: every counter (zero when absent) and last_event_ms."""
    row = {col: len(state.signals.get(col, ())) for col in COUNTERS.values()}
    row["last_event_ms"] = state.last_event_ms
    return row


def recent_items_row(state: UserState, cap: int = 50) -> dict[str, Any]:
    """user_recent_items values: the cap newest audiobooks and podcasts with their signal."""
    row: dict[str, Any] = {}
    for itype, label in ((names.AUDIOBOOK, "audiobook"), (names.PODCAST, "podcast")):
        items = recent(state, itype, cap)
        row[f"recent_{label}s"] = [k for k, _ in items]
        row[f"recent_{label}_signals"] = [v[2] for _, v in items]
        row[f"recent_{label}_ms"] = [v[0] for _, v in items]
    row["last_event_ms"] = state.last_event_ms
    return row
