"""`python -m stream_processors`: run one stream worker with the environment's configuration."""

from stream_processors.app import run_worker

if __name__ == "__main__":
    run_worker()
