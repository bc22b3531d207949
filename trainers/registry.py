"""Torch checkpoints in the model store: <root>/<kind>/<version>/model.pt plus manifest.json.

The store itself (atomic versions, the `latest` pointer, listing) is
`colisten.model_store`; this module adds what needs torch: version names from the
weights, and ``model.pt`` holding ``{"state_dict", "config", "metadata"}``, loaded with
``torch.load(..., weights_only=True)`` (tensors and JSON-compatible values only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from colisten.model_store import ModelStore, version_name

if TYPE_CHECKING:  # torch is imported where weights are saved or loaded
    import torch

MODEL_FILE = "model.pt"


@dataclass(frozen=True)
class Checkpoint:
    """A loaded model version: weights, config and metadata."""

    kind: str
    version: str
    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any]
    metadata: dict[str, Any]


def _store(root: Path | None) -> ModelStore:
    return ModelStore(root) if root is not None else ModelStore.default()


def make_version(
    state_dict: dict[str, torch.Tensor], now: datetime | None = None
) -> str:
    """A new version name: UTC timestamp + a hash of the weights (names and bytes)."""
    chunks = (
        (name, t.detach().cpu().contiguous().numpy().tobytes())
        for name, t in state_dict.items()
    )
    return version_name(chunks, now)


def write_model_file(
    folder: Path,
    state_dict: dict[str, torch.Tensor],
    config: dict[str, Any],
    metadata: dict[str, Any],
) -> None:
    """folder/model.pt with CPU copies of the weights, the config and the metadata."""
    import torch

    state = {k: v.detach().cpu() for k, v in state_dict.items()}
    payload = {"state_dict": state, "config": config, "metadata": metadata}
    torch.save(payload, folder / MODEL_FILE)


def save_checkpoint(
    kind: str,
    state_dict: dict[str, torch.Tensor],
    config: dict[str, Any],
    metadata: dict[str, Any],
    root: Path | None = None,
    version: str | None = None,
) -> str:
    """Publish a new version holding model.pt and point `latest` at it; return it."""
    version = version or make_version(state_dict)

    def write(folder: Path) -> dict[str, Any]:
        write_model_file(folder, state_dict, config, metadata)
        return {"config": config, "metadata": metadata}

    _store(root).publish(kind, version, write)
    return version


def latest_version(kind: str, root: Path | None = None) -> str | None:
    """The version `latest` points at, or None."""
    return _store(root).latest(kind)


def list_versions(kind: str, root: Path | None = None) -> list[str]:
    """Complete versions of a kind, oldest first."""
    return _store(root).versions(kind)


def load_version(kind: str, version: str, root: Path | None = None) -> Checkpoint:
    """Load one version with weights_only=True (no arbitrary unpickling)."""
    import torch

    path = _store(root).resolve(kind, version) / MODEL_FILE
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return Checkpoint(
        kind, version, payload["state_dict"], payload["config"], payload["metadata"]
    )


def load_latest(kind: str, root: Path | None = None) -> Checkpoint:
    """Load the version `latest` points at."""
    store = _store(root)
    version = store.latest(kind)
    if version is None:
        raise FileNotFoundError(f"no {kind} model registered under {store.root}")
    return load_version(kind, version, root)
