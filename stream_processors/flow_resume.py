"""A resume of the app's flow that is already running keeps the records queued to agents.

faust-streaming's `FlowControlEvent.resume()` clears every agent queue. That is meant for
the resume after a rebalance: the queues then hold records fetched before it, which the
partitions' new owners read again. But a rebalance resumes the flow twice. Recovery resumes
it before reading the changelogs (`Recovery._restart_recovery`, "Resuming flow..."), and
once they are read it resumes the stream partitions, awaits a seek to the committed offsets,
and resumes the flow again (`Recovery.on_recovery_completed`). Source records fetched while
that seek is awaited are current: the agents start folding them, and the second resume
clears the rest out of the queues. The client's position is past them, so nobody reads
them again. Their offsets are never acked, and the group's commit stops below them (a
stall, with the events missing), or passes them when the partition has no committed offset
yet (faust's `Consumer._new_offset` does not look for a gap before the first commit).
Seen once in the rebalance soak as a stall (issue 12; docs/stream_processing.md).

`keep_queues_on_repeated_resume(app)` makes a resume of an active flow a no-op, so only a
resume after a real suspension clears the queues.
"""

from __future__ import annotations

from typing import Any


def keep_queues_on_repeated_resume(app: Any) -> None:
    """Wrap `app.flow_control.resume` (call before the app starts)."""
    flow = app.flow_control
    resume = flow.resume

    def resume_unless_running() -> None:
        if flow.is_active():
            return  # already running: clearing would drop current, unacked records
        resume()

    flow.resume = resume_unless_running
