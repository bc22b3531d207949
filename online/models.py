"""The served model: an immutable ModelBundle, loaded from `latest`, hot-swapped atomically."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from colisten import names
from colisten.model_store import TWO_TOWER
from colisten.retrieval import TopKIndex, build_index, choose_kind, load_index
from online.config import ServeConfig
from online.fallback import Popularity, load_popularity
from online.features import FeatureClient, empty_row

log = logging.getLogger(__name__)

HGNN_FEATURES = (
    "item_hgnn_embedding:hgnn_embedding",
    "item_hgnn_embedding:hgnn_version",
)


class UserTower(Protocol):
    """The exported user tower: raw two_tower_user_v1 rows in, [n, dim] vectors out."""

    def encode(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """One user vector per row; all-None rows are cold-start users."""
        ...


class UserTowerLoader(Protocol):
    """What the encoder class offers: UserEncoder.load(model_dir)."""

    def load(self, model_dir: Path) -> UserTower:
        """Load the tower exported in model_dir."""
        ...


@dataclass(frozen=True)
class ItemInfo:
    """What a response says about an item besides its score."""

    title: str | None
    genre: str | None
    item_type: str | None


@dataclass(frozen=True)
class ModelBundle:
    """Everything one model version serves with; never mutated after loading."""

    version: str
    manifest: Mapping[str, Any]
    tower: UserTower
    indexes: Mapping[str, TopKIndex]
    """Two-tower item vectors per item type."""
    similar: Mapping[str, TopKIndex]
    """HGNN item embeddings per item type (empty when the store had none)."""
    item_types: Mapping[str, str]
    catalogue: Mapping[str, ItemInfo]
    popularity: Popularity
    catalogue_key: tuple[str, float] | None = None
    hgnn_key: tuple[str, ...] = ()
    loaded_at: float = field(default_factory=time.time)

    def info(self, item_id: str) -> ItemInfo:
        """Title, genre and type of an item (None fields when unknown)."""
        return self.catalogue.get(item_id) or ItemInfo(
            None, None, self.item_types.get(item_id)
        )


def latest_version(cfg: ServeConfig) -> str | None:
    """The version the two-tower `latest` pointer names, or None."""
    return cfg.model_store.latest(TWO_TOWER)


def load_tower_class(spec: str) -> UserTowerLoader:
    """Import 'module:Class' (configuration, never request input)."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def _read_catalogue(
    path: Path | None,
) -> tuple[dict[str, ItemInfo], tuple[str, float] | None]:
    if path is None or not path.exists():
        return {}, None
    import pandas as pd

    frame = pd.read_parquet(
        path, columns=[names.ITEM_ID, names.ITEM_TYPE, "title", "genre"]
    )
    info = {
        i: ItemInfo(t, g, ty)
        for i, ty, t, g in zip(
            frame[names.ITEM_ID],
            frame[names.ITEM_TYPE],
            frame["title"],
            frame["genre"],
            strict=True,
        )
    }
    return info, (str(path), path.stat().st_mtime)


