"""AckGate: a gated topic's message is acked only after an agent allowed it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.types import TP
from faust.types.tuples import ConsumerMessage

from stream_processors.ack_gate import AckGate


class FakeConsumer:
    """The two consumer members the gate touches: ack() and the unacked set."""

    def __init__(self) -> None:
        self.acked: list[tuple[str, int]] = []
        self._unacked_messages: set[Any] = set()

    def ack(self, message: Any) -> bool:
        message.acked = True
        self.acked.append((message.topic, message.offset))
        return True


def _message(topic: str, offset: int) -> ConsumerMessage:
    return ConsumerMessage(
        topic, 0, offset, 0.0, 0, None, b"k", b"v", None, 1, 1, tp=TP(topic, 0)
    )


def _gated() -> tuple[AckGate, FakeConsumer]:
    consumer = FakeConsumer()
    gate = AckGate(["interactions"])
    gate.install(consumer)
    return gate, consumer


def test_a_skipped_event_is_not_acked_and_nothing_waits_for_it() -> None:
    gate, consumer = _gated()
    skipped = _message("interactions", 7)
    consumer._unacked_messages.add(skipped)
    # what Stream._py_aiter does with an event of an older generation: ack it
    assert skipped.ack(consumer) is False
    assert consumer.acked == [] and not skipped.acked
    assert skipped not in consumer._unacked_messages
    assert gate.refused == 1


def test_an_allowed_event_is_acked_once() -> None:
    gate, consumer = _gated()
    done = _message("interactions", 8)
    gate.allow([SimpleNamespace(message=done)])
    assert done.ack(consumer) is True
    assert consumer.acked == [("interactions", 8)] and done.acked
    assert done.ack(consumer) is False  # Faust's own guard: acked already
    assert consumer.acked == [("interactions", 8)] and gate.refused == 0


def test_only_the_allowed_events_of_a_batch_pass() -> None:
    gate, consumer = _gated()
    batch = [_message("interactions", o) for o in range(5)]
    gate.allow(SimpleNamespace(message=m) for m in batch[:3])  # the batch was cut short
    for m in batch:
        m.ack(consumer)
    assert consumer.acked == [("interactions", o) for o in range(3)]
    assert gate.refused == 2


def test_other_topics_pass_through() -> None:
    gate, consumer = _gated()
    changelog = _message("colisten-stream-users-changelog", 3)
    assert changelog.ack(consumer) is True
    assert consumer.acked == [("colisten-stream-users-changelog", 3)]
    assert gate.refused == 0
