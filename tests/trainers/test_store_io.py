"""Point-in-time loads from a real (SQLite + DuckDB) Feast store, and the whole HGNN run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colisten.timeunits import DAY_MS as DAY
from feature_repo import colisten_edges
from feature_repo.batch_views import ITEM_HGNN_EMBEDDING
from feature_repo.config import FeatureStoreConfig
from feature_repo.offline import write_offline_part
from feature_repo.store import apply_definitions, open_store
from tests.trainers.conftest import TinyWorld
from trainers import registry
from trainers.content import write_item_content
from trainers.graph import build_hetero_data, load_graph_inputs
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.pipeline import run_hgnn

pytestmark = pytest.mark.integration
TTL_MS = int(colisten_edges.WINDOW.total_seconds() * 1000)


@pytest.fixture(scope="module")
def store_setup(
    tiny: TinyWorld, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FeatureStoreConfig, list[int]]:
    """A store holding item_content and edge snapshots at several times (incl. later)."""
    cfg = FeatureStoreConfig(online="sqlite", data_dir=tmp_path_factory.mktemp("feast"))
    apply_definitions(open_store(cfg), cfg)
    write_item_content(tiny.content, cfg)
    split = tiny.manifest.split_ms
    times = [split - 40 * DAY, split - 20 * DAY, split - 5 * DAY, split]
    for t in times:
        rows = tiny.edges_as_of(t).assign(
            event_timestamp=pd.Timestamp(t, unit="ms", tz="UTC")
        )
        write_offline_part(
            colisten_edges.VIEW,
            rows,
            colisten_edges.ARROW_SCHEMA,
            f"asof-{t}",
            cfg.data_dir,
        )
    return cfg, times


def _expected(tiny: TinyWorld, times: list[int], cutoff: int) -> pd.DataFrame:
    """Per pair, the newest snapshot row at or before the cut-off, within the view's TTL."""
    rows = [
        tiny.edges_as_of(t).assign(t=t) for t in times if cutoff - TTL_MS < t <= cutoff
    ]
    both = pd.concat(rows).sort_values(["pair_id", "t"])
    return both.drop_duplicates("pair_id", keep="last").set_index("pair_id")


def test_nothing_after_the_cutoff_is_loaded(
    tiny: TinyWorld, store_setup: tuple[FeatureStoreConfig, list[int]]
) -> None:
    cfg, times = store_setup
    cutoff = times[1] + DAY  # between the 2nd and 3rd snapshots
    inputs = load_graph_inputs(open_store(cfg), cutoff)
    got = inputs.edges.set_index("pair_id").sort_index()
    want = _expected(tiny, times, cutoff)
    assert list(got.index) == list(want.index)
    for col in ("relation", "n_users", "first_colisten_ms", "last_colisten_ms"):
        assert got[col].tolist() == want[col].tolist(), col
    assert int(got["last_colisten_ms"].max()) <= times[1]
    later = set(tiny.edges_as_of(times[-1]).pair_id) - set(want.index)
    assert later and not later & set(got.index)  # pairs born after the cut-off: absent
    released = pd.to_datetime(tiny.catalogue["release_date"], utc=True)
    due = tiny.catalogue[released <= pd.Timestamp(cutoff, unit="ms", tz="UTC")]
    assert sorted(inputs.content["item_id"]) == sorted(due["item_id"])  # old ones too
    data, _ = build_hetero_data(inputs.edges, inputs.content)
    max_time = max(
        int(data[et].edge_label_time.max())
        for et in data.edge_types
        if "edge_label_time" in data[et]
    )
    assert max_time <= cutoff


def test_run_hgnn_end_to_end(
    tiny: TinyWorld, store_setup: tuple[FeatureStoreConfig, list[int]], tmp_path: Path
) -> None:
    cfg, times = store_setup
    hcfg = HGNNConfig(max_epochs=2, hidden_dim=16, out_dim=16, num_negatives=2)
    version = run_hgnn(cfg, times[-1], tiny.catalogue, hcfg, tmp_path, progress=False)
    assert registry.latest_version("hgnn", tmp_path) == version
    ckpt = registry.load_latest("hgnn", tmp_path)
    assert ckpt.metadata["cutoff_ms"] == times[-1]
    assert ckpt.metadata["inference"]["mode"] in ("full", "sampled")
    assert ckpt.config["max_epochs"] == 2
    part = cfg.data_dir / "offline" / ITEM_HGNN_EMBEDDING / f"hgnn-{version}.parquet"
    rows = pd.read_parquet(part)
    assert sorted(rows["item_id"]) == sorted(tiny.catalogue["item_id"])
    assert (rows["hgnn_version"] == version).all()
    norms = np.linalg.norm(np.stack(rows["hgnn_embedding"].to_numpy()), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    ids = tiny.catalogue["item_id"].tolist()[:3]
    online = (
        open_store(cfg)
        .get_online_features(
            features=[
                f"{ITEM_HGNN_EMBEDDING}:hgnn_version",
                f"{ITEM_HGNN_EMBEDDING}:hgnn_cutoff_ms",
            ],
            entity_rows=[{"item_id": i} for i in ids],
        )
        .to_dict()
    )
    assert online["hgnn_version"] == [version] * 3
    assert online["hgnn_cutoff_ms"] == [times[-1]] * 3
