"""Stage 2's pure cores (keyed by pair or by item): co-listening edges and item popularity.

Edges: per canonical pair, each co-listening user's co-listen times still in the window;
n_users counts distinct users, so a user streaming both items 100 times adds 1.
Popularity: per item, streams per UTC day and, per day, the users whose newest stream of
the item falls on it; windows of 90 and 14 days are whole UTC days ending at the
watermark's day. Both are idempotent: a record applied twice changes nothing. Popularity
also keeps the newest stage-2 input offset it holds, so that a crash between writing an
item's popularity and its item-user entries (same changelog partition, in that order) is
repaired on replay without counting a stream twice.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from colisten.feature_rules import POP_LONG_DAYS, POP_SHORT_DAYS, WINDOW_MS
from colisten.timeunits import DAY_MS
from stream_processors.event_digest import id_digest, pack, unpack

RECORDS_PER_OFFSET = 1_000_000
"""Positions of stage-2 records: offset * RECORDS_PER_OFFSET + index in the message."""


def record_position(offset: int, index: int) -> int:
    """A stage-2 record's position in its partition (ordered like the records)."""
    return offset * RECORDS_PER_OFFSET + index


_PER_USER_B, _PER_TIME_B, _PER_DAY_B, _PER_ID_B = 160, 40, 70, 110
"""approx_bytes' estimates per element (a dict slot, its key and value objects), checked
against a deep size in tests/stream_processors/test_working_set.py."""


@dataclass
class PairState:
    """One co-listening edge: its items, relation and each user's co-listen times."""

    src_item: str = ""
    dst_item: str = ""
    relation: str = ""
    users: dict[str, list[int]] = field(default_factory=dict)
    """user -> that user's co-listen times in the window, ascending."""
    last_ms: int = -1
    """Newest record time applied (restores the partition watermark after recovery)."""
    stamp_us: int = 0
    """Timestamp (µs) of the newest row written for this key (see next_stamp)."""
    _span: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    """(oldest, newest) co-listen time held, when users is not empty. Derived, never
    stored: computed on first use and kept in step by add() and expire_pair(), so that a
    record costs the same whether the pair has two users or two thousand."""

    def approx_bytes(self) -> int:
        """Roughly the decoded state's memory (working_set bounds its cache with it)."""
        times = sum(len(t) for t in self.users.values())
        return 900 + _PER_USER_B * len(self.users) + _PER_TIME_B * times

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form for the changelogged table (copies: shares no list)."""
        return {
            "s": self.src_item,
            "d": self.dst_item,
            "r": self.relation,
            "u": {u: list(t) for u, t in self.users.items()},
            "l": self.last_ms,
            "q": self.stamp_us,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> PairState:
        """Rebuild from to_json() output (None or {}: a new pair)."""
        if not raw:
            return cls()
        return cls(
            raw["s"],
            raw["d"],
            raw["r"],
            {u: list(t) for u, t in raw["u"].items()},
            int(raw["l"]),
            int(raw.get("q", 0)),
        )

    def span(self) -> tuple[int, int] | None:
        """(oldest, newest) co-listen time held; None when no co-listen is held."""
        if self._span is None and self.users:
            self._span = (
                min(t[0] for t in self.users.values()),
                max(t[-1] for t in self.users.values()),
            )
        return self._span if self.users else None

    def add(self, user: str, ts: int) -> None:
        """Hold one more co-listen of user at ts (not held yet)."""
        span = self.span()
        bisect.insort(self.users.setdefault(user, []), ts)
        self._span = (ts, ts) if span is None else (min(span[0], ts), max(span[1], ts))

    def oldest_ms(self) -> int | None:
        """The oldest co-listen time held (the next expiry is this + window)."""
        span = self.span()
        return span[0] if span is not None else None


def holds_colisten(state: PairState, user: str, ts: int) -> bool:
    """True if the pair already counts this user's co-listen at ts (a replayed record)."""
    times = state.users.get(user, [])
    pos = bisect.bisect_left(times, ts)
    return pos < len(times) and times[pos] == ts


