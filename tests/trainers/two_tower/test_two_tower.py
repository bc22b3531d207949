"""2T-HGNN on tiny: it learns, features are point in time, export round-trips exactly."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd

from colisten.timeunits import DAY_MS as DAY
from colisten.user_encoder import UserEncoder, build_user_inputs
from stream_processors.reference import user_weak_signals_reference
from tests.trainers.conftest import TinyWorld
from tests.trainers.two_tower.conftest import TinyStore
from trainers import registry
from trainers.two_tower.export import item_vectors, load_item_vectors
from trainers.two_tower.pipeline import TwoTowerRun
from trainers.two_tower.train import apply_model


def test_training_lowers_the_loss(trained: TwoTowerRun) -> None:
    hist = trained.result.history
    assert hist[-1]["loss"] < trained.result.initial_loss
    assert hist[-1]["loss"] < hist[0]["loss"]


def test_beats_random_ranking_on_train_users(trained: TwoTowerRun) -> None:
    data = trained.data
    users = apply_model(trained.result.user_model, data.user_inputs)
    _, items = item_vectors(trained.result, data, "audiobook")
    scores = users @ items.T
    own = scores[np.arange(len(users)), data.label_rows]
    rank = (scores > own[:, None]).sum(axis=1)  # 0 = best
    assert rank.mean() < 0.35 * items.shape[0], rank.mean()  # random: about 0.5


def test_no_leakage_past_the_cutoff(tiny: TinyWorld, trained: TwoTowerRun) -> None:
    split = tiny.manifest.split_ms
    assert int(trained.data.labels["ts"].max()) < split
    assert 0 < trained.data.feature_max_ms < split
    manifest = json.loads((trained.model_dir / "manifest.json").read_text())
    assert (
        manifest["cutoff_ms"] == split
        and manifest["feature_service"] == "two_tower_user_v1"
    )


def test_features_are_as_of_each_label(tiny: TinyWorld, trained: TwoTowerRun) -> None:
    from feature_repo.store import open_store
    from trainers.two_tower.data import historical_user_rows

    labels = trained.data.labels
    labels = labels[labels["ts"] < tiny.manifest.start_ms + 89 * DAY].head(25)
    rows = historical_user_rows(
        open_store(trained.data and _cfg(trained)),
        labels["user_id"].tolist(),
        labels["ts"] - 1,
    )
    for (user, item, ts), row in zip(labels.itertuples(index=False), rows, strict=True):
        before = tiny.events[
            (tiny.events["user_id"] == user) & (tiny.events["ts"] < ts)
        ]
        if before.empty:
            assert row["user_weak_signals__last_event_ms"] is None
            continue
        assert row["user_weak_signals__last_event_ms"] == before["ts"].max()
        want = user_weak_signals_reference(before).loc[user]
        for col in want.index:
            assert row[f"user_weak_signals__{col}"] == want[col], (user, col)
        streamed = set(before.loc[before["event_type"] == "stream", "item_id"])
        assert item not in streamed  # the label is the first stream of (user, item)


def _cfg(run: TwoTowerRun):  # noqa: ANN202
    from feature_repo.config import FeatureStoreConfig

    return FeatureStoreConfig(
        online="sqlite", data_dir=run.model_dir.parents[2] / "feast"
    )


def test_export_round_trips(trained: TwoTowerRun, tiny_store: TinyStore) -> None:
    model_dir = trained.model_dir
    assert registry.latest_version("two_tower", tiny_store.models) == model_dir.name
    assert registry.load_version("two_tower", model_dir.name, tiny_store.models).config
    data = trained.data
    enc = UserEncoder.load(model_dir)
    rows = [dict(r) for r in _sample_rows(trained)]
    inputs = build_user_inputs(rows, data.items.user_vectors(True), data.user_spec)
    in_training = apply_model(trained.result.user_model, inputs)
    loaded = keras.models.load_model(model_dir / "user_tower.keras")
    np.testing.assert_allclose(enc.encode(rows), in_training, atol=1e-5)
    np.testing.assert_allclose(
        apply_model(loaded, enc.inputs(rows)), in_training, atol=1e-5
    )
    np.testing.assert_allclose(np.linalg.norm(in_training, axis=1), 1.0, atol=1e-5)
    cold = enc.encode([{"user_id": "nobody"}])
    assert cold.shape == (1, 32) and np.isfinite(cold).all()
    saved_ids, saved = load_item_vectors(model_dir, "audiobook")
    ids, vecs = item_vectors(trained.result, data, "audiobook")
    assert saved_ids == ids
    np.testing.assert_allclose(saved, vecs, atol=1e-6)
    assert (model_dir / "index_audiobook" / "manifest.json").exists()


def _sample_rows(run: TwoTowerRun) -> list[dict]:
    from feature_repo.store import open_store
    from trainers.two_tower.data import historical_user_rows

    labels = run.data.labels.head(40)
    got = historical_user_rows(
        open_store(_cfg(run)), labels["user_id"].tolist(), labels["ts"] - 1
    )
    assert isinstance(got[0], dict) and not isinstance(got, pd.DataFrame)
    return got
