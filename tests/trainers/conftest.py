"""Shared trainer fixtures: the tiny world, its co-listen records, cheap text features."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from colisten.world import format as fmt
from colisten.world.generator import generate_world
from stream_processors.reference import (
    colisten_edges_reference,
    colisten_records_reference,
)

torch.set_num_threads(1)
DIM = 32


@dataclass(frozen=True)
class TinyWorld:
    """The tiny world on disk, its events, catalogue, co-listen records and fake content."""

    path: Path
    manifest: fmt.WorldManifest
    events: pd.DataFrame
    catalogue: pd.DataFrame
    records: pd.DataFrame
    content: pd.DataFrame

    def edges_as_of(self, as_of_ms: int) -> pd.DataFrame:
        """colisten_edges as of a time, as flat rows (pair_id a column)."""
        return colisten_edges_reference(self.records, as_of_ms).reset_index()


def fake_content(catalogue: pd.DataFrame, dim: int = DIM) -> pd.DataFrame:
    """item_content rows with a cheap stand-in for the sentence model (hashed words)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    text = (catalogue["title"] + ". " + catalogue["description"]).tolist()
    counts = HashingVectorizer(n_features=2**12, stop_words="english").transform(text)
    proj = np.random.default_rng(0).standard_normal((2**12, dim)).astype(np.float32)
    emb = np.asarray(counts @ proj, dtype=np.float32)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return pd.DataFrame(
        {
            "item_id": catalogue["item_id"].to_numpy(),
            "item_type": catalogue["item_type"].to_numpy(),
            "text_embedding": list(emb),
            "text_model": "hashing-test",
            "language": catalogue["language"].to_numpy(),
            "genre": catalogue["genre"].to_numpy(),
            "event_timestamp": pd.to_datetime(catalogue["release_date"], utc=True),
        }
    )


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyWorld:
    """The tiny synthetic world (generated once per session)."""
    out = tmp_path_factory.mktemp("tiny-world")
    manifest = generate_world("tiny", 7, out, progress=False)
    events = fmt.read_events(out)
    catalogue = fmt.read_catalogue(out)
    records = colisten_records_reference(events[events["ts"] < manifest.split_ms])
    return TinyWorld(out, manifest, events, catalogue, records, fake_content(catalogue))
