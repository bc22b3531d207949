"""Faust's producer buffer with a flush that really drains it, so no commit outruns a changelog.

Table writes queue their changelog records in the producer's `ProducerBuffer`; a background
task hands them to aiokafka one at a time. Before Faust commits source offsets (and when a
rebalance revokes partitions) it calls `producer.flush()`, which is meant to make every
queued record durable first. faust-streaming's `ProducerBuffer.flush()` gives up as soon as
no record is handed over for 0.1 s (`flush_atmost` returns on its `wait_for` timeout), even
with thousands still queued. On a loaded machine the sender task regularly stalls for longer
(aiokafka's accumulator is full, or the loop is busy folding a batch), so Faust can commit
the offsets of events whose table states are still in the buffer. If the partition then
moves to another worker, that worker restores the table from a changelog that lacks those
states and resumes after the committed offset: the events are counted by nobody. This is
the "two workers stall after a rebalance" of CI (issue 12): nothing hangs, the counts of a
few keys are simply short, so the store never equals the reference.

`DrainingProducerBuffer.flush()` returns only when the queue is empty and no record is in the
sender's hands; the aiokafka flush that follows in `Producer.flush()` then waits for the
broker's acknowledgements. `use_draining_buffer(app)` installs it on an app's producer.
"""

from __future__ import annotations

import asyncio
import logging
import time

import faust
from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage

log = logging.getLogger(__name__)
STILL_FLUSHING_LOG_S = 10.0
"""A flush that waits this long logs how many records are still queued (then again)."""


class DrainingProducerBuffer(ProducerBuffer):  # type: ignore[misc]
    """A `ProducerBuffer` whose `flush()` waits until every queued record is handed over."""

    max_messages = 5000
    """Streams pause while more records than this wait (Faust's 100 stalls every burst)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.in_hand = 0
        """Records the sender task took from the queue and has not yet handed to aiokafka."""
        self.flushes_cut_short_upstream = 0
        """Flushes that faust-streaming's own flush would have ended with records queued."""

    async def _send_pending(self, fut: FutureMessage) -> None:
        self.in_hand += 1
        try:
            await super()._send_pending(fut)
        finally:
            self.in_hand -= 1

    def drained(self) -> bool:
        """True when nothing is queued or in the sender's hands."""
        return not self.size and not self.in_hand

    async def flush(self) -> None:
        """Wait until every record queued before (or during) the call is handed over."""
        started = last_log = time.monotonic()
        idle_polls = 0
        while not self.drained():
            if self.state != "running":
                raise RuntimeError(
                    f"Cannot flush: producer buffer is {self.state} with "
                    f"{self.size + self.in_hand} records unsent"
                )
            self.message_sent.clear()
            try:
                await asyncio.wait_for(self.message_sent.wait(), timeout=0.1)
            except TimeoutError:
                idle_polls += 1
                if idle_polls == 1:  # where faust-streaming's flush would have returned
                    self.flushes_cut_short_upstream += 1
            now = time.monotonic()
            if now - last_log >= STILL_FLUSHING_LOG_S:
                last_log = now
                log.warning(
                    "producer flush: %d records still queued after %.0f s",
                    self.size + self.in_hand,
                    now - started,
                )


def use_draining_buffer(app: faust.App) -> DrainingProducerBuffer:
    """Give the app's producer a `DrainingProducerBuffer` (call before the app starts)."""
    producer = app.producer
    old = producer.buffer
    if isinstance(old, DrainingProducerBuffer):
        return old
    buffer = DrainingProducerBuffer(loop=producer.loop, beacon=producer.beacon)
    buffer.app = old.app
    if getattr(old, "threaded_producer", None) is not None:
        buffer.threaded_producer = old.threaded_producer
    producer.buffer = buffer
    return buffer
