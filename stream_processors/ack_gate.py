"""Acks only for events the worker made durable, so Faust never commits past a skipped event.

faust-streaming acks events that no agent processed in two places:

- `Stream._py_aiter` skips an event taken from the queue while flow control is suspended
  or whose message was fetched in an older consumer generation (a rebalance began after it
  was fetched), and acks it on the way out ("skipped_value ... event.ack()").
- `Stream.take_events` (and the worker's `batching.take_batches`, which keeps its acks)
  acks every buffered event in a `finally`, also when the agent that
  was folding the batch is cancelled at shutdown before the batch became durable.

Either ack lets the next commit move the group's offset past an event whose effect is in
no table: the partition's next owner (this worker after the rebalance, or another one)
resumes after it, and the event is lost. That is what made two workers "stall" in CI:
nothing hung; a few counts stayed one short near each rebalance, so the store never equalled
the reference (issue 12; the evidence is in docs/stream_processing.md).

`AckGate` wraps the consumer's `ack`: for the gated source topics it lets an ack through only
for a message an agent `allow`ed after the message's batch became durable. A refused message
stays unacked (and leaves the consumer's unacked set, so a rebalance does not wait for it);
the commit stops before it and the next owner reads it again. Replays are harmless: every
fold is idempotent on source offsets and event ids.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)


class AckGate:
    """Lets the consumer ack a gated topic's message only once an agent allowed it."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = frozenset(topics)
        self._allowed: weakref.WeakSet[Any] = weakref.WeakSet()
        self.refused = 0
        """Acks refused: events Faust skipped or never saw processed (a metric)."""
        self.foreign = 0
        """Events the agents dropped because their partition had moved away (a metric)."""

    def allow(self, events: Iterable[Any]) -> None:
        """Mark these events' messages as durable: their acks may now reach the consumer."""
        for event in events:
            self._allowed.add(event.message)

    def admits(self, message: Any) -> bool:
        """True if the consumer may record this message as processed."""
        return message.topic not in self.topics or message in self._allowed

    def wrap(self, ack: Callable[[Any], bool], unacked: Any) -> Callable[[Any], bool]:
        """The gated version of a consumer's `ack(message)` (`unacked`: its pending set)."""

        def gated_ack(message: Any) -> bool:
            if self.admits(message):
                self._allowed.discard(message)
                return ack(message)
            self.refused += 1
            unacked.discard(message)  # it will be fetched again; nothing waits for it
            log.info(
                "not acking %s/%d@%d: no agent made it durable (%d refused so far)",
                message.topic,
                message.partition,
                message.offset,
                self.refused,
            )
            return False

        return gated_ack

    def install(self, consumer: Any) -> None:
        """Gate `consumer.ack` (a Faust consumer; call before the app starts)."""
        consumer.ack = self.wrap(consumer.ack, consumer._unacked_messages)
