"""The pure weak-signal fold on hand-built events with known answers."""

from __future__ import annotations

import uuid

from colisten.events import InteractionEvent
from stream_processors.user_signals import UserSignalsState, counts, fold

DAY = 24 * 3600 * 1000
T0 = 1_767_600_000_000  # 2026-01-05


def ev(
    event_type: str,
    item_type: str = "audiobook",
    ts: int = T0,
    event_id: str | None = None,
) -> InteractionEvent:
    return InteractionEvent(
        event_id=event_id or str(uuid.uuid4()),
        user_id="u1",
        item_id="a1",
        item_type=item_type,
        event_type=event_type,
        ts=ts,  # type: ignore[arg-type]
        duration_ms=1000 if event_type == "stream" else None,
    )


def test_counts_each_signal_once() -> None:
    st = UserSignalsState()
    for e in [
        ev("follow"),
        ev("preview"),
        ev("preview", ts=T0 + 5),
        ev("intent_to_pay"),
        ev("stream"),
        ev("stream", "podcast", ts=T0 + 9),
    ]:
        assert fold(st, e)
    assert counts(st) == {
        "follow_audiobook_90d": 1,
        "preview_audiobook_90d": 2,
        "intent_to_pay_audiobook_90d": 1,
        "stream_audiobook_90d": 1,
        "stream_podcast_90d": 1,
        "last_event_ms": T0 + 9,
    }


def test_replayed_event_id_is_ignored() -> None:
    st = UserSignalsState()
    e = ev("follow", event_id="3f1c9a1e-8b0e-4a4e-9a55-2b1e2f3a4b5c")
    assert fold(st, e)
    assert not fold(st, e)
    assert counts(st)["follow_audiobook_90d"] == 1


def test_counts_decay_as_events_leave_the_window() -> None:
    st = UserSignalsState()
    fold(st, ev("follow", ts=T0))
    fold(st, ev("preview", ts=T0 + 30 * DAY))
    fold(
        st, ev("stream", "podcast", ts=T0 + 90 * DAY)
    )  # follow is now exactly 90 d old
    c = counts(st)
    assert c["follow_audiobook_90d"] == 0 and c["preview_audiobook_90d"] == 1
    fold(st, ev("stream", "podcast", ts=T0 + 121 * DAY))
    assert counts(st)["preview_audiobook_90d"] == 0
    assert counts(st)["stream_podcast_90d"] == 2


def test_late_event_outside_window_counts_nothing_inside_counts() -> None:
    st = UserSignalsState()
    fold(st, ev("stream", "podcast", ts=T0 + 100 * DAY))
    assert not fold(st, ev("follow", ts=T0))  # 100 days late: outside the window
    assert fold(st, ev("follow", ts=T0 + 50 * DAY))  # late but inside
    c = counts(st)
    assert c["follow_audiobook_90d"] == 1
    assert c["last_event_ms"] == T0 + 100 * DAY


def test_podcast_weak_signals_count_toward_no_column_but_move_last_event() -> None:
    st = UserSignalsState()
    assert fold(st, ev("follow", "podcast", ts=T0 + 1))
    c = counts(st)
    assert sum(v for k, v in c.items() if k != "last_event_ms") == 0
    assert c["last_event_ms"] == T0 + 1


def test_state_round_trips_through_json() -> None:
    st = UserSignalsState()
    fold(st, ev("follow"))
    fold(st, ev("stream", "podcast", ts=T0 + 1))
    again = UserSignalsState.from_json(st.to_json())
    assert again == st
