"""`colisten run`: stream worker + API + a retraining scheduler, on a wall or simulated clock.

With `--simulate`, the world's events are replayed through Kafka day by day on a
simulated clock (e.g. one day per minute) and retraining follows that clock; without it,
the clock is the wall clock and events come from clients. Each due job runs as its own
`colisten train …` process with the clock's current time as its cut-off: it reads
point-in-time features up to then and registers a new version only if it succeeds, so a
failed run leaves the served model untouched; the API's watcher hot-swaps new versions.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from colisten.timeunits import DAY_MS
from infra.loop.schedule import Cadence, Schedule
from infra.processes import ManagedProcess, cli_command

console = Console()


@dataclass(frozen=True)
class RunOptions:
    """What `colisten run` does; every field is a CLI option."""

    world: Path
    simulate: bool = False
    days_per_minute: float = 1.0
    start: str = "split"
    """Simulated start: 'split' or an ISO time; events before it are replayed at once."""
    max_days: float | None = None
    """Stop after this many clock days (None: until Ctrl-C)."""
    hgnn_days: float = 7.0
    two_tower_days: float = 1.0
    hgnn_epochs: int = 10
    tt_epochs: int = 5
    port: int = 8000
    tick_s: float = 2.0
    log_dir: Path = Path("var/run")


def job_command(job: str, world: Path, cutoff_ms: int, opts: RunOptions) -> list[str]:
    """The `colisten train …` command line of one job."""
    base = cli_command("train")
    if job == "content":
        return [*base, "content", "--world", str(world)]
    if job == "hgnn":
        return [
            *base, "hgnn", "--world", str(world), "--cutoff", str(cutoff_ms),
            "--epochs", str(opts.hgnn_epochs),
        ]  # fmt: skip
    if job == "two_tower":
        return [
            *base, "two-tower", "--world", str(world), "--cutoff", str(cutoff_ms),
            "--epochs", str(opts.tt_epochs),
        ]  # fmt: skip
    raise ValueError(f"unknown job {job!r}")


def run_job(args: list[str], log: Path, timeout_s: float = 3600.0) -> bool:
    """Run one training process to completion; True on success, False (logged) otherwise."""
    proc = ManagedProcess(args, log)
    deadline = time.monotonic() + timeout_s
    try:
        while proc.alive() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:  # also on Ctrl-C/SIGTERM: no training process outlives the scheduler
        code = proc.stop()
    if code == 0:
        return True
    console.print(
        f"[bold red]training failed[/] (exit {code}): {' '.join(args[3:])}\n"
        f"the served model is unchanged; retrying on the next tick. log: {log}\n"
        f"{proc.tail(15)}"
    )
    return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def schedule_for(opts: RunOptions) -> Schedule:
    """Content and HGNN on the HGNN cadence, then the two-tower on its own."""
    hgnn_ms = int(opts.hgnn_days * DAY_MS)
    return Schedule(
        (
            Cadence("content", hgnn_ms),
            Cadence("hgnn", hgnn_ms),
            Cadence("two_tower", int(opts.two_tower_days * DAY_MS)),
        )
    )


def run_continuous(opts: RunOptions) -> int:
    """Run until Ctrl-C (or max_days of clock time); 0 if every process stayed healthy."""
    from colisten.settings import kafka_bootstrap
    from colisten.world.format import WorldManifest, event_time
    from colisten.world.replay import replay
    from stream_processors.config import StreamConfig

    signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly as on Ctrl-C
    manifest = WorldManifest.read(opts.world)
    topic = StreamConfig.from_env().interactions_topic
    opts.log_dir.mkdir(parents=True, exist_ok=True)
    procs = [
        ManagedProcess.python_module("stream_processors", opts.log_dir / "worker.log"),
        ManagedProcess(
            cli_command("serve", "--port", str(opts.port)),
            opts.log_dir / "api.log",
        ),
    ]
    schedule = schedule_for(opts)
    failures = 0
    try:
        if opts.simulate:
            now = event_time(opts.start, opts.world)
            stats = replay(
                opts.world, kafka_bootstrap(), topic=topic, until_ms=now, progress=False
            )
            console.print(
                f"replayed {stats.events:,} events before the simulated start"
            )
        else:
            now = int(time.time() * 1000)
        start = now
        while opts.max_days is None or now - start < opts.max_days * DAY_MS:
            for p in procs:
                if not p.alive():
                    raise RuntimeError(f"{p.log_path} exited:\n{p.tail(20)}")
            for job in schedule.due(now):
                if job != "content":
                    _settle()
                label = time.strftime("%Y-%m-%d %H:%M", time.gmtime(now / 1000))
                console.print(f"[cyan]{label}[/] {job}: training with cut-off {now}")
                log = opts.log_dir / f"{job}-{now}.log"
                if run_job(job_command(job, opts.world, now, opts), log):
                    schedule = schedule.ran(job, now)
                else:
                    failures += 1
                    break  # later jobs depend on this one; retry next tick
            time.sleep(opts.tick_s)
            if opts.simulate:  # each tick moves the clock; training pauses it
                step = int(opts.tick_s / 60.0 * opts.days_per_minute * DAY_MS)
                if now <= manifest.end_ms:
                    replay(
                        opts.world,
                        kafka_bootstrap(),
                        topic=topic,
                        since_ms=now,
                        until_ms=now + step,
                        progress=False,
                    )
                now += step
            else:
                now = int(time.time() * 1000)
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(procs):
            p.stop()
    console.print(f"stopped; {failures} failed training runs")
    return 0 if failures == 0 else 1


def _settle() -> None:
    """Before a training run: the worker consumed everything produced so far, and its
    offline parts are flushed (every offline_flush_interval_s)."""
    from infra.processes import wait_for
    from infra.topics import group_progress
    from stream_processors.config import StreamConfig

    cfg = StreamConfig.from_env()
    topics = [cfg.interactions_topic, cfg.pairs_topic]

    def caught_up() -> bool:
        got = group_progress(cfg.app_id, topics)
        return all(done >= end for done, end in got.values())

    wait_for(caught_up, 600, 1.0, "the stream worker to catch up")
    time.sleep(cfg.offline_flush_interval_s + 1.0)
