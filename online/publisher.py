"""Produce accepted events to Kafka and wait for the broker's acknowledgement."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from colisten.events import InteractionEvent
from colisten.world.replay import make_producer

if TYPE_CHECKING:
    from kafka import KafkaProducer

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The event could not be written (broker unreachable or no ack in time)."""


class EventPublisher:
    """An acks=all idempotent producer, created lazily so the API starts without Kafka."""

    def __init__(self, bootstrap: str, topic: str, timeout_ms: int) -> None:
        self.bootstrap, self.topic, self.timeout_ms = bootstrap, topic, timeout_ms
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = make_producer(
                    self.bootstrap,
                    linger_ms=0,
                    compression_type=None,
                    max_block_ms=self.timeout_ms,
                    request_timeout_ms=self.timeout_ms,
                    delivery_timeout_ms=self.timeout_ms * 2,
                    bootstrap_timeout_ms=self.timeout_ms,
                )
            return self._producer

    def publish(self, event: InteractionEvent) -> tuple[int, int]:
        """Write event keyed by user_id; return (partition, offset) once acknowledged."""
        try:
            producer = self._get()
            future = producer.send(
                self.topic, key=event.user_id.encode(), value=event.to_json()
            )
            meta = future.get(timeout=self.timeout_ms / 1000.0 * 2)
        except Exception as exc:  # NoBrokersAvailable, KafkaTimeoutError, ...
            raise PublishError(f"{type(exc).__name__}: {exc}") from exc
        return meta.partition, meta.offset

    def close(self) -> None:
        """Flush and close the producer if one was made."""
        with self._lock:
            if self._producer is not None:
                try:
                    self._producer.close(timeout=2)
                except Exception:  # closing a producer whose broker is gone
                    log.warning("producer close failed", exc_info=True)
                self._producer = None
