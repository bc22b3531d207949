"""The model store: versioned artifact folders per kind with an atomic `latest` pointer.

One door for every model artifact (torch-free, so the API and the CLI import it cheaply)::

    <root>/<kind>/<version>/...            the files a trainer wrote, plus manifest.json
    <root>/<kind>/latest                   a small text file naming the latest version

`publish` hands the writer a private temporary folder next to the final one, renames it
into place when the writer returns, and only then replaces `latest` (written as
`latest.tmp` and `os.replace`d), so a reader never sees a half-written version or
pointer. A plain file rather than a symlink: it works on every filesystem and is as
atomic to replace. Versions are `YYYYmmddTHHMMSSZ-<8 hex>` (UTC creation time + a hash
of the weights, see `version_name`), so they sort by time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from colisten.settings import models_dir

MANIFEST_FILE = "manifest.json"
LATEST = "latest"
HGNN = "hgnn"
TWO_TOWER = "two_tower"


def version_name(
    chunks: Iterable[tuple[str, bytes]], now: datetime | None = None
) -> str:
    """A new version name: UTC time + sha256 prefix of the (name, bytes) weight chunks."""
    digest = hashlib.sha256()
    for name, data in sorted(chunks, key=lambda c: c[0]):
        digest.update(name.encode())
        digest.update(data)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{digest.hexdigest()[:8]}"


@dataclass(frozen=True)
class VersionInfo:
    """One published version, as `colisten models list` shows it."""

    kind: str
    version: str
    latest: bool
    cutoff_ms: int | None
    parent: str | None
    """For a two-tower: the HGNN version whose embeddings it was trained on."""
    size_bytes: int


@dataclass(frozen=True)
class ModelStore:
    """Published model versions under one root (default COLISTEN_MODELS_DIR)."""

    root: Path

    @classmethod
    def default(cls) -> ModelStore:
        """The store under COLISTEN_MODELS_DIR, else <COLISTEN_HOME>/models."""
        return cls(models_dir())

    def kind_dir(self, kind: str) -> Path:
        """The folder holding every version of a kind and its `latest` pointer."""
        return self.root / kind

    def path(self, kind: str, version: str) -> Path:
        """The folder of one version (it may not exist)."""
        return self.root / kind / version

    def publish(
        self,
        kind: str,
        version: str,
        write: Callable[[Path], dict[str, Any]],
        move_latest: bool = True,
    ) -> Path:
        """Run write(tmp) into a private folder, add its manifest, rename it into place.

        write returns the manifest (kind and version are added); `latest` then points at
        the new version unless move_latest is False. An existing version is never
        overwritten (FileExistsError); a failing writer leaves nothing behind.
        """
        base = self.kind_dir(kind)
        base.mkdir(parents=True, exist_ok=True)
        final = base / version
        if final.exists():
            raise FileExistsError(f"model version {kind}/{version} already exists")
        tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=base))
        try:
            manifest = {**write(tmp), "kind": kind, "version": version}
            text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
            (tmp / MANIFEST_FILE).write_text(text)
            os.chmod(tmp, 0o755)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if move_latest:
            self.set_latest(kind, version)
        return final

    def set_latest(self, kind: str, version: str) -> None:
        """Point `latest` at an existing version, atomically (also a rollback)."""
        if not (self.path(kind, version) / MANIFEST_FILE).exists():
            raise FileNotFoundError(f"no published version {kind}/{version}")
        pointer = self.kind_dir(kind) / f"{LATEST}.tmp"
        pointer.write_text(version + "\n")
        os.replace(pointer, self.kind_dir(kind) / LATEST)

    def versions(self, kind: str) -> list[str]:
        """Complete versions of a kind, oldest first."""
        base = self.kind_dir(kind)
        if not base.is_dir():
            return []
        return sorted(
            p.name
            for p in base.iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and (p / MANIFEST_FILE).exists()
        )

    def latest(self, kind: str) -> str | None:
        """The version `latest` names, or None."""
        try:
            return (self.kind_dir(kind) / LATEST).read_text().strip() or None
        except FileNotFoundError:
            return None

    def resolve(self, kind: str, version: str | None = None) -> Path:
        """The folder of a version (None or "latest": the latest); FileNotFoundError if absent."""
        name = self.latest(kind) if version in (None, LATEST) else version
        if name is None:
            raise FileNotFoundError(f"no {kind} model published under {self.root}")
        folder = self.path(kind, name)
        if not (folder / MANIFEST_FILE).exists():
            raise FileNotFoundError(
                f"no published version {kind}/{name} under {self.root}"
            )
        return folder

    def manifest(self, kind: str, version: str | None = None) -> dict[str, Any]:
        """A version's manifest.json (None: the latest)."""
        return json.loads((self.resolve(kind, version) / MANIFEST_FILE).read_text())  # type: ignore[no-any-return]

    def describe(self) -> list[VersionInfo]:
        """Every complete version of every kind, oldest first per kind."""
        kinds = (
            sorted(p.name for p in self.root.iterdir() if p.is_dir())
            if self.root.is_dir()
            else []
        )
        out: list[VersionInfo] = []
        for kind in kinds:
            latest = self.latest(kind)
            for version in self.versions(kind):
                folder = self.path(kind, version)
                raw = json.loads((folder / MANIFEST_FILE).read_text())
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
