"""`python -m stream_processors`: run one stream worker with the environment's configuration."""

from colisten.lean import block_torch

block_torch()  # before Feast is imported, also in the spawned store writer (re-imports this)

from stream_processors.malloc_tuning import arrow_on_system_malloc  # noqa: E402

arrow_on_system_malloc()  # before pyarrow is imported

from stream_processors.app import run_worker  # noqa: E402

if __name__ == "__main__":
    run_worker()
