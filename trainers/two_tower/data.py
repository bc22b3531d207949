"""Two-tower training data: labels from the log, user features point-in-time from Feast.

Labels are the first stream of each (user, item) of the target type with ts < cut-off.
Each label's user features are read with ``get_historical_features`` through the
FeatureService ``two_tower_user_v1`` as of 1 ms before the label (so the label's own
stream is never a feature). Item features: language, genre and text embedding from
item_content as of the cut-off, and the HGNN embedding of one model version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from colisten import names
from colisten.user_encoder import ItemVectors, UserFeatureSpec, build_user_inputs
from trainers.two_tower.config import TwoTowerConfig
from trainers.two_tower.model import ItemSpec

if TYPE_CHECKING:
    from feast import FeatureStore

SERVICE = names.TWO_TOWER_USER_SERVICE


def labels_from_events(
    events: pd.DataFrame, cutoff_ms: int, item_type: str = names.AUDIOBOOK
) -> pd.DataFrame:
    """First stream per (user, item) of item_type with ts < cutoff_ms, oldest first."""
    ev = events[
        (events[names.TS] < cutoff_ms)
        & (events[names.EVENT_TYPE] == names.STREAM)
        & (events[names.ITEM_TYPE] == item_type)
    ]
    first = ev.sort_values([names.TS, names.EVENT_ID], kind="stable")
    first = first.drop_duplicates([names.USER_ID, names.ITEM_ID], keep="first")
    return first[[names.USER_ID, names.ITEM_ID, names.TS]].reset_index(drop=True)


def historical_user_rows(
    store: FeatureStore, user_ids: Sequence[str], as_of_ms: Sequence[int] | np.ndarray
) -> list[dict[str, Any]]:
    """two_tower_user_v1 rows (full names) as of each time, in the input order."""
    if not len(user_ids):
        return []
    entity = pd.DataFrame(
        {
            names.USER_ID: list(user_ids),
            names.EVENT_TIMESTAMP: pd.to_datetime(
                np.asarray(as_of_ms), unit="ms", utc=True
            ),
            "_row": np.arange(len(user_ids)),
        }
    )
    service = store.get_feature_service(SERVICE)
    frame = store.get_historical_features(
        entity_df=entity, features=service, full_feature_names=True
    ).to_df()
    frame = frame.sort_values("_row").drop(columns=["_row"])
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def hgnn_vectors_path(data_dir: Path, version: str) -> Path:
    """The offline parquet file that holds one HGNN version's item vectors."""
    from feature_repo.batch_views import ITEM_HGNN_EMBEDDING
    from feature_repo.sources import offline_path

    return offline_path(ITEM_HGNN_EMBEDDING, data_dir) / f"hgnn-{version}.parquet"


def hgnn_vectors(data_dir: Path, version: str) -> pd.DataFrame:
    """item_id, item_type, hgnn_embedding of one HGNN version (its offline part)."""
    cols = [names.ITEM_ID, names.ITEM_TYPE, "hgnn_embedding"]
    return pd.read_parquet(hgnn_vectors_path(data_dir, version), columns=cols)


@dataclass
class ItemTable:
    """All items of both types with their tower features (rows in `ids` order)."""

    ids: list[str]
    item_type: np.ndarray
    language: list[str]
    genre: list[str]
    text: np.ndarray
    hgnn: np.ndarray | None

    @classmethod
    def build(cls, content: pd.DataFrame, hgnn: pd.DataFrame | None) -> ItemTable:
        """From item_content rows and (optionally) HGNN rows; items without HGNN: zeros."""
        content = content.sort_values(names.ITEM_ID).reset_index(drop=True)
        text = np.stack(content["text_embedding"].to_numpy()).astype(np.float32)
        mat = None
        if hgnn is not None:
            by_id = dict(zip(hgnn[names.ITEM_ID], hgnn["hgnn_embedding"], strict=True))
            dim = len(next(iter(by_id.values())))
            zero = np.zeros(dim, np.float32)
            mat = np.stack(
                [
                    np.asarray(by_id.get(i, zero), np.float32)
                    for i in content[names.ITEM_ID]
                ]
            )
        return cls(
            content[names.ITEM_ID].tolist(),
            content[names.ITEM_TYPE].to_numpy(),
            content["language"].fillna("").tolist(),
            content["genre"].fillna("").tolist(),
            text,
            mat,
        )

    def rows_of(self, item_type: str) -> np.ndarray:
        """Row numbers of one item type."""
        return np.flatnonzero(self.item_type == item_type)

    def user_vectors(self, use_hgnn: bool) -> ItemVectors:
        """The vectors z̄ averages: HGNN embeddings, or text embeddings for plain 2T."""
        mat = self.hgnn if use_hgnn and self.hgnn is not None else self.text
        return ItemVectors(self.ids, mat)

    def item_spec(self, rows: np.ndarray, use_hgnn: bool) -> ItemSpec:
        """Vocabularies from the given rows (the training item type)."""
        return ItemSpec(
            tuple(sorted({self.language[r] for r in rows})),
            tuple(sorted({self.genre[r] for r in rows})),
            self.text.shape[1],
            self.hgnn.shape[1] if use_hgnn and self.hgnn is not None else 0,
        )

    def inputs(self, rows: np.ndarray, spec: ItemSpec) -> dict[str, np.ndarray]:
        """Item tower inputs for the given rows (unknown language/genre -> index 0)."""
        lang = {v: i + 1 for i, v in enumerate(spec.languages)}
        genre = {v: i + 1 for i, v in enumerate(spec.genres)}
        out = {
            "language": np.array(
                [lang.get(self.language[r], 0) for r in rows], np.int32
            ),
            "genre": np.array([genre.get(self.genre[r], 0) for r in rows], np.int32),
            "text": self.text[rows],
        }
        if spec.hgnn_dim and self.hgnn is not None:
            out["hgnn"] = self.hgnn[rows]
        return out


