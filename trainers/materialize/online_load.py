"""Load views' online rows in a background thread while DuckDB computes the next views.

The online load is single-threaded Python and SQLite (Feast's one row per feature); the
SQL steps are DuckDB's, which releases the GIL while it runs. So as soon as a view's last
versions exist, the main thread reads them (in Feast's key order) and hands the Arrow
table to one writer thread, then goes on with the next SQL step: the two overlap on
separate cores. One writer, views in the order they were handed over, each view's load
inside `OnlineWriter.bulk_load`. An error in the thread is raised again by the next
`check` or `put` (so a failed load stops the SQL at its next view) and by `finish`.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from trainers.materialize.write import ONLINE_CHUNK, stamped

_DONE = None


class BackgroundOnlineLoad:
    """One thread that writes handed-over views through an OnlineWriter, in order."""

    def __init__(
        self, writer: Any, schemas: dict[str, pa.Schema], progress: bool = False
    ) -> None:
        self.writer, self.schemas, self.progress = writer, schemas, progress
        self.rows: dict[str, int] = {}
        """Online rows written per view."""
        self.seconds: dict[str, float] = {}
        """Seconds the thread spent writing each view."""
        self._jobs: queue.Queue[tuple[str, pa.Table] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name="online-load", daemon=True
        )
        self._thread.start()

    @property
    def failed(self) -> bool:
        """True once the thread has failed (it writes nothing more)."""
        return self._error is not None

    def check(self) -> None:
        """Raise the thread's error now, if it has failed."""
        if self._error is not None:
            raise self._error

    def put(self, view: str, table: pa.Table) -> None:
        """Queue a view's last versions (join key, columns, ts; in key order).

        Raises the thread's error instead if an earlier view's load failed.
        """
        self.check()
        self._jobs.put((view, table))

    def finish(self) -> None:
        """Wait for every queued view to be written; raise the thread's error, if any."""
        self._jobs.put(_DONE)
        self._thread.join()
        self.check()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not _DONE:
            if self._error is not None:
                continue  # drain: a failed load writes nothing more
            view, table = job
            try:
                self._load(view, table)
            except BaseException as exc:  # noqa: BLE001 - re-raised by finish()
                self._error = exc

    def _load(self, view: str, table: pa.Table) -> None:
        t0 = time.perf_counter()
        schema = self.schemas[view]
        with (
            tqdm(
                total=table.num_rows,
                desc=f"online {view}",
                unit="rows",
                disable=not self.progress,
                leave=False,
            ) as bar,
            self.writer.bulk_load(view),
        ):
            for batch in table.to_batches(ONLINE_CHUNK):
                self.writer.write_table(view, stamped(batch, schema))
                bar.update(batch.num_rows)
        self.rows[view] = table.num_rows
        self.seconds[view] = round(time.perf_counter() - t0, 3)
