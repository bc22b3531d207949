"""Pure core of per-user weak-signal counts: fold(state, event) in a 90-day window."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from colisten import names
from colisten.events import InteractionEvent

WINDOW_MS = 90 * 24 * 3600 * 1000

COUNTERS = {
    (names.AUDIOBOOK, names.FOLLOW): "follow_audiobook_90d",
    (names.AUDIOBOOK, names.PREVIEW): "preview_audiobook_90d",
    (names.AUDIOBOOK, names.INTENT_TO_PAY): "intent_to_pay_audiobook_90d",
    (names.AUDIOBOOK, names.STREAM): "stream_audiobook_90d",
    (names.PODCAST, names.STREAM): "stream_podcast_90d",
}
"""(item_type, event_type) -> feature column; other combinations count toward nothing."""


@dataclass
class UserSignalsState:
    """One user's events still inside the window, as sorted (ts_ms, counter, event_id)."""

    events: list[tuple[int, str, str]] = field(default_factory=list)
    last_event_ms: int = 0

    def to_json(self) -> dict[str, object]:
        """A JSON-friendly form for the changelogged table."""
        return {"events": [list(e) for e in self.events], "last": self.last_event_ms}

    @classmethod
    def from_json(cls, raw: dict[str, object] | None) -> UserSignalsState:
        """Rebuild from to_json() output (None: a new user)."""
        if not raw:
            return cls()
        events = [(int(t), str(c), str(i)) for t, c, i in raw["events"]]  # type: ignore[attr-defined]
        return cls(events=events, last_event_ms=int(raw["last"]))  # type: ignore[arg-type]


def expire(state: UserSignalsState, now_ms: int, window_ms: int = WINDOW_MS) -> bool:
    """Drop events older than the window as of event time now_ms; True if any were dropped."""
    cut = bisect.bisect_right(state.events, (now_ms - window_ms, "\uffff", "\uffff"))
    if cut:
        del state.events[:cut]
    return cut > 0


def fold(
    state: UserSignalsState, event: InteractionEvent, window_ms: int = WINDOW_MS
) -> bool:
    """Apply one event in place; True if the user's counts or last-event time changed.

    Idempotent: an event_id already inside the window is ignored, so a replay after a
    crash never counts twice. Events older than the window (late arrivals) count nothing.
    """
    counter = COUNTERS.get((event.item_type, event.event_type))
    now = max(state.last_event_ms, event.ts)
    changed = expire(state, now, window_ms)
    if event.ts <= now - window_ms:
        return changed
    if any(eid == event.event_id for _, _, eid in state.events):
        return changed
    if event.ts > state.last_event_ms:
        state.last_event_ms = event.ts
        changed = True
    if counter is not None:
        bisect.insort(state.events, (event.ts, counter, event.event_id))
        changed = True
    return changed


def counts(state: UserSignalsState) -> dict[str, int]:
    """The feature values for a state: every counter (zero when absent) and last_event_ms."""
    tally = Counter(c for _, c, _ in state.events)
    row: dict[str, int] = {col: tally.get(col, 0) for col in COUNTERS.values()}
    row["last_event_ms"] = state.last_event_ms
    return row
