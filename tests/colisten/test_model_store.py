"""The model store: atomic publish, the latest pointer, resolve, describe (no torch)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from colisten.model_store import ModelStore, version_name


def _writer(payload: str, **manifest: Any) -> Any:
    def write(folder: Path) -> dict[str, Any]:
        (folder / "weights.bin").write_text(payload)
        return dict(manifest)

    return write


def test_publish_renames_into_place_and_moves_latest(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    v1 = store.publish("k", "20260101T000000Z-a", _writer("one", cutoff_ms=5))
    assert v1 == tmp_path / "k" / "20260101T000000Z-a"
    assert store.latest("k") == "20260101T000000Z-a"
    assert store.manifest("k") == {
        "cutoff_ms": 5, "kind": "k", "version": "20260101T000000Z-a"
    }  # fmt: skip
    store.publish("k", "20260102T000000Z-b", _writer("two"), move_latest=False)
    assert store.latest("k") == "20260101T000000Z-a"
    assert store.versions("k") == ["20260101T000000Z-a", "20260102T000000Z-b"]
    store.set_latest("k", "20260102T000000Z-b")
    assert store.resolve("k") == tmp_path / "k" / "20260102T000000Z-b"
    assert store.resolve("k", "latest") == store.resolve("k")
    assert not (tmp_path / "k" / "latest.tmp").exists()


def test_a_failing_writer_leaves_nothing_and_versions_never_change(
    tmp_path: Path,
) -> None:
    store = ModelStore(tmp_path)
    store.publish("k", "v1", _writer("one"))

    def broken(folder: Path) -> dict[str, Any]:
        (folder / "half.bin").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.publish("k", "v2", broken)
    assert store.versions("k") == ["v1"] and store.latest("k") == "v1"
    assert {p.name for p in (tmp_path / "k").iterdir()} == {"v1", "latest"}
    with pytest.raises(FileExistsError):
        store.publish("k", "v1", _writer("other"))
    assert (tmp_path / "k" / "v1" / "weights.bin").read_text() == "one"


def test_missing_things_are_clear_errors(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    assert store.latest("k") is None and store.versions("k") == []
    with pytest.raises(FileNotFoundError, match="no k model published"):
        store.resolve("k")
    store.publish("k", "v1", _writer("one"))
    with pytest.raises(FileNotFoundError, match="k/v9"):
        store.resolve("k", "v9")
    with pytest.raises(FileNotFoundError, match="k/v9"):
        store.set_latest("k", "v9")


def test_describe_reads_cutoff_and_parent(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    store.publish("hgnn", "h1", _writer("h", metadata={"cutoff_ms": 7}))
    store.publish("two_tower", "t1", _writer("t", cutoff_ms=8, hgnn_version="h1"))
    got = {(r.kind, r.version): r for r in store.describe()}
    assert got["hgnn", "h1"].cutoff_ms == 7 and got["hgnn", "h1"].latest
    assert (
        got["two_tower", "t1"].parent == "h1" and got["two_tower", "t1"].size_bytes > 0
    )
    raw = json.loads((tmp_path / "two_tower" / "t1" / "manifest.json").read_text())
    assert raw["kind"] == "two_tower"


def test_version_names_sort_by_time_and_hash_the_weights() -> None:
    t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    a = version_name([("w", b"\x00"), ("b", b"\x01")], t0)
    assert a == version_name([("b", b"\x01"), ("w", b"\x00")], t0)  # order-free
    assert a != version_name([("w", b"\x02"), ("b", b"\x01")], t0)
    assert a < version_name([("w", b"\x00")], t1) and a.startswith("20260101T000000Z-")