@dataclass
class TrainingData:
    """Everything train_two_tower needs: user inputs per label, label rows, item inputs."""

    labels: pd.DataFrame
    user_inputs: dict[str, np.ndarray]
    label_rows: np.ndarray
    """Per label, its row among the candidate items (item_rows)."""
    item_rows: np.ndarray
    """Rows of the item table that are candidates (the target type)."""
    items: ItemTable
    user_spec: UserFeatureSpec
    item_spec: ItemSpec
    log_q: np.ndarray
    """Per candidate item, log of its share of the training labels (floored at 1 label)."""
    example_weights: np.ndarray
    """Per label, its example_weights weight (average 1; see example_weights)."""
    feature_max_ms: int
    """Newest event time any training feature row holds (for leakage checks)."""


def example_weights(
    label_rows: np.ndarray, n_items: int, power: float = 1.0
) -> np.ndarray:
    """Per example, count(its item) ** -power over label_rows, scaled to average 1."""
    counts = np.bincount(label_rows, minlength=n_items).astype(np.float64)
    raw = np.power(np.maximum(counts[label_rows], 1.0), -power)
    return (raw / raw.mean() if len(raw) else raw).astype(np.float32)


def user_spec_for(
    rows: Sequence[dict[str, Any]], items: ItemTable, cfg: TwoTowerConfig
) -> UserFeatureSpec:
    """Country vocabulary and widths from the training rows."""
    countries = sorted(
        {
            str(r.get("user_profile__country"))
            for r in rows
            if r.get("user_profile__country")
        }
    )
    tastes = [r.get("user_profile__music_taste") for r in rows]
    music_dim = max((len(t) for t in tastes if t is not None), default=0)
    vectors = items.user_vectors(cfg.use_hgnn)
    return UserFeatureSpec(
        countries=tuple(countries),
        music_dim=music_dim,
        item_dim=vectors.matrix.shape[1],
        use_weak_signals=cfg.use_weak_signals,
        item_vectors="hgnn" if cfg.use_hgnn else "text",
    )


def _newest_feature_ms(rows: Sequence[dict[str, Any]]) -> int:
    keys = ("user_weak_signals__last_event_ms", "user_recent_items__last_event_ms")
    stamps = [int(r[k]) for r in rows for k in keys if r.get(k) is not None]
    return max(stamps, default=-1)


def build_training_data(
    store: FeatureStore,
    labels: pd.DataFrame,
    items: ItemTable,
    cfg: TwoTowerConfig,
    cache: dict[tuple[str, int], list[dict[str, Any]]] | None = None,
) -> TrainingData:
    """Point-in-time user rows per label, item inputs, vocabularies, logQ and weights.

    cache (optional) keeps the rows per (target type, label count) across variants that
    share the labels (2T, 2T-HGNN and the ablations read the same user rows).
    """
    item_rows = items.rows_of(cfg.target_type)
    pos = {items.ids[r]: k for k, r in enumerate(item_rows)}
    labels = labels[labels[names.ITEM_ID].isin(pos)]
    if cfg.max_labels is not None:
        labels = labels.tail(cfg.max_labels)
    labels = labels.reset_index(drop=True)
    as_of = labels[names.TS].to_numpy(np.int64) - 1
    key = (cfg.target_type, len(labels))
    if cache is not None and key in cache:
        rows = cache[key]
    else:
        rows = historical_user_rows(store, labels[names.USER_ID].tolist(), as_of)
        if cache is not None:
            cache[key] = rows
    spec = user_spec_for(rows, items, cfg)
    user_inputs = build_user_inputs(rows, items.user_vectors(cfg.use_hgnn), spec)
    label_rows = labels[names.ITEM_ID].map(pos).to_numpy(np.int64)
    counts = np.bincount(label_rows, minlength=len(item_rows)).astype(np.float64)
    log_q = np.log(np.maximum(counts, 1.0) / max(len(label_rows), 1)).astype(np.float32)
    return TrainingData(
        labels=labels,
        user_inputs=user_inputs,
        label_rows=label_rows,
        item_rows=item_rows,
        items=items,
        user_spec=spec,
        item_spec=items.item_spec(item_rows, cfg.use_hgnn),
        log_q=log_q,
        example_weights=example_weights(
            label_rows, len(item_rows), cfg.inverse_frequency_power
        ),
        feature_max_ms=_newest_feature_ms(rows),
    )
