"""`colisten train content|hgnn|two-tower`: the trainers, each as of a cut-off."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infra.cli.common import console, fail

Cutoff = Annotated[
    str, typer.Option(help="Training cut-off: ISO time, ms, or 'split'.")
]
"""The --cutoff every trainer takes (colisten.world.format.event_time parses it)."""

app = typer.Typer(
    help="Trainers: item content embeddings, the HGNN, the two-tower.",
    no_args_is_help=True,
)


@app.command("content")
def train_content(
    world: Annotated[Path, typer.Option(help="World directory (its catalogue).")],
    model: Annotated[
        str | None,
        typer.Option(help="Sentence model (default: COLISTEN_TEXT_MODEL or MiniLM)."),
    ] = None,
) -> None:
    """Embed every catalogue item's title + description into item_content (cached)."""
    from colisten.world.format import read_catalogue
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import apply_definitions, open_store
    from trainers.content import default_cache_dir, embed_items, write_item_content

    cfg = FeatureStoreConfig.from_env()
    apply_definitions(open_store(cfg), cfg)
    catalogue = read_catalogue(world)
    frame = embed_items(catalogue, model, default_cache_dir())
    write_item_content(frame, cfg)
    console.print(
        f"item_content: {len(frame)} items ({frame.attrs['n_new']} newly embedded, "
        f"{frame.attrs['items_per_s']:,.1f} items/s) with {frame['text_model'].iloc[0]}"
    )


@app.command("hgnn")
def train_hgnn_cmd(
    world: Annotated[
        Path, typer.Option(help="World directory (its catalogue, its split).")
    ],
    cutoff: Cutoff,
    ablation: Annotated[
        str, typer.Option(help="none|no_balanced|no_pp|no_aa|aa_only|pp_only")
    ] = "none",
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 50,
    device: Annotated[str, typer.Option(help="cpu|cuda|auto")] = "cpu",
) -> None:
    """Train the HGNN as of a cut-off; write item_hgnn_embedding; register the model."""
    from colisten.world.format import event_time, read_catalogue
    from feature_repo.config import FeatureStoreConfig
    from trainers.hgnn.config import ABLATIONS, HGNNConfig
    from trainers.hgnn.pipeline import run_hgnn

    if ablation not in ABLATIONS:
        raise fail(f"unknown ablation {ablation!r}; one of {', '.join(ABLATIONS)}")
    cfg = HGNNConfig(ablation=ablation, max_epochs=epochs, device=device)  # type: ignore[arg-type]
    version = run_hgnn(
        FeatureStoreConfig.from_env(),
        event_time(cutoff, world),
        read_catalogue(world),
        cfg,
    )
    console.print(f"hgnn model {version} registered; item_hgnn_embedding written")


@app.command("two-tower")
def train_two_tower_cmd(
    world: Annotated[
        Path, typer.Option(help="World directory (its labels, its split).")
    ],
    cutoff: Cutoff,
    no_hgnn: Annotated[
        bool, typer.Option("--no-hgnn", help="Plain 2T: no HGNN inputs.")
    ] = False,
    no_weak_signals: Annotated[
        bool,
        typer.Option("--no-weak-signals", help="Streams only, no weak-signal counts."),
    ] = False,
    epochs: Annotated[int, typer.Option(help="Epochs.")] = 10,
    item_type: Annotated[
        str, typer.Option(help="audiobook|podcast labels.")
    ] = "audiobook",
    hgnn_version: Annotated[
        str | None, typer.Option(help="HGNN version (default: the registry's latest).")
    ] = None,
) -> None:
    """Train the two-tower model on point-in-time features; export; point `latest` at it."""
    from colisten.world.format import event_time, read_events
    from feature_repo.config import FeatureStoreConfig
    from trainers import registry
    from trainers.two_tower.config import TwoTowerConfig
    from trainers.two_tower.pipeline import run_two_tower

    cutoff_ms = event_time(cutoff, world)
    cfg = TwoTowerConfig(
        use_hgnn=not no_hgnn,
        use_weak_signals=not no_weak_signals,
        epochs=epochs,
        target_type=item_type,
    )
    version = None if no_hgnn else hgnn_version or registry.latest_version("hgnn")
    if cfg.use_hgnn and version is None:
        raise fail(
            "no HGNN model registered: run `colisten train hgnn` or pass --no-hgnn"
        )
    run = run_two_tower(
        FeatureStoreConfig.from_env(),
        read_events(world, until_ms=cutoff_ms),
        cutoff_ms,
        cfg,
        version,
    )
    last = run.result.history[-1]
    console.print(
        f"two-tower exported to {run.model_dir} (final loss {last['loss']:.3f})"
    )
