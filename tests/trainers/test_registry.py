"""The model registry: atomic versions, the latest pointer, weights_only round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from colisten.model_store import ModelStore
from trainers import registry
from trainers.hgnn.model import HGNN, HGNNArch, load_model

ARCH = HGNNArch(
    node_types=("audiobook", "podcast"),
    edge_types=(("audiobook", "ap", "podcast"), ("podcast", "pa", "audiobook")),
    in_dim=4,
    hidden_dim=8,
    out_dim=6,
)


def _inputs() -> tuple[dict[str, torch.Tensor], dict]:
    x = {"audiobook": torch.randn(3, 4), "podcast": torch.randn(5, 4)}
    ei = torch.tensor([[0, 1, 2], [4, 0, 0]])
    return x, {ARCH.edge_types[0]: ei, ARCH.edge_types[1]: ei.flip(0)}


def test_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = HGNN(ARCH).eval()
    meta = {"cutoff_ms": 123, "metrics": {"val_loss": 0.5}, "arch": ARCH.to_json()}
    version = registry.save_checkpoint(
        "hgnn", model.state_dict(), {"lr": 1e-3}, meta, tmp_path
    )
    assert registry.list_versions("hgnn", tmp_path) == [version]
    assert (tmp_path / "hgnn" / "latest").read_text().strip() == version
    ckpt = registry.load_latest("hgnn", tmp_path)  # torch.load(weights_only=True)
    assert ckpt.metadata["cutoff_ms"] == 123 and ckpt.config == {"lr": 1e-3}
    loaded = load_model(ckpt.metadata["arch"], ckpt.state_dict)
    x, edges = _inputs()
    with torch.no_grad():
        for nt, z in model(x, edges).items():
            assert torch.equal(loaded(x, edges)[nt], z)


def test_latest_moves_and_versions_are_immutable(tmp_path: Path) -> None:
    sd = {"w": torch.zeros(2)}
    v1 = registry.save_checkpoint(
        "k", sd, {}, {}, tmp_path, version="20260101T000000Z-a"
    )
    v2 = registry.save_checkpoint(
        "k", sd, {}, {}, tmp_path, version="20260102T000000Z-b"
    )
    assert registry.list_versions("k", tmp_path) == [v1, v2]
    assert registry.latest_version("k", tmp_path) == v2
    assert not (tmp_path / "k" / "latest.tmp").exists()
    with pytest.raises(FileExistsError):
        registry.save_checkpoint("k", sd, {}, {}, tmp_path, version=v1)
    assert registry.latest_version("k", tmp_path) == v2
    with pytest.raises(FileNotFoundError):
        registry.load_latest("nothing", tmp_path)


def test_describe_lists_every_kind_marks_latest_and_reads_cutoffs(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from infra.cli import app

    sd = {"w": torch.zeros(2)}
    h1 = registry.save_checkpoint(
        "hgnn",
        sd,
        {},
        {"cutoff_ms": 1_767_225_600_000},
        tmp_path,
        version="20260101T000000Z-a",
    )
    h2 = registry.save_checkpoint(
        "hgnn", sd, {}, {}, tmp_path, version="20260102T000000Z-b"
    )
    got = ModelStore(tmp_path).describe()
    assert [(r.kind, r.version, r.latest) for r in got] == [
        ("hgnn", h1, False),
        ("hgnn", h2, True),
    ]
    assert got[0].cutoff_ms == 1_767_225_600_000 and got[0].size_bytes > 0
    out = CliRunner().invoke(app, ["models", "list", "--root", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert h1 in out.output and "2026-01-01 00:00" in out.output
