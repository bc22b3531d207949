"""`colisten services up|down|status`: the local Kafka broker and Redis."""

from __future__ import annotations

import typer
from rich.table import Table

from infra.cli.common import console, fail

app = typer.Typer(help="Local Kafka broker and Redis.", no_args_is_help=True)


def _services_call(action: str) -> None:
    from colisten.settings import ConfigError
    from infra import services
    from infra.service_config import ServicesConfig

    try:
        cfg = ServicesConfig.from_env()
        if action == "up":
            statuses = services.all_up(cfg)
        elif action == "down":
            services.all_down(cfg)
            statuses = services.all_status(cfg)
        else:
            statuses = services.all_status(cfg)
    except (ConfigError, services.ServiceError) as exc:
        raise fail(str(exc)) from exc
    table = Table("service", "state", "pid", "address", "log")
    for st in statuses:
        state = "[green]running[/]" if st.running else "[yellow]stopped[/]"
        table.add_row(st.name, state, str(st.pid or "-"), st.address, str(st.log))
    console.print(table)


@app.command("up")
def services_up() -> None:
    """Start Kafka (KRaft) and Redis on loopback; idempotent."""
    _services_call("up")


@app.command("down")
def services_down() -> None:
    """Stop the Kafka broker and Redis started by `up`."""
    _services_call("down")


@app.command("status")
def services_status() -> None:
    """Show whether Kafka and Redis run."""
    _services_call("status")
