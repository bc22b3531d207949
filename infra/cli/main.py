"""The root `colisten` command: every group and command, checked environment first."""

from __future__ import annotations

import typer

from infra.cli import (
    evaluate,
    models,
    run,
    serve,
    services,
    store,
    stream,
    topics,
    train,
    world,
)
from infra.cli.common import fail

app = typer.Typer(
    help="colisten: a streaming audiobook recommender (2T-HGNN).", no_args_is_help=True
)


@app.callback()
def _check_environment() -> None:
    """Every command: reject unknown COLISTEN_* variables before doing anything."""
    from colisten.settings import ConfigError, check_environment

    try:
        check_environment()
    except ConfigError as exc:
        raise fail(str(exc)) from exc


# The order `colisten --help` lists them in (typer puts commands before groups).
app.command("replay")(world.replay_cmd)
app.command("demo")(run.demo)
app.command("run")(run.run_cmd)
app.command("serve")(serve.serve)
app.command("evaluate")(evaluate.evaluate_cmd)

app.add_typer(services.app, name="services")
app.add_typer(topics.app, name="topics")
app.add_typer(store.app, name="store")
app.add_typer(stream.app, name="stream")
app.add_typer(world.app, name="world")
app.add_typer(train.app, name="train")
app.add_typer(models.app, name="models")
