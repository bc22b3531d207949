"""DrainingProducerBuffer.flush waits for every queued record; Faust's own gives up early."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.producer import ProducerBuffer

from stream_processors.producer_buffer import DrainingProducerBuffer

SEND_S = 0.15
"""Each hand-over takes longer than the 0.1 s Faust's flush waits between records."""


def _record(sent: list[int], n: int) -> Any:
    async def publish_message(fut: Any, wait: bool = False) -> None:
        await asyncio.sleep(SEND_S)
        sent.append(n)

    channel = SimpleNamespace(publish_message=publish_message)
    return SimpleNamespace(message=SimpleNamespace(channel=channel))


async def _flush_with_slow_sender(cls: type[ProducerBuffer], n: int) -> tuple[int, int]:
    """Queue n records behind a slow sender, flush; return (sent, still queued)."""
    buffer = cls()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    sent: list[int] = []
    await buffer.start()
    try:
        for i in range(n):
            buffer.put(_record(sent, i))
        await buffer.flush()
        return len(sent), buffer.size
    finally:
        buffer.pending = asyncio.Queue()  # stop() flushes: skip the leftovers
        await buffer.stop()


def test_faust_flush_returns_with_records_still_queued() -> None:
    """The upstream behaviour this module exists for (if this fails, upstream fixed it)."""
    sent, queued = asyncio.run(_flush_with_slow_sender(ProducerBuffer, 5))
    assert queued > 0 and sent < 5


def test_draining_flush_returns_only_when_every_record_is_handed_over() -> None:
    sent, queued = asyncio.run(_flush_with_slow_sender(DrainingProducerBuffer, 5))
    assert (sent, queued) == (5, 0)


def test_draining_flush_refuses_when_the_buffer_is_not_running() -> None:
    async def go() -> None:
        buffer = DrainingProducerBuffer()
        buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
        buffer.put(_record([], 0))
        await buffer.flush()

    with pytest.raises(RuntimeError, match="1 records unsent"):
        asyncio.run(go())
