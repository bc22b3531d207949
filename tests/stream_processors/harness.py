"""A real stream worker on fresh topics and a fresh Feast store, for integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from feast import FeatureStore

from feature_repo.config import FeatureStoreConfig
from feature_repo.store import apply_definitions, open_store
from infra.processes import ManagedProcess
from infra.topics import group_progress


@dataclass
class WorkerRig:
    """Topics, store and worker processes of one isolated stream pipeline."""

    interactions: str
    dlq: str
    pairs: str
    store_cfg: FeatureStoreConfig
    tmp: Path
    partitions: int = 4
    table_store: str = "memory://"
    app_id: str = field(default_factory=lambda: f"colisten-test-{uuid.uuid4().hex[:8]}")
    workers: list[ManagedProcess] = field(default_factory=list)
    retired: list[ManagedProcess] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        make_topic: Callable[..., str],
        store_cfg: FeatureStoreConfig,
        tmp: Path,
        partitions: int = 4,
        table_store: str = "memory://",
    ) -> WorkerRig:
        """Fresh topics and an applied store; `table_store` is the worker's table store."""
        rig = cls(
            make_topic("in", partitions),
            make_topic("dlq", 1),
            make_topic("pairs", partitions),
            store_cfg,
            tmp,
            partitions,
            table_store,
        )
        apply_definitions(open_store(store_cfg), store_cfg)
        return rig

    def env(self) -> dict[str, str]:
        """The environment a worker of this rig runs with."""
        env = {
            "COLISTEN_FEAST_DIR": str(self.store_cfg.data_dir),
            "COLISTEN_ONLINE_STORE": self.store_cfg.online,
            "COLISTEN_REDIS_URL": self.store_cfg.redis_connection,
            "COLISTEN_STREAM_APP_ID": self.app_id,
            "COLISTEN_STREAM_INTERACTIONS_TOPIC": self.interactions,
            "COLISTEN_STREAM_DLQ_TOPIC": self.dlq,
            "COLISTEN_STREAM_PAIRS_TOPIC": self.pairs,
            "COLISTEN_STREAM_PARTITIONS": str(self.partitions),
            "COLISTEN_STREAM_STORE": self.table_store,
            "COLISTEN_STREAM_LOGLEVEL": "info",
        }
        return env

    def start(self, name: str = "w", **extra_env: str) -> ManagedProcess:
        """Start one more worker process."""
        log = self.tmp / f"{name}-{len(self.workers)}.log"
        env = {
            **self.env(),
            "COLISTEN_STREAM_DATA_DIR": str(self.tmp / f"data-{name}"),
            **extra_env,
        }
        worker = ManagedProcess.python_module("stream_processors", log, env=env)
        self.workers.append(worker)
        return worker

    def retire(self, worker: ManagedProcess) -> int:
        """Stop one worker cleanly (it leaves the group); return its exit code."""
        code = worker.stop()
        self.workers.remove(worker)
        self.retired.append(worker)
        return code

    def store(self) -> FeatureStore:
        """A client of the rig's feature store."""
        return open_store(self.store_cfg)

    def assert_alive(self) -> None:
        """Fail fast, with the log, if a worker died."""
        for worker in self.workers:
            if not worker.alive() and worker.proc.returncode not in (None, -9):
                raise AssertionError(
                    f"worker exited {worker.proc.returncode}:\n{worker.tail(40)}"
                )

    def tails(self, n: int = 40) -> str:
        """The last lines of every worker's log (appended to timeouts)."""
        return "\n".join(
            f"--- {w.log_path.name} (exit {w.proc.returncode}) ---\n{w.tail(n)}"
            for w in [*self.retired, *self.workers]
        )

    def progress(self) -> str:
        """The group's committed offsets against the end offsets, per source topic."""
        try:
            got = group_progress(self.app_id, [self.interactions, self.pairs])
        except Exception as exc:  # noqa: BLE001 - evidence only; never mask the failure
            return f"group offsets unavailable: {exc!r}"
        return "group offsets (committed/end): " + ", ".join(
            f"{topic} {done}/{end}" for topic, (done, end) in got.items()
        )

    def stop_all(self) -> None:
        """Stop every worker of the rig."""
        for worker in self.workers:
            worker.stop()
