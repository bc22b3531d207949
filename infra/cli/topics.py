"""`colisten topics create`: the Kafka topics the pipeline needs."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli.common import console

app = typer.Typer(help="Kafka topics.", no_args_is_help=True)


@app.command("create")
def topics_create(
    partitions: Annotated[
        int | None, typer.Option(help="Partitions of keyed topics.")
    ] = None,
) -> None:
    """Create colisten's topics (interactions, the DLQ, internal ones) if missing."""
    from infra.topics import colisten_topics, ensure_topics

    for topic, n in sorted(ensure_topics(colisten_topics(partitions)).items()):
        console.print(f"{topic}: {n} partitions")
