"""The entry point: materialize a world's stream-fed views and user_profile into a store.

`materialize(world, store_cfg, cutoff_ms)` reads the event log with DuckDB, runs the SQL of
plan.build_views, writes every version offline and the last one online, and reports
what it did, with a progress bar over its steps. Each view's online rows load in a
background thread (online_load.py) while the SQL of the later views runs.
"""

from __future__ import annotations

import resource
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from tqdm import tqdm

from colisten.settings import DEFAULT_PARTITIONS
from colisten.world import format as fmt
from trainers.materialize import write
from trainers.materialize.online_load import BackgroundOnlineLoad
from trainers.materialize.plan import Built, MaterializeConfig, build_views
from trainers.materialize.profile import profile_rows

if TYPE_CHECKING:
    from feature_repo.config import FeatureStoreConfig

STEPS = (
    "check events",
    "users",
    "co-listens",
    "edges",
    "popularity",
    "user rows",
    "write offline",
    "write online",
)
"""The steps' names; "write online" is the wait for the loads still running then."""


@dataclass
class MaterializeStats:
    """What a materialization read, dropped, wrote, and how long each step took."""

    events: int = 0
    """Events folded (before the cut-off, accepted, distinct ids)."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Events the contract rejects (the stream dead-letters them), by reason."""
    duplicates: int = 0
    colistens: int = 0
    rows_offline: dict[str, int] = field(default_factory=dict)
    rows_online: dict[str, int] = field(default_factory=dict)
    offline_bytes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    online_seconds: dict[str, float] = field(default_factory=dict)
    """Seconds the background thread spent loading each view's online rows."""
    peak_rss_mib: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return asdict(self)


def connect(threads: int | None = None, memory_limit: str | None = None) -> Any:
    """A DuckDB connection for materializing (spills to a temp dir past memory_limit)."""
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/colisten-duckdb'")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def events_view(con: Any, world_dir: Path, name: str = "m_raw") -> str:
    """A view over the world's event log (every parquet part)."""
    glob = str(Path(world_dir) / fmt.EVENTS_DIR / "*.parquet")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {name} AS "
        f"SELECT * FROM read_parquet('{glob}', union_by_name = true)"
    )
    return name


def materialize(
    world_dir: Path,
    store_cfg: FeatureStoreConfig,
    cutoff_ms: int,
    partitions: int = DEFAULT_PARTITIONS,
    cap: int = 50,
    window_ms: int | None = None,
    recent_items: str = "labels",
    progress: bool = True,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> MaterializeStats:
    """Fill the four stream views and user_profile from events with ts < cutoff_ms."""
    from feature_repo.batch_views import ARROW_SCHEMAS, USER_PROFILE
    from feature_repo.definitions import OFFLINE_SCHEMAS, PUSH_FED_LAYOUTS
    from feature_repo.offline import write_offline_part
    from feature_repo.online_write import OnlineWriter
    from feature_repo.sources import offline_path
    from feature_repo.store import apply_definitions, open_store

    t0 = time.perf_counter()
    cfg = MaterializeConfig(
        partitions=partitions,
        cap=cap,
        recent_items=recent_items,  # type: ignore[arg-type]
        **({"window_ms": window_ms} if window_ms is not None else {}),
    )
    stats = MaterializeStats()
    bar = tqdm(total=len(STEPS), desc="materialize", disable=not progress)
    last = {"name": "", "t": time.perf_counter()}

    def step(name: str) -> None:
        now = time.perf_counter()
        if last["name"]:
            stats.step_seconds[last["name"]] = round(now - last["t"], 3)
            bar.update(1)
        last.update(name=name, t=now)
        bar.set_postfix_str(name)

    store = open_store(store_cfg)
    apply_definitions(store, store_cfg)
    manifest = fmt.WorldManifest.read(world_dir)
    profiles = profile_rows(fmt.read_users(world_dir), manifest.start_ms)
    write_offline_part(
        USER_PROFILE, profiles, ARROW_SCHEMAS[USER_PROFILE], "users", store_cfg.data_dir
    )
    store.write_to_online_store(USER_PROFILE, profiles)

    con = connect(threads, memory_limit)
    load = BackgroundOnlineLoad(
        OnlineWriter(store, PUSH_FED_LAYOUTS), OFFLINE_SCHEMAS, progress
    )

    def load_online(view: str, online: str) -> None:
        load.check()  # a failed load stops the run here, before more SQL
        key = load.writer.layouts[view].join_key
        load.put(view, write.online_rows(con, online, key))

    try:
        built: Built = build_views(
            con, events_view(con, world_dir), cutoff_ms, cfg, step, on_ready=load_online
        )
        stats.events, stats.rejected = built.events, built.rejected
        stats.duplicates, stats.colistens = built.duplicates, built.colistens

        step("write offline")
        for view, table in built.offline.items():
            rows, size = write.write_offline(
                con,
                table,
                OFFLINE_SCHEMAS[view],
                offline_path(view, store_cfg.data_dir),
            )
            stats.rows_offline[view], stats.offline_bytes[view] = rows, size
        step("write online")
    finally:
        load.finish()
    stats.rows_online = dict(load.rows)
    stats.online_seconds = dict(load.seconds)
    step("")
    bar.close()
    con.close()
    stats.seconds = round(time.perf_counter() - t0, 3)
    stats.peak_rss_mib = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    return stats
