"""Batches that grow while the worker is behind: Faust's `take_events`, with a backlog rule.

faust-streaming's `Stream.take_events(max_, within)` yields what arrived within `within`
seconds (or `max_` events). One window has to serve two cases: live traffic, where a short
window keeps a follow's way to the online store short, and catching up (a replay, a restart,
a burst), where each batch should be large, because a batch's fixed costs are the worker's
largest: one changelog record per changed key per batch, stage-2 messages and their
acknowledgements, the durable commit. With the worker's 20 ms window a catch-up batch held
~100 events, and those per-batch costs took a large share of the worker's time
(bench/RESULTS.md, session 12).

`take_batches` is `take_events` (same buffering, same acks: every event is acked only after
the agent's loop body for its batch returns, so `AckGate` sees the same order) with one
change: when the window closes while the buffered events are behind their partitions'
high watermarks (more than `backlog_records` records of some partition already wait in
Kafka), it keeps collecting, up to `backlog_within_s` or `max_events`. Caught up, it
yields after `within_s` as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from mode.utils.aiter import aiter
from mode.utils.futures import notify

from stream_processors.config import BatchWindow


def behind(
    newest: dict[Any, int], highwater: Callable[[Any], int | None], slack: int = 0
) -> bool:
    """True if some partition holds more than `slack` records past the newest buffered one.

    `newest` maps each partition to the offset of its newest buffered record; `highwater`
    gives the partition's high watermark (the next offset to be written), or None when
    the consumer does not know it yet (then it counts as caught up).
    """
    for tp, offset in newest.items():
        end = highwater(tp)
        if end is not None and end - (offset + 1) > slack:
            return True
    return False


def take_batches(
    stream: Any, window: BatchWindow, highwater: Callable[[Any], int | None]
) -> AsyncIterator[Sequence[Any]]:
    """The batches of `stream` (see `_take_batches`), registered with the stream as
    `take_events` registers its own, so that stopping the stream closes them."""
    agen = _take_batches(stream, window, highwater)
    stream._active_agens.add(agen)  # noqa: SLF001 - what take_events' decorator does
    return agen


def safe_highwater(consumer: Any) -> Callable[[Any], int | None]:
    """The consumer's high watermark of a partition; None where it has none (a partition
    the last rebalance took away, or one not fetched yet)."""

    def highwater(tp: Any) -> int | None:
        try:
            end = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - unassigned: treat as caught up
            return None
        return int(end) if end is not None else None

    return highwater


async def _take_batches(
    stream: Any, window: BatchWindow, highwater: Callable[[Any], int | None]
) -> AsyncIterator[Sequence[Any]]:
    """Yield lists of events: after `within_s` when caught up, up to `backlog_within_s`
    (or `max_events`) while the buffered events are behind (see the module docstring)."""
    max_, within = window.max_events, window.within_s
    backlog_within = window.backlog_within_s
    events: list[Any] = []
    newest: dict[Any, int] = {}
    buffer_full = asyncio.Event()
    buffer_consumed = asyncio.Event()
    stream_enable_acks: bool = stream.enable_acks
    buffer_consuming: asyncio.Future[Any] | None = None
    channel_it = aiter(stream.channel)
    loop = asyncio.get_running_loop()

    async def add_to_buffer(value: Any) -> Any:
        # as in Stream.take_events (which also keeps the values in a list beside the
        # events; only the events are yielded here), plus each partition's newest offset
        nonlocal buffer_consuming
        try:
            if buffer_consuming is not None:
                try:
                    await buffer_consuming
                finally:
                    buffer_consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("Take buffer found current_event is None")
            events.append(event)
            newest[event.message.tp] = event.message.offset
            if len(events) >= max_:
                buffer_full.set()
                buffer_consumed.clear()
                await stream.wait(buffer_consumed)
        except asyncio.CancelledError:  # pragma: no cover
            raise
        except Exception as exc:  # noqa: BLE001 - Faust's own handling: crash the stream
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    stream.enable_acks = False  # acked here, once the agent is done with the batch
    stream.add_processor(add_to_buffer)
    stream._enable_passive(channel_it)  # noqa: SLF001 - what take_events does
    try:
        while not stream.should_stop:
            started = loop.time()
            await stream.wait_for_stopped(buffer_full, timeout=within)
            while (
                events
                and not buffer_full.is_set()
                and not stream.should_stop
                and loop.time() - started < backlog_within
                and behind(newest, highwater, window.backlog_records)
            ):
                left = backlog_within - (loop.time() - started)
                await stream.wait_for_stopped(buffer_full, timeout=min(within, left))
            if events:
                buffer_consuming = loop.create_future()
                try:
                    yield list(events)
                finally:
                    for event in events:
                        await stream.ack(event)
                    events.clear()
                    newest.clear()
                    notify(buffer_consuming)
                    buffer_full.clear()
                    buffer_consumed.set()
    finally:
        stream.enable_acks = stream_enable_acks
        stream._processors.remove(add_to_buffer)  # noqa: SLF001