def fold_colisten(
    state: PairState,
    src: str,
    dst: str,
    relation: str,
    user: str,
    ts: int,
    now_ms: int,
    window_ms: int = WINDOW_MS,
) -> bool:
    """Apply one co-listen record as of watermark now_ms; True if the edge changed."""
    changed = expire_pair(state, now_ms, window_ms)
    if ts > state.last_ms:
        state.last_ms, changed = ts, True
    if ts <= now_ms - window_ms:
        return changed
    state.src_item, state.dst_item, state.relation = src, dst, relation
    if holds_colisten(state, user, ts):
        return changed
    state.add(user, ts)
    return True


def expire_pair(state: PairState, now_ms: int, window_ms: int = WINDOW_MS) -> bool:
    """Drop co-listens at or before now - window; True if anything was dropped."""
    edge = now_ms - window_ms
    span = state.span()
    if span is None or span[0] > edge:  # nothing old enough: no scan
        return False
    oldest = None
    for user in list(state.users):
        times = state.users[user]
        cut = bisect.bisect_right(times, edge)
        if cut:
            del times[:cut]
            if not times:
                del state.users[user]
                continue
        oldest = times[0] if oldest is None else min(oldest, times[0])
    # the newest time survives unless every time went (then there is no span)
    state._span = (oldest, span[1]) if oldest is not None else None
    return True


def edge_row(state: PairState) -> dict[str, Any]:
    """colisten_edges values for a pair (n_users 0 once every co-listen expired)."""
    span = state.span() or (0, 0)
    return {
        "src_item": state.src_item,
        "dst_item": state.dst_item,
        "relation": state.relation,
        "n_users": len(state.users),
        "first_colisten_ms": span[0],
        "last_colisten_ms": span[1],
    }


@dataclass
class ItemPopularity:
    """One item's streams per day and users per day-of-newest-stream (days since epoch)."""

    item_type: str = ""
    streams: dict[int, int] = field(default_factory=dict)
    users: dict[int, int] = field(default_factory=dict)
    last_ms: int = -1
    """Newest stream time applied (restores the partition watermark after recovery)."""
    stamp_us: int = 0
    """Timestamp (µs) of the newest row written for this key (see next_stamp)."""
    offset: int = -1
    """Newest stage-2 record position (see record_position) this popularity counts."""

    def approx_bytes(self) -> int:
        """Roughly the decoded state's memory (working_set bounds its cache with it)."""
        return 900 + _PER_DAY_B * (len(self.streams) + len(self.users))

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form (day keys as strings, as JSON requires)."""
        return {
            "t": self.item_type,
            "s": {str(d): n for d, n in self.streams.items()},
            "u": {str(d): n for d, n in self.users.items()},
            "l": self.last_ms,
            "q": self.stamp_us,
            "o": self.offset,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> ItemPopularity:
        """Rebuild from to_json() output."""
        if not raw:
            return cls()
        return cls(
            raw["t"],
            {int(d): n for d, n in raw["s"].items()},
            {int(d): n for d, n in raw["u"].items()},
            int(raw["l"]),
            int(raw.get("q", 0)),
            int(raw.get("o", -1)),
        )

    def holds(self, position: int) -> bool:
        """True if the record at this position (record_position) is already counted."""
        return 0 <= position <= self.offset


@dataclass
class ItemUser:
    """One (item, user): the day of the user's newest stream and the stream ids in window."""

    last_day: int = -1
    ids: dict[int, int] = field(default_factory=dict)
    """id_digest(event_id) -> day of each of the user's streams of the item still in the
    window (stream_processors.event_digest)."""
    _oldest_day: int | None = field(default=None, repr=False, compare=False)
    """min(ids.values()) once computed (derived, never stored): a stream only scans the
    ids when the oldest may have left the window."""

    def approx_bytes(self) -> int:
        """Roughly the decoded state's memory (working_set bounds its cache with it)."""
        return 600 + _PER_ID_B * len(self.ids)

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form: per day (a string key), that day's digests packed."""
        by_day: dict[int, list[int]] = {}
        for i, d in self.ids.items():
            by_day.setdefault(d, []).append(i)
        return {"d": self.last_day, "j": {str(d): pack(v) for d, v in by_day.items()}}

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> ItemUser:
        """Rebuild from to_json() output, or from an older record's [[day, id], ...]."""
        if not raw:
            return cls()
        if "i" in raw:
            return cls(int(raw["d"]), {id_digest(str(i)): int(d) for d, i in raw["i"]})
        ids = {i: int(d) for d, packed in raw["j"].items() for i in unpack(packed)}
        return cls(int(raw["d"]), ids)

    def forget_before(self, first_day: int) -> None:
        """Drop the stream ids of days before first_day."""
        if not self.ids:
            self._oldest_day = None
            return
        if self._oldest_day is None:
            self._oldest_day = min(self.ids.values())
        if self._oldest_day >= first_day:
            return
        self.ids = {i: d for i, d in self.ids.items() if d >= first_day}
        self._oldest_day = min(self.ids.values(), default=None)

    def add(self, digest: int, day: int) -> None:
        """Hold one more stream's id_digest (call forget_before first: the oldest day is
        known)."""
        self.ids[digest] = day
        if self._oldest_day is None or day < self._oldest_day:
            self._oldest_day = day


