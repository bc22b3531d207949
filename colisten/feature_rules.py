"""What the stream-fed features count, defined once for the stream worker and the batch path.

The stream worker (`stream_processors/`) folds events into these features one at a time
and the batch materializer (`trainers/materialize/`) computes them from the log in SQL;
both read the windows and the counters from here, so the two cannot drift apart by a
constant. (How each path computes them is its own; docs/stream_processing.md.)
"""

from __future__ import annotations

from typing import Final

from colisten import names
from colisten.timeunits import DAY_MS

WINDOW_MS: Final = 90 * DAY_MS
"""The window of every stream-fed feature: weak signals, recent items, co-listens."""

_FOLLOWS, _PREVIEWS, _INTENTS = names.WEAK_SIGNAL_COUNTS
_BOOK_STREAMS, _POD_STREAMS = names.STREAM_COUNTS
COUNTERS: Final = {
    (names.AUDIOBOOK, names.FOLLOW): _FOLLOWS,
    (names.AUDIOBOOK, names.PREVIEW): _PREVIEWS,
    (names.AUDIOBOOK, names.INTENT_TO_PAY): _INTENTS,
    (names.AUDIOBOOK, names.STREAM): _BOOK_STREAMS,
    (names.PODCAST, names.STREAM): _POD_STREAMS,
}
"""(item_type, event_type) -> user_weak_signals column; other pairs count toward none."""

POP_LONG_DAYS: Final = 90
POP_SHORT_DAYS: Final = 14
"""item_popularity's windows: whole UTC days ending on the watermark's day."""