def _publish_dir(tmp: Path, final: Path) -> Path:
    """Rename a freshly built index into place; keep the other one if a peer won."""
    try:
        os.rename(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _fingerprint(vectors: np.ndarray, ids: Sequence[str], cfg: ServeConfig) -> str:
    """Hash of what an index is built from (ids, vectors, build settings)."""
    digest = hashlib.sha256("\n".join(ids).encode())
    digest.update(np.ascontiguousarray(vectors, np.float32).tobytes())
    digest.update(
        f"{cfg.exact_threshold}/{cfg.annoy_trees}/{cfg.annoy_search_k}".encode()
    )
    return digest.hexdigest()[:12]


def _ensure_index(
    vectors: np.ndarray, ids: Sequence[str], where: Path, cfg: ServeConfig, version: str
) -> TopKIndex:
    """Load the index built from exactly these inputs, building it first if absent.

    Built indexes live at <where>-<fingerprint>, so a cache never serves an index of other
    vectors (a reused version name, a different index_dir user); concurrent API workers
    race harmlessly (the first rename wins, the others discard their copy).
    """
    final = where.with_name(f"{where.name}-{_fingerprint(vectors, ids, cfg)}")
    if not (final / "manifest.json").exists():
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        kind = choose_kind(len(ids), cfg.exact_threshold)
        build_index(
            vectors,
            ids,
            tmp,
            kind,
            n_trees=cfg.annoy_trees,
            search_k=cfg.annoy_search_k or None,
            model_version=version,
        )
        _publish_dir(tmp, final)
    return load_index(final, search_k=cfg.annoy_search_k or None)


def _item_index(
    cfg: ServeConfig, vdir: Path, version: str, item_type: str
) -> TopKIndex:
    shipped = vdir / f"index_{item_type}"
    if (shipped / "manifest.json").exists():
        return load_index(shipped, search_k=cfg.annoy_search_k or None)
    vectors = np.load(vdir / f"items_{item_type}.npy", mmap_mode="r")
    ids = json.loads((vdir / f"items_{item_type}_ids.json").read_text())
    cache = cfg.index_dir / TWO_TOWER / version / f"index_{item_type}"
    return _ensure_index(vectors, ids, cache, cfg, version)


def _similar_indexes(
    cfg: ServeConfig,
    features: FeatureClient,
    version: str,
    ids_by_type: Mapping[str, Sequence[str]],
    previous: ModelBundle | None,
) -> tuple[dict[str, TopKIndex], tuple[str, ...]]:
    every = [i for ids in ids_by_type.values() for i in ids]
    try:
        got = features.read_items(HGNN_FEATURES, every)
    except Exception as exc:
        log.warning("HGNN embeddings unavailable (%s); /similar disabled", exc)
        return {}, ()
    emb = dict(zip(got["item_id"], got["hgnn_embedding"], strict=True))
    key = tuple(sorted({v for v in got["hgnn_version"] if v})) + (str(len(every)),)
    if previous is not None and previous.hgnn_key == key and previous.similar:
        return dict(previous.similar), key
    out: dict[str, TopKIndex] = {}
    for item_type, ids in ids_by_type.items():
        have = [i for i in ids if emb.get(i) is not None]
        if not have:
            continue
        mat = np.asarray([emb[i] for i in have], dtype=np.float32)
        final = cfg.index_dir / TWO_TOWER / version / f"similar_{item_type}"
        out[item_type] = _ensure_index(mat, have, final, cfg, version)
    return out, key


def load_bundle(
    cfg: ServeConfig,
    version: str,
    features: FeatureClient,
    previous: ModelBundle | None = None,
) -> ModelBundle:
    """Load one two-tower version with its indexes, HGNN neighbours and popularity; warm it."""
    vdir = cfg.model_store.resolve(TWO_TOWER, version)
    manifest = json.loads((vdir / "manifest.json").read_text())
    tower = load_tower_class(cfg.encoder).load(vdir)
    indexes = {
        t: _item_index(cfg, vdir, version, t)
        for t in names.ITEM_TYPES
        if (vdir / f"items_{t}_ids.json").exists() or (vdir / f"index_{t}").exists()
    }
    if not indexes:
        raise FileNotFoundError(f"{vdir}: no item vectors (items_<type>.npy)")
    ids_by_type = {t: list(ix.ids) for t, ix in indexes.items()}
    item_types = {i: t for t, ids in ids_by_type.items() for i in ids}
    stat_key = None
    if cfg.catalogue is not None and cfg.catalogue.exists():
        stat_key = (str(cfg.catalogue), cfg.catalogue.stat().st_mtime)
    if (
        previous is not None
        and stat_key is not None
        and previous.catalogue_key == stat_key
    ):
        catalogue: Mapping[str, ItemInfo] = previous.catalogue
    else:
        catalogue, stat_key = _read_catalogue(cfg.catalogue)
    similar, hgnn_key = _similar_indexes(cfg, features, version, ids_by_type, previous)
    popularity = load_popularity(ids_by_type, features.read_popularity)
    bundle = ModelBundle(
        version,
        manifest,
        tower,
        indexes,
        similar,
        item_types,
        catalogue,
        popularity,
        stat_key,
        hgnn_key,
    )
    warm(bundle)
    return bundle


def warm(bundle: ModelBundle) -> None:
    """Run one cold-start encode and one query per index, so page faults happen now."""
    vec = np.asarray(bundle.tower.encode([empty_row("__warmup__")]), np.float32)[0]
    for index in bundle.indexes.values():
        index.search(vec, 10)
    for index in bundle.similar.values():
        if index.count:
            index.search(index.vector(index.ids[0]), 10)


class ModelHolder:
    """The current bundle; swapping is one reference assignment, so readers never block."""

    def __init__(self) -> None:
        self._bundle: ModelBundle | None = None
        self.last_error: str | None = None
        self.swaps = 0

    @property
    def current(self) -> ModelBundle | None:
        """The bundle new requests use (keep the reference for the whole request)."""
        return self._bundle

    def swap(self, bundle: ModelBundle) -> None:
        """Make bundle current; requests holding the old one finish on it."""
        self._bundle = bundle
        self.swaps += 1


class BundleWatcher(threading.Thread):
    """Polls `latest`; loads, warms and swaps in each new version in the background."""

    def __init__(
        self,
        cfg: ServeConfig,
        holder: ModelHolder,
        features: FeatureClient,
        on_swap: Callable[[ModelBundle], None] = lambda b: None,
    ) -> None:
        super().__init__(name="bundle-watcher", daemon=True)
        self.cfg, self.holder, self.features, self.on_swap = (
            cfg,
            holder,
            features,
            on_swap,
        )
        self._stop = threading.Event()
        self._failed: str | None = None

    def poll_once(self) -> bool:
        """Load and swap in `latest` if it is new; True when a swap happened."""
        version = latest_version(self.cfg)
        current = self.holder.current
        if version is None or version == self._failed:
            return False
        if current is not None and current.version == version:
            return False
        try:
            bundle = load_bundle(self.cfg, version, self.features, current)
        except Exception as exc:  # keep serving the old bundle
            self._failed = version
            self.holder.last_error = f"loading {version}: {type(exc).__name__}: {exc}"
            log.exception("could not load model %s; keeping the current one", version)
            return False
        self.holder.swap(bundle)
        self.holder.last_error = None
        self.on_swap(bundle)
        log.info("serving model %s", bundle.version)
        return True

    def run(self) -> None:
        """Poll until stopped."""
        while not self._stop.wait(self.cfg.reload_interval_s):
            self.poll_once()

    def stop(self) -> None:
        """Ask the thread to end after its current poll."""
        self._stop.set()
