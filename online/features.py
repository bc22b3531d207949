"""Online feature fetch through the versioned FeatureService, bounded by a timeout."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from colisten import names
from feature_repo import batch_views, user_recent_items, user_weak_signals
from feature_repo.feature_services import POPULARITY_V1, TWO_TOWER_USER_V1

if TYPE_CHECKING:
    from feast import FeatureStore

    from feature_repo.config import FeatureStoreConfig

log = logging.getLogger(__name__)

USER_SERVICE = TWO_TOWER_USER_V1
"""The FeatureService the user tower reads (full feature names: view__feature)."""
LAST_EVENT_FEATURES = (
    f"{user_weak_signals.VIEW}__last_event_ms",
    f"{user_recent_items.VIEW}__last_event_ms",
)
USER_FEATURES = tuple(
    [f"{batch_views.USER_PROFILE}__{c.name}" for c in batch_views.USER_PROFILE_COLUMNS]
    + [f"{user_weak_signals.VIEW}__{c.name}" for c in user_weak_signals.COLUMNS]
    + [f"{user_recent_items.VIEW}__{c.name}" for c in user_recent_items.COLUMNS]
)
RECENT = {
    names.AUDIOBOOK: (
        f"{user_recent_items.VIEW}__recent_audiobooks",
        f"{user_recent_items.VIEW}__recent_audiobook_signals",
    ),
    names.PODCAST: (
        f"{user_recent_items.VIEW}__recent_podcasts",
        f"{user_recent_items.VIEW}__recent_podcast_signals",
    ),
}


@dataclass(frozen=True)
class FeatureFetch:
    """One user's online row (None when the store failed), its freshness, and timing."""

    row: dict[str, Any] | None
    features_as_of: int | None
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the store answered in time."""
        return self.row is not None


def empty_row(user_id: str) -> dict[str, Any]:
    """The row Feast returns for an unknown user: every feature None (cold start)."""
    return {names.USER_ID: user_id, **dict.fromkeys(USER_FEATURES)}


def features_as_of(row: dict[str, Any]) -> int | None:
    """The newest event time (UTC ms) among the row's last_event_ms features."""
    stamps = [row.get(f) for f in LAST_EVENT_FEATURES]
    known = [int(s) for s in stamps if s is not None]
    return max(known) if known else None


def streamed_items(row: dict[str, Any] | None, item_type: str) -> set[str]:
    """Recent items of item_type whose newest signal is a stream (to exclude)."""
    if not row or item_type not in RECENT:
        return set()
    items_key, signals_key = RECENT[item_type]
    items = row.get(items_key) or []
    signals = row.get(signals_key) or []
    return {i for i, s in zip(items, signals, strict=False) if s == names.STREAM}


class FeatureClient:
    """Reads the online store from a small thread pool so a slow store cannot stall us."""

    def __init__(
        self, store_cfg: FeatureStoreConfig, timeout_ms: int, threads: int
    ) -> None:
        self.store_cfg = store_cfg
        self.timeout_s = timeout_ms / 1000.0
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="feast")
        self._store: FeatureStore | None = None
        self._service: Any = None
        self._lock = threading.Lock()

    def _open(self) -> tuple[FeatureStore, Any]:
        with self._lock:
            if self._store is None:
                from feature_repo.store import open_store

                store = open_store(self.store_cfg)
                self._service = store.get_feature_service(USER_SERVICE)
                self._store = store
            return self._store, self._service

    def _read(self, user_id: str) -> dict[str, Any]:
        store, service = self._open()
        got = store.get_online_features(
            features=service,
            entity_rows=[{names.USER_ID: user_id}],
            full_feature_names=True,
        ).to_dict()
        return {key: values[0] for key, values in got.items()}

    def fetch(self, user_id: str, timeout_s: float | None = None) -> FeatureFetch:
        """The user's two_tower_user_v1 row, or an error after the timeout."""
        start = time.perf_counter()
        future = self._pool.submit(self._read, user_id)
        try:
            row = future.result(
                timeout=self.timeout_s if timeout_s is None else timeout_s
            )
        except FutureTimeout:
            future.cancel()
            took = time.perf_counter() - start
            return FeatureFetch(None, None, took, f"timeout after {took * 1000:.0f} ms")
        except Exception as exc:  # any store failure degrades, never a 500
            took = time.perf_counter() - start
            return FeatureFetch(None, None, took, f"{type(exc).__name__}: {exc}"[:300])
        return FeatureFetch(row, features_as_of(row), time.perf_counter() - start)

    def ping(self, timeout_s: float = 1.0) -> str | None:
        """None when the store answers a read within timeout_s, else the reason."""
        got = self.fetch("__readyz__", timeout_s=timeout_s)
        return None if got.ok else f"feature store: {got.error}"

    def read_items(
        self, view_features: Sequence[str], item_ids: Sequence[str], chunk: int = 5000
    ) -> dict[str, list[Any]]:
        """Bulk item features (e.g. item_hgnn_embedding:hgnn_embedding), no timeout."""
        store, _ = self._open()
        out: dict[str, list[Any]] = {}
        for i in range(0, len(item_ids), chunk):
            rows = [{names.ITEM_ID: x} for x in item_ids[i : i + chunk]]
            got = store.get_online_features(
                features=list(view_features), entity_rows=rows
            )
            for key, values in got.to_dict().items():
                out.setdefault(key, []).extend(values)
        return out

    def read_popularity(self, item_ids: Sequence[str]) -> dict[str, list[Any]]:
        """item_popularity_v1 rows for item_ids, no timeout (used when loading a model)."""
        store, _ = self._open()
        service = store.get_feature_service(POPULARITY_V1)
        out: dict[str, list[Any]] = {}
        for i in range(0, len(item_ids), 5000):
            rows = [{names.ITEM_ID: x} for x in item_ids[i : i + 5000]]
            got = store.get_online_features(features=service, entity_rows=rows)
            for key, values in got.to_dict().items():
                out.setdefault(key, []).extend(values)
        return out

    def read_edges(self, pair_ids: Sequence[str]) -> dict[str, int]:
        """Distinct co-listening users per pair (colisten_edges:n_users); absent pairs: 0."""
        if not pair_ids:
            return {}
        store, _ = self._open()
        got = store.get_online_features(
            features=["colisten_edges:n_users"],
            entity_rows=[{names.PAIR_ID: p} for p in pair_ids],
        ).to_dict()
        return {
            p: int(n or 0)
            for p, n in zip(got[names.PAIR_ID], got["n_users"], strict=True)
        }

    def close(self) -> None:
        """Stop the pool (pending reads are dropped)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
