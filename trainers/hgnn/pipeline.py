"""run_hgnn: store -> graph as of a cut-off -> train -> embed every item -> store + registry."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from colisten import names
from trainers import registry
from trainers.graph import build_hetero_data, load_graph_inputs, load_item_content
from trainers.hgnn.config import HGNNConfig
from trainers.hgnn.infer import embed, embeddings_frame
from trainers.hgnn.train import TrainResult, train_hgnn

if TYPE_CHECKING:
    from feature_repo.config import FeatureStoreConfig

KIND = "hgnn"
log = logging.getLogger(__name__)


def hgnn_rows(emb: pd.DataFrame, version: str, cutoff_ms: int) -> pd.DataFrame:
    """item_hgnn_embedding rows, stamped with the cut-off and the model version."""
    return pd.DataFrame(
        {
            names.ITEM_ID: emb[names.ITEM_ID],
            names.ITEM_TYPE: emb[names.ITEM_TYPE],
            "hgnn_embedding": [np.asarray(v, np.float32) for v in emb["embedding"]],
            "hgnn_version": version,
            "hgnn_cutoff_ms": int(cutoff_ms),
            names.EVENT_TIMESTAMP: pd.Timestamp(cutoff_ms, unit="ms", tz="UTC"),
        }
    )


def checkpoint_metadata(result: TrainResult, cutoff_ms: int) -> dict[str, Any]:
    """JSON-compatible metadata: cut-off, metrics, graph stats, architecture, inference.

    best_val_by_relation: the kept epoch's validation loss and AUC per relation;
    inference: the mode items were embedded with and the validation AUCs that chose it.
    """
    best = next((h for h in result.history if h["epoch"] == result.best_epoch), {})
    return {
        "cutoff_ms": int(cutoff_ms),
        "arch": result.arch.to_json(),
        "best_epoch": result.best_epoch,
        "best_val_loss": result.best_val_loss,
        "best_val_by_relation": best.get("val_by_relation", {}),
        "epochs_run": len(result.history),
        "history": result.history,
        "graph": result.stats,
        "inference": result.inference.to_json() if result.inference else None,
    }


def run_hgnn(
    store_cfg: FeatureStoreConfig,
    cutoff_ms: int,
    catalogue_df: pd.DataFrame,
    cfg: HGNNConfig,
    models_dir: Path | None = None,
    progress: bool = True,
) -> str:
    """Train on the store as of cutoff_ms, write embeddings of every catalogue item, register.

    Training sees only rows stamped at or before the cut-off. Inference is inductive:
    items released after the cut-off (or with no edges) are embedded from their latest
    text embedding through the trained weights; the graph stays the cut-off's.
    """
    from feature_repo.batch_views import ARROW_SCHEMAS, ITEM_HGNN_EMBEDDING
    from feature_repo.offline import write_offline_part
    from feature_repo.store import open_store

    store = open_store(store_cfg)
    inputs = load_graph_inputs(store, cutoff_ms)
    data, _ = build_hetero_data(
        inputs.edges, inputs.content, cfg.min_count, cfg.relations
    )
    result = train_hgnn(data, cfg, progress=progress)

    newest = int(
        pd.to_datetime(catalogue_df["release_date"], utc=True).max().value // 10**6
    )
    ids = catalogue_df[names.ITEM_ID].tolist()
    content = load_item_content(store, ids, max(cutoff_ms, newest))
    missing = sorted(set(ids) - set(content[names.ITEM_ID]))
    if missing:
        raise LookupError(
            f"{len(missing)} catalogue items have no item_content "
            f"(run `colisten train content`), e.g. {missing[:3]}"
        )
    full, maps = build_hetero_data(inputs.edges, content, cfg.min_count, cfg.relations)
    mode = result.inference.mode if result.inference else "full"
    emb = embeddings_frame(embed(result.model, full, cfg, mode), maps)

    state = result.model.state_dict()
    version = registry.make_version(state)
    rows = hgnn_rows(emb, version, cutoff_ms)
    schema = ARROW_SCHEMAS[ITEM_HGNN_EMBEDDING]
    write_offline_part(
        ITEM_HGNN_EMBEDDING, rows, schema, f"hgnn-{version}", store_cfg.data_dir
    )
    store.write_to_online_store(ITEM_HGNN_EMBEDDING, rows)
    meta = checkpoint_metadata(result, cutoff_ms) | {"items_embedded": len(rows)}
    registry.save_checkpoint(KIND, state, cfg.to_json(), meta, models_dir, version)
    log.info("hgnn %s: %d items embedded (%s inference)", version, len(rows), mode)
    return version