def fold_stream(
    pop: ItemPopularity,
    iu: ItemUser,
    item_type: str,
    event_id: str,
    ts: int,
    now_ms: int,
    offset: int = -1,
) -> bool:
    """Apply one stream of the item by one user, as of watermark now_ms; True if changed.

    `offset` is the record's position (record_position). At or below `pop.offset` the
    popularity already counts it (replay after a crash that persisted the popularity but
    not the item-user entry): only `iu` is brought up to date.
    """
    replayed = pop.holds(offset)
    today = now_ms // DAY_MS
    changed = False if replayed else expire_popularity(pop, now_ms)
    iu.forget_before(today - POP_LONG_DAYS + 1)
    day = ts // DAY_MS
    if not replayed and ts > pop.last_ms:
        pop.last_ms, changed = ts, True
    digest = id_digest(event_id)
    if day <= today - POP_LONG_DAYS or digest in iu.ids:
        return changed
    iu.add(digest, day)
    if not replayed:
        pop.item_type = item_type
        pop.offset = max(pop.offset, offset)
        pop.streams[day] = pop.streams.get(day, 0) + 1
        if day > iu.last_day:
            if iu.last_day in pop.users:
                pop.users[iu.last_day] -= 1
                if pop.users[iu.last_day] == 0:
                    del pop.users[iu.last_day]
            pop.users[day] = pop.users.get(day, 0) + 1
    iu.last_day = max(iu.last_day, day)
    return True


def expire_popularity(pop: ItemPopularity, now_ms: int) -> bool:
    """Drop days that left the 90-day window; True if any did."""
    edge = now_ms // DAY_MS - POP_LONG_DAYS
    old = [d for d in pop.streams if d <= edge] + [d for d in pop.users if d <= edge]
    for d in old:
        pop.streams.pop(d, None)
        pop.users.pop(d, None)
    return bool(old)


def popularity_row(pop: ItemPopularity, now_ms: int) -> dict[str, Any]:
    """item_popularity values as of watermark now_ms."""
    today = now_ms // DAY_MS
    users_90d, users_14d = _window_totals(pop.users, today)
    streams_90d, streams_14d = _window_totals(pop.streams, today)
    return {
        "item_type": pop.item_type,
        "users_90d": users_90d,
        "streams_90d": streams_90d,
        "users_14d": users_14d,
        "streams_14d": streams_14d,
    }


def _window_totals(counts: dict[int, int], today: int) -> tuple[int, int]:
    """Sums of the counts over the 90 and the 14 whole days ending on `today`."""
    long_start, short_start = today - POP_LONG_DAYS, today - POP_SHORT_DAYS
    long_total = short_total = 0
    for day, n in counts.items():
        if long_start < day <= today:
            long_total += n
            if day > short_start:
                short_total += n
    return long_total, short_total
