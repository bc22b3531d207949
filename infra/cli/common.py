"""What every command module shares: the console and the error exit."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def fail(message: str) -> typer.Exit:
    """Print message as an error; the typer.Exit(1) to raise (no traceback)."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def world_dir(path: Path) -> Path:
    """path itself when it holds a world (world.json); else fail."""
    from colisten.world.format import MANIFEST_FILE

    if not (path / MANIFEST_FILE).is_file():
        raise fail(f"{path} is not a world directory (no world.json)")
    return path
