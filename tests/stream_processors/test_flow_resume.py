"""A second resume of a running flow keeps queued records; a real resume still clears."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from stream_processors.flow_resume import keep_queues_on_repeated_resume


def _flow_and_queue() -> tuple[FlowControlEvent, FlowControlQueue]:
    flow = FlowControlEvent()  # suspended at start, as the app's
    queue: FlowControlQueue = FlowControlQueue(flow_control=flow, clear_on_resume=True)
    keep_queues_on_repeated_resume(SimpleNamespace(flow_control=flow))
    return flow, queue


def test_records_queued_while_running_survive_another_resume() -> None:
    flow, queue = _flow_and_queue()
    flow.resume()  # recovery starts: "Resuming flow..."
    queue.put_nowait("record fetched while the seek was awaited")
    flow.resume()  # recovery completes: the stream partitions' resume
    assert flow.is_active() and queue.qsize() == 1
    assert asyncio.run(queue.get()) == "record fetched while the seek was awaited"


def test_a_resume_after_a_suspension_still_clears_stale_records() -> None:
    flow, queue = _flow_and_queue()
    flow.resume()
    flow.suspend()  # a rebalance: what is queued was fetched for the old assignment
    queue.put_nowait("stale")
    flow.resume()
    assert flow.is_active() and queue.qsize() == 0
