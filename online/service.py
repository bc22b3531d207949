"""The recommendation path: features → user tower → index, with a popularity fallback."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from colisten.retrieval import normalize
from online.explain import explain as explain_paths
from online.explain import recent_items
from online.features import FeatureClient, empty_row, streamed_items
from online.metrics import Metrics
from online.models import ModelBundle


class NotReady(RuntimeError):
    """No model is loaded yet."""


class UnknownItem(KeyError):
    """The item is in no index of the served model."""


@dataclass(frozen=True)
class Timings:
    """Seconds spent per stage of one request."""

    features: float = 0.0
    tower: float = 0.0
    index: float = 0.0

    def header(self) -> str:
        """A Server-Timing header value (milliseconds)."""
        return ", ".join(
            f"{k};dur={v * 1000:.3f}"
            for k, v in (
                ("features", self.features),
                ("tower", self.tower),
                ("index", self.index),
            )
        )


def _items(bundle: ModelBundle, hits: list[tuple[str, float]]) -> list[dict[str, Any]]:
    out = []
    for rank, (item_id, score) in enumerate(hits, start=1):
        info = bundle.info(item_id)
        out.append(
            {
                "item_id": item_id,
                "title": info.title,
                "genre": info.genre,
                "item_type": info.item_type,
                "score": round(score, 6),
                "rank": rank,
            }
        )
    return out


class Recommender:
    """Serves one request against the bundle current when it started."""

    def __init__(self, features: FeatureClient, metrics: Metrics) -> None:
        self.features = features
        self.metrics = metrics

    def recommend(
        self,
        bundle: ModelBundle | None,
        user_id: str,
        k: int,
        item_type: str,
        explain: bool = False,
    ) -> tuple[dict[str, Any], Timings]:
        """Top-k items of item_type for user_id, excluding what the user streamed.

        explain: add each item's "because" (its co-listening path from the user's recent
        items, see online.explain); one more batched store read.
        """
        if bundle is None:
            raise NotReady("no model loaded")
        fetched = self.features.fetch(user_id)
        outcome = "ok" if fetched.ok else "error"
        self.metrics.feature_fetch.labels(outcome).observe(fetched.seconds)
        self.metrics.stage.labels("features").observe(fetched.seconds)
        index = bundle.indexes.get(item_type)
        if not fetched.ok or index is None:
            reason = "feature_store" if not fetched.ok else "no_index"
            self.metrics.degraded.labels(reason).inc()
            hits = bundle.popularity.top(item_type, k)
            body = {
                "user_id": user_id,
                "item_type": item_type,
                "items": _items(bundle, hits),
                "model_version": bundle.version,
                "features_as_of": None,
                "degraded": True,
                "degraded_reason": fetched.error if not fetched.ok else reason,
            }
            return body, Timings(features=fetched.seconds)
        row = fetched.row or empty_row(user_id)
        t0 = time.perf_counter()
        vec = normalize(np.asarray(bundle.tower.encode([row]), np.float32))[0]
        t1 = time.perf_counter()
        hits = index.search(vec, k, exclude=streamed_items(row, item_type))
        t2 = time.perf_counter()
        self.metrics.stage.labels("tower").observe(t1 - t0)
        self.metrics.stage.labels("index").observe(t2 - t1)
        items = _items(bundle, hits)
        if explain:
            self._explain(bundle, row, items)
        body = {
            "user_id": user_id,
            "item_type": item_type,
            "items": items,
            "model_version": bundle.version,
            "features_as_of": fetched.features_as_of,
            "degraded": False,
            "degraded_reason": None,
        }
        return body, Timings(fetched.seconds, t1 - t0, t2 - t1)

    def _explain(
        self, bundle: ModelBundle, row: dict[str, Any], items: list[dict[str, Any]]
    ) -> None:
        def neighbours(item_id: str) -> list[tuple[str, str]]:
            source = bundle.similar.get(bundle.item_types.get(item_id, ""))
            if source is None or item_id not in source.row:
                return []
            vec = source.vector(item_id)
            return [
                (m, t)
                for t, index in bundle.similar.items()
                for m, _ in index.search(vec, 5, exclude={item_id})
            ]

        def named(item_id: str | None) -> dict[str, Any] | None:
            if item_id is None:
                return None
            info = bundle.info(item_id)
            return {
                "item_id": item_id,
                "title": info.title,
                "item_type": info.item_type,
            }

        recs = [(i["item_id"], i["item_type"] or "") for i in items]
        paths = explain_paths(
            recent_items(row), recs, neighbours, self.features.read_edges
        )
        for item in items:
            path = paths.get(item["item_id"])
            item["because"] = (
                None
                if path is None
                else {
                    "source": named(path.source),
                    "via": named(path.via),
                    "n_users": path.n_users,
                }
            )

    def profile(self, bundle: ModelBundle | None, user_id: str) -> dict[str, Any]:
        """The user's recent audiobooks and podcasts (titles, signals) from the store."""
        fetched = self.features.fetch(user_id)
        if not fetched.ok:
            raise NotReady(f"feature store: {fetched.error}")
        row = fetched.row or {}
        out: dict[str, Any] = {
            "user_id": user_id,
            "features_as_of": fetched.features_as_of,
        }
        for label in ("audiobook", "podcast"):
            ids = row.get(f"user_recent_items__recent_{label}s") or []
            signals = row.get(f"user_recent_items__recent_{label}_signals") or []
            out[f"recent_{label}s"] = [
                {
                    "item_id": i,
                    "title": bundle.info(i).title if bundle else None,
                    "genre": bundle.info(i).genre if bundle else None,
                    "signal": s,
                }
                for i, s in zip(ids, signals, strict=False)
            ]
        return out

    def similar(
        self, bundle: ModelBundle | None, item_id: str, k: int, item_type: str | None
    ) -> dict[str, Any]:
        """The k nearest items to item_id by HGNN embedding (default: same type)."""
        if bundle is None:
            raise NotReady("no model loaded")
        own = bundle.item_types.get(item_id)
        if own is None:
            raise UnknownItem(item_id)
        if not bundle.similar:
            raise NotReady("HGNN item embeddings are unavailable")
        source = bundle.similar.get(own)
        if source is None or item_id not in source.row:
            raise UnknownItem(item_id)
        target_type = item_type or own
        target = bundle.similar.get(target_type)
        if target is None:
            raise NotReady(f"no HGNN embeddings for {target_type}")
        hits = target.search(source.vector(item_id), k, exclude={item_id})
        return {
            "item_id": item_id,
            "item_type": target_type,
            "items": _items(bundle, hits),
            "model_version": bundle.version,
        }
