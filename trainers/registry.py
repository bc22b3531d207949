"""Versioned model registry on disk: <root>/<kind>/<version>/, with an atomic `latest` file.

Layout::

    <root>/<kind>/<version>/model.pt       torch.save({"state_dict", "config", "metadata"})
    <root>/<kind>/<version>/manifest.json  the same config and metadata, human-readable
    <root>/<kind>/latest                   a small text file holding the latest version

A version is ``YYYYmmddTHHMMSSZ-<8 hex>`` (UTC creation time + a hash of the weights),
so versions sort by time. A version directory is written under a temporary name and
renamed into place; ``latest`` is written as ``latest.tmp`` and ``os.replace``d, so a
reader never sees a half-written model or pointer. A plain file rather than a symlink:
it works on every filesystem and is as atomic to replace. Checkpoints hold only tensors
and JSON-compatible values and are loaded with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from colisten.settings import models_dir

if TYPE_CHECKING:  # torch is imported where weights are saved or loaded
    import torch

MODEL_FILE = "model.pt"
MANIFEST_FILE = "manifest.json"
LATEST = "latest"


def default_models_dir() -> Path:
    """COLISTEN_MODELS_DIR, else models under the state dir (COLISTEN_HOME)."""
    return models_dir()


@dataclass(frozen=True)
class Checkpoint:
    """A loaded model version: weights, config and metadata."""

    kind: str
    version: str
    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any]
    metadata: dict[str, Any]


def weights_hash(state_dict: dict[str, torch.Tensor]) -> str:
    """Short sha256 of the weights (names and bytes), for version names."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        digest.update(name.encode())
        digest.update(state_dict[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:8]


def make_version(
    state_dict: dict[str, torch.Tensor], now: datetime | None = None
) -> str:
    """A new version name: UTC timestamp + weights hash."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{weights_hash(state_dict)}"


def save_checkpoint(
    kind: str,
    state_dict: dict[str, torch.Tensor],
    config: dict[str, Any],
    metadata: dict[str, Any],
    root: Path | None = None,
    version: str | None = None,
) -> str:
    """Write a new version atomically and point `latest` at it; returns the version."""
    base = (root or default_models_dir()) / kind
    base.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in state_dict.items()}
    version = version or make_version(state)
    final = base / version
    if final.exists():
        raise FileExistsError(f"model version {kind}/{version} already exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=base))
    try:
        import torch

        payload = {"state_dict": state, "config": config, "metadata": metadata}
        torch.save(payload, tmp / MODEL_FILE)
        manifest = {
            "kind": kind,
            "version": version,
            "config": config,
            "metadata": metadata,
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer = base / f"{LATEST}.tmp"
    pointer.write_text(version + "\n")
    os.replace(pointer, base / LATEST)
    return version


def list_versions(kind: str, root: Path | None = None) -> list[str]:
    """Complete versions of a kind, oldest first."""
    base = (root or default_models_dir()) / kind
    if not base.is_dir():
        return []
    return sorted(
        p.name
        for p in base.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MODEL_FILE).exists()
    )


def latest_version(kind: str, root: Path | None = None) -> str | None:
    """The version `latest` points at, or None."""
    pointer = (root or default_models_dir()) / kind / LATEST
    return pointer.read_text().strip() if pointer.exists() else None


def load_version(kind: str, version: str, root: Path | None = None) -> Checkpoint:
    """Load one version with weights_only=True (no arbitrary unpickling)."""
    import torch

    path = (root or default_models_dir()) / kind / version / MODEL_FILE
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return Checkpoint(
        kind, version, payload["state_dict"], payload["config"], payload["metadata"]
    )


def load_latest(kind: str, root: Path | None = None) -> Checkpoint:
    """Load the version `latest` points at."""
    version = latest_version(kind, root)
    if version is None:
        raise FileNotFoundError(
            f"no {kind} model registered under {root or default_models_dir()}"
        )
    return load_version(kind, version, root)


@dataclass(frozen=True)
class VersionInfo:
    """One registered version, as `colisten models list` shows it."""

    kind: str
    version: str
    latest: bool
    cutoff_ms: int | None
    parent: str | None
    """For a two-tower: the HGNN version whose embeddings it was trained on."""
    size_bytes: int


def describe(root: Path | None = None) -> list[VersionInfo]:
    """Every complete version of every kind under root, oldest first per kind."""
    base = root or default_models_dir()
    out: list[VersionInfo] = []
    kinds = (
        sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    )
    for kind in kinds:
        latest = latest_version(kind, base)
        for version in list_versions(kind, base):
            folder = base / kind / version
            meta: dict[str, Any] = {}
            if (folder / "manifest.json").exists():
                raw = json.loads((folder / "manifest.json").read_text())
                meta = raw.get("metadata", raw)
            cutoff = meta.get("cutoff_ms")
            out.append(
                VersionInfo(
                    kind,
                    version,
                    version == latest,
                    int(cutoff) if cutoff is not None else None,
                    meta.get("hgnn_version"),
                    sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()),
                )
            )
    return out
